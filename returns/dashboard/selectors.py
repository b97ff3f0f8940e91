"""What the returns dashboard reads, every query scoped to the staff member's current shop
(`orders.tenancy.scoped`): a return, item or product of another shop is a 404 or absent."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    Field,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from orders.models import Order, Product, Shop
from orders.tenancy import scoped
from returns.models import (
    RETURN_TRANSITIONS,
    ReturnEvent,
    ReturnItem,
    ReturnPolicy,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)

CUSTOMER_HISTORY_LIMIT = 10


def _shop_day_start(shop: Shop, day: date) -> datetime:
    """Midnight of `day` in the shop's zone: staff pick dates as they live them, not in UTC."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(shop.timezone))


def _item_sums(field: str, output: Field) -> Coalesce:
    # A correlated subquery rather than a JOIN + GROUP BY keeps the pagination count free of
    # the item join and only sums the rows of the page shown.
    return Coalesce(
        Subquery(
            ReturnItem.objects.filter(return_request=OuterRef("pk"))
            .values("return_request")
            .annotate(total=Sum(field))
            .values("total"),
            output_field=output,
        ),
        0,
        output_field=output,
    )


def return_list_for_shop(
    *,
    shop: Shop,
    query: str = "",
    status: str = "",
    reason_id: int | None = None,
    product_id: int | None = None,
    resolution: str = "",
    created_from: date | None = None,
    created_to: date | None = None,
) -> QuerySet[ReturnRequest]:
    """The shop's returns, newest first, each with its order, customer, `unit_count` and
    `value_total`. Item filters use EXISTS, so a return with two matching items shows once.
    Dates are whole days in the shop's time zone, both ends included."""
    money = DecimalField(max_digits=12, decimal_places=2)
    returns = (
        scoped(ReturnRequest, shop)
        .select_related("order", "customer")
        .annotate(
            unit_count=_item_sums("quantity", IntegerField()),
            value_total=_item_sums("value", money),
        )
        .order_by("-created_at", "-pk")
    )
    query = query.strip()
    # An RMA or an order number, in any case, with or without a leading '#'.
    bare = query.removeprefix("#").strip()
    if bare:
        # The orders first, by their own index (UPPER(number)): an OR across the join would
        # read every order of the shop; ids in hand, both arms use an index (a bitmap OR).
        numbered = scoped(Order, shop).filter(Q(number__iexact=bare) | Q(number__iexact=f"#{bare}"))
        order_ids = list(numbered.values_list("pk", flat=True))
        returns = returns.filter(Q(rma__iexact=bare) | Q(order_id__in=order_ids))
    if status:
        returns = returns.filter(status=status)
    item_filter = Q()
    if reason_id:
        item_filter &= Q(reason_id=reason_id)
    if product_id:
        item_filter &= Q(line_item__product_id=product_id)
    if resolution:
        item_filter &= Q(resolution=resolution)
    if item_filter:
        returns = returns.filter(
            Exists(ReturnItem.objects.filter(item_filter, return_request=OuterRef("pk")))
        )
    if created_from is not None:
        returns = returns.filter(created_at__gte=_shop_day_start(shop, created_from))
    if created_to is not None:
        returns = returns.filter(
            created_at__lt=_shop_day_start(shop, created_to + timedelta(days=1))
        )
    return returns


def return_status_counts(*, returns: QuerySet[ReturnRequest]) -> dict[str, int]:
    """How many of `returns` are in each status (every status present, zero or not)."""
    rows = returns.order_by().values("status").annotate(n=Count("pk"))
    counts = dict.fromkeys(ReturnStatus.values, 0)
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def return_get_for_shop(*, shop: Shop, return_id: int) -> ReturnRequest:
    """One return of the shop with its items (photos deferred) and history; 404 otherwise."""
    items = (
        ReturnItem.objects.select_related(
            "line_item__product", "line_item__variant", "reason", "exchange_variant__product"
        )
        .defer("photo")
        .annotate(has_photo=Q(photo__isnull=False))
        .order_by("pk")
    )
    returns = (
        scoped(ReturnRequest, shop)
        .select_related("order", "customer", "exchange_order")
        .prefetch_related(
            Prefetch("items", queryset=items),
            Prefetch("events", queryset=ReturnEvent.objects.select_related("actor")),
        )
    )
    return get_object_or_404(returns, pk=return_id)


def return_item_photo_get_for_shop(*, shop: Shop, return_id: int, item_id: int) -> ReturnItem:
    """An item's photo bytes; 404 for another shop's return or an item without a photo."""
    return get_object_or_404(
        ReturnItem.objects.filter(
            return_request__shop=shop, return_request_id=return_id, photo__isnull=False
        ).only("pk", "photo", "photo_content_type"),
        pk=item_id,
    )


@dataclass(frozen=True)
class CustomerHistory:
    other_returns: list[ReturnRequest]
    return_count: int
    order_count: int


def customer_history(*, return_request: ReturnRequest) -> CustomerHistory | None:
    """The customer's other returns (latest few) and how many orders they placed here."""
    customer_id = return_request.customer_id
    if customer_id is None:
        return None
    others = (
        ReturnRequest.objects.filter(shop_id=return_request.shop_id, customer_id=customer_id)
        .exclude(pk=return_request.pk)
        .select_related("order")
    )
    return CustomerHistory(
        other_returns=list(others.order_by("-created_at")[:CUSTOMER_HISTORY_LIMIT]),
        return_count=others.count(),
        order_count=Order.objects.filter(
            shop_id=return_request.shop_id, customer_id=customer_id
        ).count(),
    )


# Which dashboard action leads to which status; the page offers those the table allows.
ACTION_TARGETS: dict[str, str] = {
    "approve": ReturnStatus.APPROVED,
    "reject": ReturnStatus.REJECTED,
    "in-transit": ReturnStatus.IN_TRANSIT,
    "receive": ReturnStatus.RECEIVED,
    "inspect": ReturnStatus.INSPECTED,
    "resolve": ReturnStatus.RESOLVED,
}


def return_actions(*, return_request: ReturnRequest) -> list[str]:
    """The staff actions valid from the return's status. A kept item never travels, so it goes
    from approval straight to resolution; a shipped one is received and inspected first."""
    allowed = RETURN_TRANSITIONS.get(return_request.status, set())
    kept = return_request.keeps_item
    actions = []
    for action, target in ACTION_TARGETS.items():
        if target not in allowed:
            continue
        if kept and action in ("in-transit", "receive"):
            continue
        if action == "resolve" and not return_request.can_resolve:
            continue
        actions.append(action)
    return actions


def reason_list_for_shop(*, shop: Shop) -> QuerySet[ReturnReason]:
    return scoped(ReturnReason, shop).order_by("position", "pk")


def returned_product_list_for_shop(*, shop: Shop) -> QuerySet[Product]:
    """The shop's products that were ever returned: the queue's product filter offers only
    those, so the list stays short however large the catalogue."""
    returned = ReturnItem.objects.filter(
        return_request__shop=shop, line_item__product_id=OuterRef("pk")
    )
    return scoped(Product, shop).filter(Exists(returned)).order_by("title", "pk")


@dataclass(frozen=True)
class OrderReturns:
    """What the order page shows of returns: the order's own (with their items and exchange
    orders) and, when the order is an exchange, the return it replaces items of."""

    returns: list[ReturnRequest]
    replaces: ReturnRequest | None


def order_returns(*, order: Order) -> OrderReturns:
    """The order's returns, oldest first, and the return this order is the exchange for (with
    its original order). Three queries however many returns and items."""
    items = ReturnItem.objects.select_related("line_item").defer("photo").order_by("pk")
    returns = (
        scoped(ReturnRequest, order.shop)
        .filter(order=order)
        .select_related("exchange_order")
        .prefetch_related(Prefetch("items", queryset=items))
        .order_by("created_at", "pk")
    )
    replaces = (
        scoped(ReturnRequest, order.shop)
        .filter(exchange_order=order)
        .select_related("order")
        .order_by("-created_at", "-pk")
        .first()
    )
    return OrderReturns(returns=list(returns), replaces=replaces)


def order_returns_panel(order: Order) -> dict[str, OrderReturns]:
    """The order page's returns section (registered in `ReturnsConfig.ready`)."""
    return {"order_returns": order_returns(order=order)}


def return_address_section(shop: Shop) -> dict[str, str]:
    """The settings area's profile tab shows the return address (read only: a shop without a
    policy yet has none, and gets one when it is first saved)."""
    address = (
        ReturnPolicy.objects.filter(shop=shop).values_list("return_address", flat=True).first()
    )
    return {"address": address or ""}
