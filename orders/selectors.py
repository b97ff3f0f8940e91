"""Every read the merchant dashboard makes, already scoped to the staff member's shop.

Each selector takes the shop and starts from `orders.tenancy.scoped`, so a row of another shop
can never reach a page: a lookup by id is a 404, a list simply does not contain it.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models import Value as V
from django.db.models.functions import Coalesce, Concat
from django.shortcuts import get_object_or_404
from django.utils import timezone

from orders.models import (
    Channel,
    Customer,
    LineItem,
    Order,
    OrderEvent,
    OrderStatus,
    Shipment,
    ShipmentStatus,
    Shop,
    TrackingEvent,
)
from orders.tenancy import scoped

OVERVIEW_WINDOW = timedelta(days=30)


def _shop_day_start(shop: Shop, day: date) -> datetime:
    """Midnight of `day` in the shop's zone: staff pick dates as they live them, not in UTC."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(shop.timezone))


def _order_search(query: str) -> Q:
    """Order number (with or without its '#'), email, or customer or recipient name."""
    bare = query.removeprefix("#").strip()
    condition = (
        Q(email__icontains=query)
        | Q(customer__email__icontains=query)
        | Q(customer_name__icontains=query)
        | Q(shipping_name__icontains=query)
    )
    if bare:
        condition |= Q(number__iexact=bare) | Q(number__iexact=f"#{bare}")
    return condition


def order_list_for_shop(
    *,
    shop: Shop,
    query: str = "",
    status: str = "",
    placed_from: date | None = None,
    placed_to: date | None = None,
) -> QuerySet[Order]:
    """The shop's orders, newest first, each with its customer and `item_count` (units).

    Dates are whole days in the shop's time zone, both ends included."""
    # A correlated subquery rather than a JOIN + GROUP BY keeps the count query (pagination)
    # free of the line-item join and only sums the rows of the page shown.
    units = (
        LineItem.objects.filter(order=OuterRef("pk"))
        .values("order")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    orders = (
        scoped(Order, shop)
        .select_related("customer")
        .annotate(item_count=Coalesce(Subquery(units, output_field=IntegerField()), 0))
        .order_by("-placed_at", "-pk")
    )
    query = query.strip()
    if query:
        orders = orders.annotate(
            customer_name=Concat("customer__first_name", V(" "), "customer__last_name")
        ).filter(_order_search(query))
    if status:
        orders = orders.filter(status=status)
    if placed_from is not None:
        orders = orders.filter(placed_at__gte=_shop_day_start(shop, placed_from))
    if placed_to is not None:
        orders = orders.filter(placed_at__lt=_shop_day_start(shop, placed_to + timedelta(days=1)))
    return orders


def order_get_for_shop(*, shop: Shop, order_id: int) -> Order:
    """One order of the shop with everything its page shows; 404 for any other shop's order."""
    orders = (
        scoped(Order, shop)
        .select_related("shop", "customer")
        .prefetch_related(
            Prefetch("line_items", queryset=LineItem.objects.order_by("pk")),
            Prefetch("shipments", queryset=Shipment.objects.order_by("created_at", "pk")),
            "customer__consents",
        )
    )
    return get_object_or_404(orders, pk=order_id)


@dataclass(frozen=True)
class ConsentRow:
    channel: str
    status: str
    changed_at: datetime | None
    source: str


def customer_consents(*, customer: Customer) -> list[ConsentRow]:
    """Consent for every channel, 'not given' where nothing was ever recorded.

    Reads `customer.consents.all()`, which `order_get_for_shop` prefetches."""
    recorded = {consent.channel: consent for consent in customer.consents.all()}
    rows = []
    for value, label in Channel.choices:
        consent = recorded.get(value)
        if consent is None:
            rows.append(ConsentRow(label, "Not given", None, ""))
        else:
            rows.append(
                ConsentRow(label, consent.get_status_display(), consent.changed_at, consent.source)
            )
    return rows


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    title: str
    detail: str
    actor: str


def _status_label(choices: type[OrderStatus] | type[ShipmentStatus], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


_EVENT_TITLES = {
    OrderEvent.Kind.CREATED: "Order received",
    OrderEvent.Kind.UPDATED: "Order updated",
    OrderEvent.Kind.PAID: "Payment received",
    OrderEvent.Kind.SHIPMENT_CREATED: "Shipment created",
    OrderEvent.Kind.REDACTED: "Personal data erased",
    OrderEvent.Kind.NOTE: "Note",
}


def _order_event_entry(event: OrderEvent) -> TimelineEntry:
    if event.kind == OrderEvent.Kind.STATUS_CHANGED:
        title = (
            f"Order {_status_label(OrderStatus, event.from_status)} → "
            f"{_status_label(OrderStatus, event.to_status)}"
        )
    elif event.kind == OrderEvent.Kind.SHIPMENT_STATUS:
        tracking = event.data.get("tracking_number") or ""
        title = (
            f"Shipment {tracking} {_status_label(ShipmentStatus, event.from_status)} → "
            f"{_status_label(ShipmentStatus, event.to_status)}"
        ).replace("  ", " ")
    else:
        title = _EVENT_TITLES.get(event.kind, event.get_kind_display())
    actor = ""
    if event.actor is not None:
        actor = event.actor.get_full_name() or event.actor.get_username()
    return TimelineEntry(event.at, event.kind, title, event.note, actor)


def _tracking_entry(event: TrackingEvent) -> TimelineEntry:
    detail = " · ".join(part for part in (event.description, event.location) if part)
    # The shipment stands as the actor: the carrier reported this scan, not a person.
    return TimelineEntry(
        event.occurred_at, "tracking", event.get_status_display(), detail, str(event.shipment)
    )


def order_timeline(*, order: Order) -> list[TimelineEntry]:
    """The order's own events and its shipments' carrier scans, oldest first."""
    order_events = scoped(OrderEvent, order.shop).filter(order=order).select_related("actor")
    scans = (
        scoped(TrackingEvent, order.shop).filter(shipment__order=order).select_related("shipment")
    )
    # At equal times the order's own fact reads first (e.g. "shipment created" before its scan).
    keyed = [((event.at, 0, event.pk), _order_event_entry(event)) for event in order_events]
    keyed += [((scan.occurred_at, 1, scan.pk), _tracking_entry(scan)) for scan in scans]
    return [entry for _, entry in sorted(keyed, key=lambda pair: pair[0])]


@dataclass(frozen=True)
class ShopOverview:
    orders_last_30_days: int
    revenue_last_30_days: list[tuple[str, Decimal]]
    orders_in_transit: int
    shipments_in_exception: int
    delivered_last_30_days: int


def shop_overview(*, shop: Shop) -> ShopOverview:
    """The headline numbers of the last 30 days. Revenue leaves out cancelled orders and is
    summed per currency, since a shop may sell in several."""
    since = timezone.now() - OVERVIEW_WINDOW
    orders = scoped(Order, shop)
    counts = orders.aggregate(
        placed=Count("pk", filter=Q(placed_at__gte=since)),
        in_transit=Count("pk", filter=Q(status=OrderStatus.SHIPPED)),
        delivered=Count("pk", filter=Q(delivered_at__gte=since)),
    )
    revenue = (
        orders.filter(placed_at__gte=since)
        .exclude(status=OrderStatus.CANCELLED)
        .values("currency")
        .annotate(amount=Sum("total"))
        .order_by("currency")
    )
    exceptions = scoped(Shipment, shop).filter(status=ShipmentStatus.EXCEPTION).count()
    return ShopOverview(
        orders_last_30_days=counts["placed"],
        revenue_last_30_days=[(row["currency"], row["amount"]) for row in revenue],
        orders_in_transit=counts["in_transit"],
        shipments_in_exception=exceptions,
        delivered_last_30_days=counts["delivered"],
    )
