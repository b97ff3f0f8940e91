"""Which items of an order the customer may still return, how many, and what for."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from orders.models import LineItem, Order, ShipmentStatus, Variant
from returns.models import HOLDING_STATUSES, ReturnItem, ReturnPolicy
from returns.services.amounts import line_values

NOT_DELIVERED = "not delivered yet"
WINDOW_CLOSED = "return window closed"
FINAL_SALE = "final sale"
ALL_RETURNED = "already returned"


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


def already_returned(order: Order) -> dict[int, int]:
    """line id → units in returns that still hold them (not rejected or cancelled)."""
    rows = (
        ReturnItem.objects.filter(
            return_request__order=order, return_request__status__in=HOLDING_STATUSES
        )
        .values("line_item_id")
        .annotate(units=Sum("quantity"))
    )
    return {row["line_item_id"]: row["units"] for row in rows}


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
    returned = already_returned(order)
    variants = _exchange_variants(lines)
    final_products = set(policy.non_returnable_products.values_list("pk", flat=True))
    final_variants = set(policy.non_returnable_variants.values_list("pk", flat=True))
    window = timedelta(days=order.shop.return_window_days)
    result = []
    for line in lines:
        units, at = delivered.get(line.pk, (0, None))
        left = max(units - returned.get(line.pk, 0), 0)
        if line.product_id in final_products or line.variant_id in final_variants:
            blocked = FINAL_SALE
        elif not units:
            blocked = NOT_DELIVERED
        elif at is not None and now > at + window:
            blocked = WINDOW_CLOSED
        elif not left:
            blocked = ALL_RETURNED
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
