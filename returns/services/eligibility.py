"""Which items of an order the customer may still return, how many, and what for."""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from orders.models import LineItem, Order, ShipmentStatus, Variant
from returns.models import (
    HOLDING_STATUSES,
    OPEN_STATUSES,
    Resolution,
    ReturnItem,
    ReturnMethod,
    ReturnPolicy,
)
from returns.services.amounts import line_values, returned_value

NOT_DELIVERED = "not delivered yet"
WINDOW_CLOSED = "return window closed"
FINAL_SALE = "final sale"
ALL_RETURNED = "already returned"
IN_OPEN_RETURN = "in an open return"
NO_RESOLUTION = "nothing on offer for it"
# Exchange first, store credit next, refund last: the order the customer is offered them in.
RESOLUTION_ORDER = (Resolution.EXCHANGE, Resolution.STORE_CREDIT, Resolution.REFUND)


@dataclass
class ReturnableLine:
    line: LineItem
    # The whole line's value after discounts, and how many units may still come back.
    value: Decimal
    returnable_quantity: int
    delivered_at: datetime | None
    # Why nothing (more) can be returned, "" when something can.
    blocked_by: str
    exchange_variants: list[Variant] = field(default_factory=list)

    @property
    def is_returnable(self) -> bool:
        return not self.blocked_by and self.returnable_quantity > 0

    def value_of(self, quantity: int) -> Decimal:
        """What `quantity` units of the line are worth when they come back."""
        return returned_value(self.value, self.line.quantity, quantity)


def _delivered(order: Order) -> dict[int, tuple[int, datetime | None]]:
    """line id → (units delivered, when). A delivered order counts whole; otherwise what its
    delivered parcels carried (a parcel without an item list carries every line)."""
    lines = list(order.line_items.all())
    if order.is_delivered:
        return {line.pk: (line.quantity, order.delivered_at) for line in lines}
    delivered: dict[int, tuple[int, datetime | None]] = {}
    for shipment in order.shipments.filter(status=ShipmentStatus.DELIVERED).prefetch_related(
        "items"
    ):
        items = list(shipment.items.all())
        if not items:
            return {line.pk: (line.quantity, shipment.delivered_at) for line in lines}
        for item in items:
            count, _at = delivered.get(item.line_item_id, (0, None))
            delivered[item.line_item_id] = (count + item.quantity, shipment.delivered_at)
    return delivered


@dataclass(frozen=True)
class Held:
    """What returns hold of a line: the units, and whether a return still open holds some."""

    units: int = 0
    in_open_return: bool = False


def returns_holding(order: Order) -> dict[int, Held]:
    """line id → what returns that still hold its units (not rejected or cancelled) hold."""
    rows = (
        ReturnItem.objects.filter(
            return_request__order=order, return_request__status__in=HOLDING_STATUSES
        )
        .values("line_item_id", "return_request__status")
        .annotate(units=Sum("quantity"))
    )
    held: dict[int, Held] = {}
    for row in rows:
        before = held.get(row["line_item_id"], Held())
        held[row["line_item_id"]] = Held(
            units=before.units + row["units"],
            in_open_return=before.in_open_return or row["return_request__status"] in OPEN_STATUSES,
        )
    return held


def resolutions_for(policy: ReturnPolicy, exchange_variants: list[Variant]) -> list[str]:
    """What the policy offers instead of an item, in the order offered: an exchange only when
    another variant is in stock."""
    offered = {
        Resolution.EXCHANGE: policy.offers_exchange and bool(exchange_variants),
        Resolution.STORE_CREDIT: policy.offers_store_credit,
        Resolution.REFUND: policy.offers_refund,
    }
    return [resolution.value for resolution in RESOLUTION_ORDER if offered[resolution]]


def keep_item_limit(policy: ReturnPolicy) -> Decimal | None:
    """The most an item may be worth for the customer to keep it; None when the policy lets
    no item be kept (the method not offered, or a limit of 0)."""
    if ReturnMethod.KEEP_ITEM not in policy.methods or policy.keep_item_max_value <= 0:
        return None
    return policy.keep_item_max_value


def return_methods_for(
    policy: ReturnPolicy, lines: list[ReturnableLine], chosen: Mapping[int, int]
) -> list[str]:
    """The policy's return methods that fit the items: keeping them only when each chosen
    item (line id → units) is worth at most the policy's limit. Before anything is chosen,
    keeping is offered when one unit of some returnable line may be kept."""
    limit = keep_item_limit(policy)
    entries = {entry.line.pk: entry for entry in lines if entry.is_returnable}
    if limit is None:
        may_keep = False
    elif chosen := {pk: n for pk, n in chosen.items() if n > 0 and pk in entries}:
        may_keep = all(entries[pk].value_of(units) <= limit for pk, units in chosen.items())
    else:
        may_keep = any(entry.value_of(1) <= limit for entry in entries.values())
    return [method for method in policy.methods if method != ReturnMethod.KEEP_ITEM or may_keep]


def _exchange_variants(lines: list[LineItem]) -> dict[int, list[Variant]]:
    """Other variants of each line's product that the shop has in stock (untracked stock
    counts as available)."""
    product_ids = {line.product_id for line in lines if line.product_id}
    by_product: dict[int, list[Variant]] = defaultdict(list)
    for variant in Variant.objects.filter(product_id__in=product_ids).order_by("pk"):
        if variant.inventory_quantity is None or variant.inventory_quantity > 0:
            by_product[variant.product_id].append(variant)
    return {
        line.pk: [v for v in by_product[line.product_id] if v.pk != line.variant_id]
        if line.product_id
        else []
        for line in lines
    }


def returnable_lines(
    order: Order, policy: ReturnPolicy, now: datetime | None = None
) -> list[ReturnableLine]:
    now = now or timezone.now()
    lines = list(order.line_items.select_related("product", "variant").order_by("pk"))
    values = line_values(order, lines)
    delivered = _delivered(order)
    held = returns_holding(order)
    variants = _exchange_variants(lines)
    final_products = set(policy.non_returnable_products.values_list("pk", flat=True))
    final_variants = set(policy.non_returnable_variants.values_list("pk", flat=True))
    window = timedelta(days=order.shop.return_window_days)
    result = []
    for line in lines:
        units, at = delivered.get(line.pk, (0, None))
        holding = held.get(line.pk, Held())
        left = max(units - holding.units, 0)
        if line.product_id in final_products or line.variant_id in final_variants:
            blocked = FINAL_SALE
        elif not units:
            blocked = NOT_DELIVERED
        elif at is not None and now > at + window:
            blocked = WINDOW_CLOSED
        elif not left:
            blocked = IN_OPEN_RETURN if holding.in_open_return else ALL_RETURNED
        elif not resolutions_for(policy, variants.get(line.pk, [])):
            blocked = NO_RESOLUTION
        else:
            blocked = ""
        result.append(
            ReturnableLine(
                line=line,
                value=values[line.pk],
                returnable_quantity=0 if blocked else left,
                delivered_at=at,
                blocked_by=blocked,
                exchange_variants=variants.get(line.pk, []),
            )
        )
    return result
