"""What the tracking page shows, read in a fixed number of queries whatever the order's size.

`tracking_order_get` reads the order with what decides its version (its own, its shop's, its
customer's and its shipments' last change, and its newest scan); the page is cached under that
version, so any change to what it shows makes a new key and the next view renders afresh.
`tracking_page_build` reads the rest only when the cache has no page for the version."""

import hashlib
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Max, OuterRef, Prefetch, Subquery
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from orders.branding import shop_brand
from orders.links import preferences_path
from orders.models import (
    LineItem,
    Order,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
    Shop,
    TrackingEvent,
)
from orders.recommendations import RecommendedProduct, products_bought_with
from postpurchase.shell.customer import CustomerLocale, customer_locale

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The stages a customer understands, in order; a shipment's status maps onto one of them.
STAGES = ("ordered", "shipped", "in_transit", "out_for_delivery", "delivered")
# Keyed by the stored values (str enums): looked up with a shipment's or a scan's status.
_STAGE_OF_STATUS: dict[str, int] = {
    ShipmentStatus.PENDING: 0,
    ShipmentStatus.LABEL_CREATED: 1,
    ShipmentStatus.IN_TRANSIT: 2,
    ShipmentStatus.OUT_FOR_DELIVERY: 3,
    ShipmentStatus.DELIVERED: 4,
}
# A parcel with no scan for this long is late in the customer's eyes, whatever the estimate.
SILENT_DAYS = 4
# Bump when the page's markup changes, so that cached pages and ETags of the old one lapse.
PAGE_REVISION = "4"


@dataclass(frozen=True)
class TrackedOrder:
    """The order as the first query reads it, and the version of its page."""

    order: Order
    language: str
    zone: zoneinfo.ZoneInfo
    last_modified: datetime
    etag: str

    @property
    def locale(self) -> CustomerLocale:
        """The customer's language and zone (`customer_locale`): `with tracked.locale.active():`
        renders a page about the order as the customer reads it."""
        return CustomerLocale(language=self.language, zone=self.zone)


STAGE_LABELS = {
    "ordered": gettext_lazy("Ordered"),
    "shipped": gettext_lazy("Shipped"),
    "in_transit": gettext_lazy("In transit"),
    "out_for_delivery": gettext_lazy("Out for delivery"),
    "delivered": gettext_lazy("Delivered"),
}
STATUS_LABELS: dict[str, "StrOrPromise"] = {
    ShipmentStatus.PENDING: gettext_lazy("Preparing"),
    ShipmentStatus.LABEL_CREATED: gettext_lazy("Shipped"),
    ShipmentStatus.IN_TRANSIT: gettext_lazy("In transit"),
    ShipmentStatus.OUT_FOR_DELIVERY: gettext_lazy("Out for delivery"),
    ShipmentStatus.DELIVERED: gettext_lazy("Delivered"),
    ShipmentStatus.EXCEPTION: gettext_lazy("Delivery problem"),
    ShipmentStatus.RETURNED_TO_SENDER: gettext_lazy("Returning to the shop"),
}
SCAN_LABELS = {
    "label_created": gettext_lazy("Label created"),
    "in_transit": gettext_lazy("In transit"),
    "out_for_delivery": gettext_lazy("Out for delivery"),
    "delivered": gettext_lazy("Delivered"),
    "exception": gettext_lazy("Delivery problem"),
    "returned_to_sender": gettext_lazy("Returning to the shop"),
}


@dataclass(frozen=True)
class Stage:
    key: str
    state: str  # "done", "current" or "todo"

    @property
    def label(self) -> str:
        return str(STAGE_LABELS[self.key])

    @property
    def is_done(self) -> bool:
        return self.state == "done"

    @property
    def is_current(self) -> bool:
        return self.state == "current"


@dataclass(frozen=True)
class Scan:
    at: datetime
    status: str
    label: str
    description: str
    location: str

    @property
    def what(self) -> str:
        """The stage and the carrier's words, without saying the same thing twice."""
        if not self.description:
            return self.label
        if self.description.casefold().startswith(self.label.casefold()):
            return self.description
        return f"{self.label}: {self.description}"


@dataclass(frozen=True)
class Item:
    title: str
    variant_title: str
    quantity: int
    image_url: str


@dataclass
class ShipmentView:
    number: int
    carrier: str
    tracking_number: str
    carrier_url: str
    status: str
    stages: list[Stage]
    estimated_delivery_date: date | None
    delivered_at: datetime | None
    # "exception", "returned", "late", "silent" or "" when all is well.
    trouble: str
    scans: list[Scan]
    is_delivered: bool
    items: list[Item] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))


@dataclass(frozen=True)
class CareGuide:
    title: str
    text: str
    # The language the shop wrote it in, shown as written (marked with `lang`), never translated.
    language: str


@dataclass
class TrackingPage:
    order: Order
    shop: Shop
    items: list[Item]
    shipments: list[ShipmentView]
    unshipped: list[Item]
    care_guides: list[CareGuide]
    recommendations: list[RecommendedProduct]
    return_url: str
    preferences_url: str
    is_live: bool  # worth polling: something is still on its way

    @property
    def is_delivered(self) -> bool:
        return self.order.is_delivered


def tracking_order_get(token: str) -> TrackedOrder | None:
    """The order a tracking token opens, with its page's version; None for any unknown token
    (revoked, mistyped or made up alike). One query."""
    if not token or len(token) > 64:
        return None
    shipments = Shipment.objects.filter(order=OuterRef("pk")).order_by().values("order")
    scans = TrackingEvent.objects.filter(shipment__order=OuterRef("pk")).order_by()
    order = (
        Order.objects.select_related("shop", "customer")
        .annotate(
            shipments_changed_at=Subquery(shipments.annotate(at=Max("updated_at")).values("at")),
            newest_scan_id=Subquery(
                scans.values("shipment__order").annotate(newest=Max("id")).values("newest")
            ),
        )
        .filter(tracking_token=token, shop__is_active=True)
        .first()
    )
    if order is None:
        return None
    moments = [order.updated_at, order.shop.updated_at]
    if order.customer:
        moments.append(order.customer.updated_at)
    if order.shipments_changed_at:
        moments.append(order.shipments_changed_at)
    locale = customer_locale(customer=order.customer, shop=order.shop)
    language = locale.language
    version = "|".join(
        [PAGE_REVISION, str(order.pk), language, str(order.newest_scan_id or 0)]
        + [moment.isoformat() for moment in moments]
    )
    return TrackedOrder(
        order=order,
        language=language,
        zone=locale.zone,
        last_modified=max(moments),
        etag=hashlib.blake2b(version.encode(), digest_size=12).hexdigest(),
    )


def _item(line: LineItem, quantity: int | None = None) -> Item:
    image = (line.variant.image_url if line.variant else "") or (
        line.product.image_url if line.product else ""
    )
    return Item(
        title=line.title,
        variant_title=line.variant_title,
        quantity=line.quantity if quantity is None else quantity,
        image_url=image,
    )


def _stages(status: str, scans: list[TrackingEvent]) -> list[Stage]:
    reached = _STAGE_OF_STATUS.get(status)
    if reached is None:  # exception or returned: as far as its scans got, at least shipped
        reached = min(max([1, *(_STAGE_OF_STATUS.get(scan.status, 1) for scan in scans)]), 3)
    return [
        Stage(key, "done" if i < reached else "current" if i == reached else "todo")
        for i, key in enumerate(STAGES)
    ]


_TROUBLE_OF_STATUS: dict[str, str] = {
    ShipmentStatus.EXCEPTION: "exception",
    ShipmentStatus.RETURNED_TO_SENDER: "returned",
}


def _trouble(shipment: Shipment, today: date, now: datetime) -> str:
    if trouble := _TROUBLE_OF_STATUS.get(shipment.status):
        return trouble
    if shipment.is_delivered:
        return ""
    if shipment.estimated_delivery_date and shipment.estimated_delivery_date < today:
        return "late"
    last = shipment.last_event_at or shipment.shipped_at
    if last and now - last > timedelta(days=SILENT_DAYS):
        return "silent"
    return ""


def _shipment_view(
    number: int, shipment: Shipment, lines: dict[int, LineItem], today: date, now: datetime
) -> ShipmentView:
    scans = list(shipment.events.all())
    return ShipmentView(
        number=number,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        carrier_url=shipment.tracking_url,
        status=shipment.status,
        stages=_stages(shipment.status, scans),
        estimated_delivery_date=shipment.estimated_delivery_date,
        delivered_at=shipment.delivered_at,
        trouble=_trouble(shipment, today, now),
        is_delivered=shipment.is_delivered,
        scans=[
            Scan(
                at=scan.occurred_at,
                status=scan.status,
                label=str(SCAN_LABELS.get(scan.status, scan.get_status_display())),
                description=scan.description,
                location=scan.location,
            )
            for scan in reversed(scans)
        ],
        items=[
            _item(lines[item.line_item_id], item.quantity)
            for item in shipment.items.all()
            if item.line_item_id in lines
        ],
    )


def _unshipped(lines: list[LineItem], shipments: list[Shipment]) -> list[Item]:
    if any(not shipment.items.all() for shipment in shipments):
        return []  # a shipment without an item list carries everything not listed elsewhere
    shipped: dict[int, int] = {}
    for shipment in shipments:
        for item in shipment.items.all():
            shipped[item.line_item_id] = shipped.get(item.line_item_id, 0) + item.quantity
    return [
        _item(line, line.quantity - shipped.get(line.pk, 0))
        for line in lines
        if line.requires_shipping and line.quantity > shipped.get(line.pk, 0)
    ]


def _care_guides(lines: list[LineItem], shop: Shop) -> list[CareGuide]:
    seen: dict[int, CareGuide] = {}
    for line in lines:
        product = line.product
        if product and product.care_guide and product.pk not in seen:
            language = product.care_guide_language_code(shop.locale)
            seen[product.pk] = CareGuide(product.title, product.care_guide, language)
    return list(seen.values())


def _return_url(order: Order, now: datetime) -> str:
    if not order.can_open_return(now):
        return ""
    try:  # the returns portal, once installed, starts a return from the order's token
        return reverse("returns:start", args=[order.tracking_token])
    except NoReverseMatch:
        return ""


def tracking_page_build(tracked: TrackedOrder, now: datetime | None = None) -> TrackingPage:
    """Everything the page shows, in five to seven queries."""
    now = now or timezone.now()
    order = tracked.order
    today = now.astimezone(tracked.zone).date()
    lines = list(order.line_items.select_related("product", "variant").order_by("pk"))
    by_id = {line.pk: line for line in lines}
    shipments = list(
        order.shipments.order_by("shipped_at", "pk").prefetch_related(
            Prefetch("items", queryset=ShipmentItem.objects.order_by("pk")),
            Prefetch("events", queryset=TrackingEvent.objects.order_by("occurred_at", "pk")),
        )
    )
    views = [_shipment_view(i, s, by_id, today, now) for i, s in enumerate(shipments, start=1)]
    delivered = order.is_delivered
    product_ids = sorted({line.product_id for line in lines if line.product_id})
    is_cancelled = order.is_cancelled
    return TrackingPage(
        order=order,
        shop=order.shop,
        items=[_item(line) for line in lines],
        shipments=views,
        unshipped=[] if is_cancelled else _unshipped(lines, shipments),
        care_guides=_care_guides(lines, order.shop) if delivered else [],
        recommendations=products_bought_with(
            shop_id=order.shop_id, product_ids=product_ids, customer_id=order.customer_id
        ),
        return_url=_return_url(order, now),
        preferences_url=preferences_path(order.customer_id) if order.customer_id else "",
        is_live=not delivered and not is_cancelled,
    )


def tracking_stages_for_order(page: TrackingPage) -> list[Stage]:
    """The progress of an order with nothing shipped yet: ordered, and waiting."""
    return _stages(ShipmentStatus.PENDING, [])


def page_context(page: TrackingPage, tracked: TrackedOrder, now: datetime) -> dict[str, Any]:
    return {
        "page": page,
        "shop": page.shop,
        "order_stages": tracking_stages_for_order(page),
        "language": tracked.language,
        "zone_name": str(tracked.zone).replace("_", " "),
        "rendered_at": now,
    }


@dataclass(frozen=True)
class OrderPageShell:
    """What a customer page about one order (the problem report, the returns portal) shows of
    it besides the customer pages' shell (`templates/shell/customer.html`)."""

    shop: Shop
    order: Order


def order_page_context(tracked: TrackedOrder) -> dict[str, Any]:
    """The shell's context for a customer page about this order (the problem report, the
    returns portal): the shop's branding, the customer's language, the way back to tracking."""
    order = tracked.order
    return {
        "page": OrderPageShell(shop=order.shop, order=order),
        "shop": order.shop,
        "brand": shop_brand(order.shop),
        "language": tracked.language,
        "tracking_url": reverse("tracking:page", args=[order.tracking_token]),
    }
