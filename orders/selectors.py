"""Every read the merchant dashboard makes, already scoped to the staff member's shop.

Each selector takes the shop and starts from `orders.tenancy.scoped`, so a row of another shop
can never reach a page: a lookup by id is a 404, a list simply does not contain it.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import redis
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import (
    Aggregate,
    Count,
    DecimalField,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models import Value as V
from django.db.models.functions import Coalesce, Concat, TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone

from orders.models import (
    REVERSED_FINANCIAL_STATUSES,
    Channel,
    Customer,
    FinancialStatus,
    LineItem,
    Order,
    OrderEvent,
    OrderStatus,
    ProblemKind,
    ProblemReport,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
    Shop,
    TrackingEvent,
)
from orders.services.customers import phone_to_e164
from orders.tenancy import scoped
from postpurchase.redis import redis_client

logger = logging.getLogger(__name__)

OVERVIEW_WINDOW = timedelta(days=30)


def _shop_day_start(shop: Shop, day: date) -> datetime:
    """Midnight of `day` in the shop's zone: staff pick dates as they live them, not in UTC."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(shop.timezone))


def _order_search(query: str, *, phone_region: str | None) -> Q:
    """Order number (any case, with or without its '#'), email, customer or recipient name, or
    the phone number of the order or its customer as staff type it (spaces, dashes, without
    the country code in the shop's country)."""
    bare = query.removeprefix("#").strip()
    condition = (
        Q(email__icontains=query)
        | Q(customer__email__icontains=query)
        | Q(customer_name__icontains=query)
        | Q(shipping_name__icontains=query)
    )
    if bare:
        condition |= Q(number__iexact=bare) | Q(number__iexact=f"#{bare}")
    # Phones are stored in E.164 (`customer_upsert`): normalised alike, a match is equality.
    phone = phone_to_e164(query, default_region=phone_region)
    if phone:
        condition |= Q(phone=phone) | Q(customer__phone=phone)
    return condition


def order_list_for_shop(
    *,
    shop: Shop,
    query: str = "",
    status: str = "",
    shipment_status: str = "",
    placed_from: date | None = None,
    placed_to: date | None = None,
    delivered_from: date | None = None,
    delivered_to: date | None = None,
) -> QuerySet[Order]:
    """The shop's orders, newest first, each with its customer and `item_count` (units).

    `shipment_status` keeps the orders with at least one parcel in that status. Dates are whole
    days in the shop's time zone, both ends included."""
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
        ).filter(_order_search(query, phone_region=shop.phone_region))
    if status:
        orders = orders.filter(status=status)
    if shipment_status:
        # EXISTS, not a JOIN: an order with two flagged parcels is still one order.
        parcels = Shipment.objects.filter(order=OuterRef("pk"), status=shipment_status)
        orders = orders.filter(Exists(parcels))
    orders = orders.filter(_within_days(shop, "placed_at", placed_from, placed_to))
    return orders.filter(_within_days(shop, "delivered_at", delivered_from, delivered_to))


def _within_days(shop: Shop, field: str, start: date | None, end: date | None) -> Q:
    within = Q()
    if start is not None:
        within &= Q(**{f"{field}__gte": _shop_day_start(shop, start)})
    if end is not None:
        within &= Q(**{f"{field}__lt": _shop_day_start(shop, end + timedelta(days=1))})
    return within


def order_get_for_shop(*, shop: Shop, order_id: int) -> Order:
    """One order of the shop with everything its page shows; 404 for any other shop's order."""
    orders = (
        scoped(Order, shop)
        # `tracking_views` (one-to-one, maybe absent) rides along in the same JOIN.
        .select_related("shop", "customer", "tracking_views")
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


def _status_label(
    choices: type[OrderStatus] | type[ShipmentStatus] | type[FinancialStatus], value: str
) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


_EVENT_TITLES: dict[str, str] = {
    OrderEvent.Kind.CREATED: "Order received",
    OrderEvent.Kind.UPDATED: "Order updated",
    OrderEvent.Kind.PAID: "Payment received",
    OrderEvent.Kind.SHIPMENT_CREATED: "Shipment created",
    OrderEvent.Kind.REDACTED: "Personal data erased",
    OrderEvent.Kind.NOTE: "Note",
    OrderEvent.Kind.PROBLEM_REPORTED: "Customer reported a problem",
    OrderEvent.Kind.TRACKING_LINK_RENEWED: "Tracking link regenerated",
}


def _problem_kind_label(value: str) -> str:
    try:
        return str(ProblemKind(value).label)
    except ValueError:
        return value


def _order_event_entry(event: OrderEvent) -> TimelineEntry:
    detail = event.note
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
    elif event.kind == OrderEvent.Kind.PAYMENT_STATUS:
        title = (
            f"Payment {_status_label(FinancialStatus, event.from_status)} → "
            f"{_status_label(FinancialStatus, event.to_status)}"
        )
    elif event.kind == OrderEvent.Kind.REFUNDED:
        amount, currency = event.data.get("amount"), event.data.get("currency") or ""
        title = f"Refund of {amount} {currency}".strip() if amount else "Refund (amount not given)"
    elif event.kind == OrderEvent.Kind.PROBLEM_REPORTED and event.data.get("kind"):
        kind = _problem_kind_label(event.data["kind"])
        title = f"Customer reported a problem: {kind}"
        # The report's note may be just the kind again; the title already says it.
        detail = "" if detail == kind else detail
    else:
        title = _EVENT_TITLES.get(event.kind, event.get_kind_display())
    actor = ""
    if event.actor is not None:
        actor = event.actor.get_full_name() or event.actor.get_username()
    return TimelineEntry(event.at, event.kind, title, detail, actor)


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
class TrackingPageViewsSummary:
    """How often the customer opened their tracking page: the database's figures plus the
    views still waiting in Redis for the next flush (`pending_count` of `view_count`)."""

    view_count: int
    first_viewed_at: datetime | None
    last_viewed_at: datetime | None
    pending_count: int


_VIEWS_TALLY = "pp:track:views:{}"  # the hash `orders.services.page_view_counts` writes


def _pending_views(order_id: int) -> tuple[int, datetime | None, datetime | None]:
    """The tally not yet flushed to the database: (count, first, last). Nothing when Redis does
    not answer: the order page must not fail for a counter."""
    try:
        count, first, last = redis_client().hmget(
            _VIEWS_TALLY.format(order_id), "count", "first", "last"
        )
    except redis.RedisError:
        logger.warning("tracking page views: Redis unavailable, showing stored figures only")
        return 0, None, None

    def moment(raw: bytes | str | None) -> datetime | None:
        return datetime.fromtimestamp(float(raw), tz=UTC) if raw else None

    return int(count or 0), moment(first), moment(last)


def tracking_page_views_for_order(*, order: Order) -> TrackingPageViewsSummary | None:
    """The order's tracking-page views, or None when the customer never opened it.

    Reads `order.tracking_views`, which `order_get_for_shop` selects; one Redis round trip.
    A flush running at the same moment may make one refresh miss or double a few views."""
    try:
        stored = order.tracking_views
    except ObjectDoesNotExist:
        stored = None
    pending, pending_first, pending_last = _pending_views(order.pk)
    count = (stored.view_count if stored else 0) + pending
    if count == 0:
        return None
    firsts = [pending_first] if pending_first else []
    lasts = [pending_last] if pending_last else []
    if stored is not None:
        firsts.append(stored.first_viewed_at)
        lasts.append(stored.last_viewed_at)
    return TrackingPageViewsSummary(
        view_count=count,
        first_viewed_at=min(firsts, default=None),
        last_viewed_at=max(lasts, default=None),
        pending_count=pending,
    )


def problem_report_list_for_order(*, order: Order) -> list[ProblemReport]:
    """The order's reported problems, newest first; one query however many. The photos' bytes
    stay in the database (the page links to each); `has_photo` needs only the content type."""
    reports = (
        scoped(ProblemReport, order.shop)
        .filter(order=order)
        .select_related("resolved_by")
        .defer("photo")
        .order_by("-created_at", "-pk")
    )
    return list(reports)


def problem_report_get_for_shop(
    *, shop: Shop, order_id: int, report_id: int, with_photo: bool = False
) -> ProblemReport:
    """One reported problem of the shop's order; 404 for any other shop's. The photo's bytes
    are read only when asked for."""
    reports = scoped(ProblemReport, shop)
    if not with_photo:
        reports = reports.defer("photo")
    return get_object_or_404(reports, pk=report_id, order_id=order_id)


@dataclass(frozen=True)
class ShopOverview:
    orders_last_30_days: int
    revenue_last_30_days: list[tuple[str, Decimal]]
    orders_in_transit: int
    # Orders, not parcels: the number links to the orders list, which lists each order once.
    orders_with_exception: int
    delivered_last_30_days: int
    # The first of the 30 days, in the shop's zone: the orders list's date filters take days.
    window_start: date
    # The figures of the period with their previous period and daily values (the KPI cards).
    placed: "PeriodSeries"
    delivered: "PeriodSeries"
    revenue: dict[str, "PeriodSeries"]  # by currency


def overview_window_start(*, shop: Shop, now: datetime | None = None) -> date:
    """The first of the overview's 30 days: today and the 29 before it, in the shop's zone, as
    the lists' date filters (whole days) count them, so each number equals its list's count."""
    today = (now or timezone.now()).astimezone(ZoneInfo(shop.timezone)).date()
    return today - (OVERVIEW_WINDOW - timedelta(days=1))


@dataclass(frozen=True)
class PeriodSeries:
    """A figure over the overview's period and the period of the same length before it."""

    current: Decimal | int
    # The same figure over the 30 days before the period: what its change is measured against.
    previous: Decimal | int
    # Its value on each day of the period, oldest first (days without any are zero).
    daily: tuple[Decimal | int, ...]
    days: tuple[date, ...]


def _period_series(
    rows: Iterable[tuple[date, Decimal | int]], *, window_start: date
) -> PeriodSeries:
    days = tuple(window_start + timedelta(days=n) for n in range(OVERVIEW_WINDOW.days))
    per_day: dict[date, Decimal | int] = {}
    current: Decimal | int = 0
    previous: Decimal | int = 0
    for day, value in rows:
        value = value or 0
        if day >= window_start:
            current += value
            per_day[day] = per_day.get(day, 0) + value
        else:
            previous += value
    return PeriodSeries(
        current=current,
        previous=previous,
        daily=tuple(per_day.get(day, 0) for day in days),
        days=days,
    )


def overview_period_series(
    queryset: QuerySet[Any],
    field: str,
    *,
    shop: Shop,
    value: Aggregate | None = None,
    group_by: str = "",
) -> dict[str, PeriodSeries]:
    """A figure of the overview's 30 days (`value` of the rows whose `field`, a moment, falls in
    them; a count by default), with the 30 days before and its daily values: one grouped query,
    by day in the shop's zone (as the lists' date filters count), not one per day.

    Keyed by the `group_by` field's value (the currency of an amount), or by "" without one.
    The period runs open-ended from its first day, as the list its card links to does."""
    window_start = overview_window_start(shop=shop)
    since = _shop_day_start(shop, window_start - OVERVIEW_WINDOW)
    groups = ("day", group_by) if group_by else ("day",)
    rows = (
        queryset.filter(**{f"{field}__gte": since})
        .annotate(day=TruncDate(field, tzinfo=ZoneInfo(shop.timezone)))
        .values(*groups)
        .annotate(value=value if value is not None else Count("pk"))
        .order_by(*groups)
    )
    grouped: dict[str, list[tuple[date, Decimal | int]]] = {}
    for row in rows:
        grouped.setdefault(str(row[group_by]) if group_by else "", []).append(
            (row["day"], row["value"])
        )
    return {
        key: _period_series(values, window_start=window_start) for key, values in grouped.items()
    }


def overview_period_count(queryset: QuerySet[Any], field: str, *, shop: Shop) -> PeriodSeries:
    """The rows of the overview's 30 days by `field`, with the 30 days before and the count per
    day (`overview_period_series`, ungrouped): zeros when there are none."""
    series = overview_period_series(queryset, field, shop=shop)
    return series.get("") or _period_series((), window_start=overview_window_start(shop=shop))


def shop_overview(*, shop: Shop) -> ShopOverview:
    """The headline numbers of the last 30 days (today and the 29 before it, in the shop's
    zone, as the orders list's date filters count them), each with the 30 days before and its
    daily values. Revenue leaves out cancelled orders and those whose payment was voided or
    fully refunded (the shop kept nothing of them), and is summed per currency, since a shop
    may sell in several."""
    window_start = overview_window_start(shop=shop)
    orders = scoped(Order, shop)
    flagged = Shipment.objects.filter(order=OuterRef("pk"), status=ShipmentStatus.EXCEPTION)
    # What is true now has no period: one count of each.
    counts = orders.aggregate(
        in_transit=Count("pk", filter=Q(status=OrderStatus.SHIPPED)),
        exceptions=Count("pk", filter=Q(Exists(flagged))),
    )
    placed = overview_period_count(orders, "placed_at", shop=shop)
    delivered = overview_period_count(orders, "delivered_at", shop=shop)
    kept = orders.exclude(status=OrderStatus.CANCELLED).exclude(
        financial_status__in=REVERSED_FINANCIAL_STATUSES
    )
    revenue = overview_period_series(
        kept, "placed_at", shop=shop, value=Sum("total"), group_by="currency"
    )
    return ShopOverview(
        orders_last_30_days=int(placed.current),
        revenue_last_30_days=[
            (currency, Decimal(series.current))
            for currency, series in sorted(revenue.items())
            if series.current
        ],
        orders_in_transit=counts["in_transit"],
        orders_with_exception=counts["exceptions"],
        delivered_last_30_days=int(delivered.current),
        window_start=window_start,
        placed=placed,
        delivered=delivered,
        revenue=revenue,
    )


def shipment_line_items(*, shipment: Shipment) -> list[LineItem]:
    """The order lines travelling in this parcel. A shipment without an item list carries
    every line no other shipment lists (as `order_deliver_if_complete` reads it too)."""
    listed = ShipmentItem.objects.filter(shipment=shipment).select_related("line_item__product")
    lines = [item.line_item for item in listed]
    if lines:
        return lines
    elsewhere = ShipmentItem.objects.filter(shipment__order_id=shipment.order_id).values(
        "line_item_id"
    )
    return list(
        LineItem.objects.filter(order_id=shipment.order_id, requires_shipping=True)
        .exclude(pk__in=elsewhere)
        .select_related("product")
        .order_by("pk")
    )


@dataclass(frozen=True)
class CustomerValue:
    """What a customer is worth to the shop so far: their orders that stood (not cancelled,
    not voided or fully refunded), and what those came to, in the shop's currency."""

    order_count: int
    lifetime_spend: Decimal


def customer_value(*, customer: Customer) -> CustomerValue:
    """One query. Orders in another currency than the shop's are counted but not summed."""
    stood = Order.objects.filter(customer=customer).exclude(
        Q(status=OrderStatus.CANCELLED) | Q(financial_status__in=REVERSED_FINANCIAL_STATUSES)
    )
    totals = stood.aggregate(
        count=Count("pk"),
        spend=Coalesce(
            Sum("total", filter=Q(currency=customer.shop.currency)),
            V(Decimal("0.00")),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
    )
    return CustomerValue(order_count=totals["count"], lifetime_spend=totals["spend"])
