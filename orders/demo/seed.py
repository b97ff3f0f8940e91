"""The demo shop "Northwind Goods" with two years of believable history.

Everything derives from one seed and one reference "now" (today, midnight UTC), so two runs on the
same day give the same shop. Rows are written with `bulk_create` and carry their own timestamps,
and no domain event is published: this history must never trigger a message.
"""

import random
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.dispatch import Signal
from django.utils.module_loading import autodiscover_modules

from orders.demo.reference import (
    ADMIN_USERNAME,
    BATCH,
    CANCEL_REASONS,
    CARRIERS,
    CATALOG,
    CENT,
    CUSTOMERS_AT_SCALE_1,
    DEFAULT_PASSWORD,
    DEFAULT_SEED,
    DELIVERED_SCANS,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    HISTORY,
    HUB_SCANS,
    LAST_NAMES,
    LOCALES,
    ORIGIN,
    PLACES,
    SHOP_DOMAIN,
    SHOP_SLUG,
    STAFF_USERNAME,
    STOREFRONT,
    STREET_KINDS,
    STREETS,
    Carrier,
    Place,
    ProductSpec,
    fill_pattern,
)
from orders.models import (
    SHIPMENT_TRANSITIONS,
    CarrierAccount,
    Channel,
    Consent,
    ConsentStatus,
    Customer,
    FinancialStatus,
    LineItem,
    Order,
    OrderEvent,
    OrderSource,
    OrderStatus,
    Product,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
    Shop,
    StaffMembership,
    StaffRole,
    TrackingEvent,
    TrackingStatus,
    Variant,
    WebhookProvider,
)
from orders.services.api_keys import api_key_create
from orders.services.data import TrackingEventData
from postpurchase.states import can_transition

# --- Public entry point ---------------------------------------------------------------------

# Sent once the demo shop's order history exists, inside the seed's transaction, with `shop`,
# `now` and `seed`. Other apps add their own demo data from a `demo` module of theirs (found by
# `autodiscover_modules`, as the admin finds `admin` modules): `orders` imports none of them.
# A receiver returns a dict of counts for the summary, and may name a page worth opening
# among them (a `DemoLink`, shown with the sign-in hints).
demo_shop_seeded = Signal()


@dataclass(frozen=True)
class DemoLink:
    """A page of the demo a receiver points people to: `label` says what it shows."""

    label: str
    url: str


@dataclass
class DemoSummary:
    shop: Shop
    counts: dict[str, int]
    statuses: dict[str, int]
    staff_username: str
    admin_username: str
    password: str
    users_created: dict[str, bool]
    api_key: str
    links: list[DemoLink] = field(default_factory=list)


def demo_reference_now(today: date | None = None) -> datetime:
    """Today at midnight UTC: stable through the day, recent whatever the day."""
    today = today or datetime.now(tz=UTC).date()
    return datetime.combine(today, time(0), tzinfo=UTC)


def demo_seed(
    *,
    scale: float = 1.0,
    seed: int = DEFAULT_SEED,
    password: str = DEFAULT_PASSWORD,
    now: datetime | None = None,
) -> DemoSummary:
    """Create the demo shop with its catalogue, customers and order history, a staff owner,
    a superuser and an API key. Raises ValueError if the demo shop already exists."""
    if Shop.objects.filter(models.Q(slug=SHOP_SLUG) | models.Q(domain=SHOP_DOMAIN)).exists():
        raise ValueError(f"A shop '{SHOP_SLUG}' ({SHOP_DOMAIN}) already exists.")
    now = now or demo_reference_now()
    start = now - HISTORY
    customers = max(1, round(CUSTOMERS_AT_SCALE_1 * scale))
    counts: dict[str, int] = {}
    links: list[DemoLink] = []
    with transaction.atomic():
        with _explicit_timestamps():
            shop = _shop_create(_rng(seed, "shop"), start)
            items = _catalog_create(_rng(seed, "catalog"), shop, start)
            buyers = _buyers_make(_rng(seed, "customers"), customers)
            plans = _orders_plan(_rng(seed, "plans"), buyers, items, start, now)
            _customers_create(_rng(seed, "consent"), shop, buyers, plans, now)
            statuses = _orders_create(_rng(seed, "orders"), shop, plans, now, counts)
        autodiscover_modules("demo")
        for _, added in demo_shop_seeded.send(sender=Shop, shop=shop, now=now, seed=seed):
            if isinstance(added, dict):  # what the receiver created, by name; or nothing
                counts.update({k: v for k, v in added.items() if isinstance(v, int)})
                links.extend(v for v in added.values() if isinstance(v, DemoLink))
        users_created = _users_ensure(shop, password)
        _, raw_key = api_key_create(shop=shop, name="Demo key")
    counts.update(products=len({i.product.pk for i in items}), variants=len(items))
    counts.update(customers=len(buyers))
    return DemoSummary(
        shop=shop,
        counts=counts,
        statuses=statuses,
        staff_username=STAFF_USERNAME,
        admin_username=ADMIN_USERNAME,
        password=password,
        users_created=users_created,
        api_key=raw_key,
        links=links,
    )


def _rng(seed: int, stage: str) -> random.Random:
    # One stream per stage, so a change in one stage leaves the others' data as it was.
    return random.Random(f"{seed}:{stage}")


_HISTORY_MODELS = (
    Shop,
    CarrierAccount,
    Product,
    Variant,
    Customer,
    Consent,
    Order,
    LineItem,
    Shipment,
    TrackingEvent,
    OrderEvent,
)


def _explicit_timestamps() -> AbstractContextManager[None]:
    return explicit_timestamps(*_HISTORY_MODELS)


@contextmanager
def explicit_timestamps(*history_models: type[models.Model]) -> Iterator[None]:
    """Let history rows keep the times we give them: auto_now(_add) would stamp them all with
    the moment of seeding, and bulk_create offers no way around it."""
    touched = [f for model in history_models for f in _auto_fields(model)]
    for f, _, _ in touched:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in touched:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _auto_fields(model: type[models.Model]) -> list[tuple[models.DateTimeField, bool, bool]]:
    return [
        (f, f.auto_now, f.auto_now_add)
        for f in model._meta.concrete_fields
        if isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add)
    ]


# --- Shop, catalogue, people ----------------------------------------------------------------


def _demo_image(name: str) -> str:
    """Demo pictures ship with the app's static files, so the demo loads nothing from elsewhere."""
    return f"{settings.PUBLIC_BASE_URL}{settings.STATIC_URL}demo/{name}"


def _shop_create(rng: random.Random, start: datetime) -> Shop:
    created = start - timedelta(days=45)
    shop = Shop.objects.create(
        name="Northwind Goods",
        slug=SHOP_SLUG,
        domain=SHOP_DOMAIN,
        website_url=STOREFRONT,
        currency="USD",
        timezone="America/New_York",
        locale="en",
        primary_colour="#2f6f5e",
        logo_url=_demo_image("logo.svg"),
        support_email="help@northwind-goods.example",
        support_phone="+1 614-555-0142",
        shopify_webhook_secret=f"shpss_{rng.getrandbits(128):032x}",
        created_at=created,
        updated_at=created,
    )
    CarrierAccount.objects.create(
        shop=shop,
        provider=WebhookProvider.EASYPOST,
        webhook_secret=f"whsec_{rng.getrandbits(128):032x}",
        created_at=created,
        updated_at=created,
    )
    return shop


@dataclass(frozen=True)
class CatalogItem:
    """One sellable variant with what planning needs to know about its product."""

    product: Product
    variant: Variant
    spec: ProductSpec

    @property
    def popularity(self) -> float:
        if self.spec.days_of_use:
            return 3.0
        return 2.0 if self.variant.price < 40 else 1.0


def _catalog_create(rng: random.Random, shop: Shop, start: datetime) -> list[CatalogItem]:
    at = start - timedelta(days=30)
    stamps = {"created_at": at, "updated_at": at}
    products = [
        Product(
            shop=shop,
            external_id=str(8_104_000_000 + n),
            title=spec.title,
            url=f"{STOREFRONT}/products/{_handle(spec.title)}",
            is_consumable=spec.days_of_use is not None,
            days_of_use=spec.days_of_use,
            care_guide=spec.guide,
            image_url=_demo_image(f"products/{spec.category}.svg"),
            **stamps,
        )
        for n, spec in enumerate(CATALOG, start=1)
    ]
    Product.objects.bulk_create(products)
    items: list[CatalogItem] = []
    for n, (product, spec) in enumerate(zip(products, CATALOG, strict=True), start=1):
        for v, entry in enumerate(spec.variants, start=1):
            title, _, price = entry.partition("=")
            variant = Variant(
                shop=shop,
                product=product,
                external_id=str(44_120_000_000 + n * 10 + v),
                sku=f"NW-{spec.category}-{n:03d}-{v:02d}",
                title=title,
                price=Decimal(price or spec.price),
                currency="USD",
                inventory_quantity=rng.randint(0, 400),
                **stamps,
            )
            items.append(CatalogItem(product, variant, spec))
    Variant.objects.bulk_create([i.variant for i in items])
    return items


def _handle(title: str) -> str:
    kept = "".join(c if c.isalnum() else " " for c in title.lower())
    return "-".join(kept.split())


@dataclass
class Buyer:
    """A customer as planned, before any row exists."""

    index: int
    first_name: str
    last_name: str
    email: str
    phone: str
    place: Place
    address1: str
    address2: str
    postcode: str
    birthday: date | None
    customer: Customer | None = None


def _buyers_make(rng: random.Random, count: int) -> list[Buyer]:
    weights = [p.weight for p in PLACES]
    buyers = []
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        place = rng.choices(PLACES, weights)[0]
        style = rng.randrange(3)
        local = (f"{first}.{last}", f"{first[0]}{last}", f"{first}{last[:1]}")[style].lower()
        buyers.append(
            Buyer(
                index=index,
                first_name=first,
                last_name=last,
                email=f"{local}{index}@{EMAIL_DOMAINS[index % 3]}",
                phone=fill_pattern(rng, place.phone) if rng.random() < 0.6 else "",
                place=place,
                address1=f"{rng.randint(2, 9899)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}",
                address2=f"Apt {rng.randint(1, 24)}{rng.choice('ABCD')}"
                if rng.random() < 0.3
                else "",
                postcode=place.postcode
                if not place.is_domestic
                else f"{place.postcode}{rng.randint(1, 60):02d}",
                birthday=_birthday(rng) if rng.random() < 0.35 else None,
            )
        )
    return buyers


def _birthday(rng: random.Random) -> date:
    return date(rng.randint(1955, 2004), rng.randint(1, 12), rng.randint(1, 28))


# --- Planning the history -------------------------------------------------------------------


@dataclass
class Plan:
    buyer: Buyer
    placed_at: datetime
    lines: list[tuple[CatalogItem, int]]
    is_repeat: bool = False


# Demand through the year: a November-December peak, a January lull.
MONTH_WEIGHT = (0.75, 0.8, 0.9, 0.95, 1.0, 0.95, 0.9, 0.95, 1.0, 1.05, 1.55, 1.8)


def _seasonal_moment(rng: random.Random, buyer: Buyer, start: datetime, end: datetime) -> datetime:
    """A checkout time between start and end: more in the holiday season, more as the shop
    grows, and mostly in the buyer's evening."""
    span = max((end - start).days, 1)
    latest = end - timedelta(minutes=30)
    while True:
        offset = rng.randrange(span + 1)
        day = (start + timedelta(days=offset)).date()
        weight = MONTH_WEIGHT[day.month - 1] * (0.7 + 0.6 * offset / span)
        if _is_cyber_week(day):
            weight *= 1.6
        if rng.random() * 3.8 >= weight:
            continue
        hour = rng.choices(range(24), weights=_HOUR_WEIGHTS)[0] + rng.random()
        moment = _local(day, hour, ZoneInfo(buyer.place.tz))
        # A local evening can fall outside the window in UTC: draw again rather than clamp,
        # which would pile orders up on the same instant.
        if start <= moment <= latest:
            return moment


def _is_cyber_week(day: date) -> bool:
    """Black Friday to Cyber Monday, give or take."""
    return (day.month == 11 and day.day >= 24) or (day.month == 12 and day.day <= 2)


_HOUR_WEIGHTS = (1, 1, 0.5, 0.3, 0.3, 0.5, 1, 2, 3, 4, 4, 4, 5, 5, 4, 4, 4, 5, 6, 7, 8, 8, 6, 3)


def _local(day: date, hour: float, tz: ZoneInfo) -> datetime:
    moment = datetime.combine(day, time(0), tzinfo=tz) + timedelta(hours=hour)
    return moment.astimezone(UTC)


def _orders_plan(
    rng: random.Random,
    buyers: Sequence[Buyer],
    items: Sequence[CatalogItem],
    start: datetime,
    now: datetime,
) -> list[Plan]:
    """Who buys what, when. Most customers buy once; some come back now and then; a loyal
    minority re-buy their consumables on the rhythm the product lasts."""
    weights = [i.popularity for i in items]
    consumables = [i for i in items if i.spec.days_of_use]
    plans: list[Plan] = []
    for buyer in buyers:
        kind = rng.random()
        if kind < 0.54:
            plans.append(_plan_one(rng, buyer, items, weights, start, now))
        elif kind < 0.73:
            plans += _plans_occasional(rng, buyer, items, weights, start, now)
        else:
            plans += _plans_loyal(rng, buyer, items, weights, consumables, start, now)
    plans.sort(key=lambda p: (p.placed_at, p.buyer.index))
    return plans


def _basket(
    rng: random.Random, items: Sequence[CatalogItem], weights: Sequence[float], size: int
) -> list[tuple[CatalogItem, int]]:
    chosen: dict[str, tuple[CatalogItem, int]] = {}
    while len(chosen) < size:
        item = rng.choices(items, weights)[0]
        qty = 1 if rng.random() < 0.8 else rng.randint(2, 3)
        chosen.setdefault(item.variant.sku, (item, qty))
    return list(chosen.values())


def _basket_size(rng: random.Random) -> int:
    return rng.choices((1, 2, 3, 4), weights=(45, 30, 17, 8))[0]


def _plan_one(rng, buyer, items, weights, start, end) -> Plan:
    moment = _seasonal_moment(rng, buyer, start, end)
    return Plan(buyer, moment, _basket(rng, items, weights, _basket_size(rng)))


def _plans_occasional(rng, buyer, items, weights, start, now) -> list[Plan]:
    first = _plan_one(rng, buyer, items, weights, start, now - timedelta(days=20))
    later = [
        _plan_one(rng, buyer, items, weights, first.placed_at + timedelta(days=7), now)
        for _ in range(rng.choices((1, 2, 3, 4, 5), weights=(35, 27, 18, 12, 8))[0])
    ]
    for plan in later:
        plan.is_repeat = True
    return [first, *later]


def _plans_loyal(rng, buyer, items, weights, consumables, start, now) -> list[Plan]:
    """Orders driven by when each staple runs out: every staple due within a week of the
    earliest one goes into the same order, and each cycle a few customers drift away."""
    staples = rng.sample(consumables, k=rng.choices((1, 2), weights=(65, 35))[0])
    qty = {s.variant.sku: 1 if rng.random() < 0.85 else 2 for s in staples}
    first = _seasonal_moment(rng, buyer, start, start + (now - start) * 0.5)
    due = {s.variant.sku: first for s in staples}
    plans: list[Plan] = []
    while True:
        at = min(due.values())
        if at >= now - timedelta(hours=1):
            break
        lines = [(s, qty[s.variant.sku]) for s in staples if due[s.variant.sku] <= at + _WEEK]
        for staple, n in lines:
            cycle = staple.spec.days_of_use * n * rng.uniform(0.85, 1.2)
            due[staple.variant.sku] = at + timedelta(days=cycle, hours=rng.uniform(-10, 10))
        if rng.random() < 0.3:
            extra = _basket(rng, items, weights, 1)[0]
            if extra[0].variant.sku not in due:
                lines.append(extra)
        plans.append(Plan(buyer, at, lines, is_repeat=bool(plans)))
        if rng.random() < 0.018:
            break
    return plans


_WEEK = timedelta(days=7)


def _customers_create(
    rng: random.Random, shop: Shop, buyers: Sequence[Buyer], plans: Sequence[Plan], now: datetime
) -> None:
    first_seen: dict[int, datetime] = {}
    last_seen: dict[int, datetime] = {}
    for plan in plans:
        first_seen.setdefault(plan.buyer.index, plan.placed_at)
        last_seen[plan.buyer.index] = plan.placed_at
    customers: list[Customer] = []
    for b in buyers:
        joined = first_seen.get(b.index, now - timedelta(days=1)) - timedelta(minutes=2)
        b.customer = customer = Customer(
            shop=shop,
            external_id=str(6_912_000_000_000 + b.index),
            email=b.email,
            phone=b.phone,
            first_name=b.first_name,
            last_name=b.last_name,
            birthday=b.birthday,
            timezone=b.place.tz,
            locale=LOCALES[b.place.country],
            created_at=joined,
            updated_at=last_seen.get(b.index, joined),
        )
        customers.append(customer)
    Customer.objects.bulk_create(customers, batch_size=BATCH)
    consents = [
        c
        for b, customer in zip(buyers, customers, strict=True)
        for c in _consents(rng, shop, b, customer, now)
    ]
    Consent.objects.bulk_create(consents, batch_size=BATCH)


def _consents(
    rng: random.Random, shop: Shop, buyer: Buyer, customer: Customer, now: datetime
) -> list[Consent]:
    """Marketing consent as customers give it: at checkout or from the newsletter form, for
    email more often than for SMS, and now and then taken back."""
    joined = customer.created_at
    wanted = [(Channel.EMAIL, 0.45)] + ([(Channel.SMS, 0.3)] if buyer.phone else [])
    consents = []
    for channel, chance in wanted:
        if rng.random() >= chance:
            continue
        source, detail = rng.choice(
            (("shopify checkout", "Ticked at checkout"), ("signup form", "Footer newsletter form"))
        )
        status, at = ConsentStatus.GRANTED, joined
        if rng.random() < 0.08:
            status, source, detail = ConsentStatus.REVOKED, "unsubscribe link", "One-click"
            at = joined + (now - joined) * rng.uniform(0.2, 0.9)
        consents.append(
            Consent(
                shop=shop,
                customer=customer,
                channel=channel,
                status=status,
                changed_at=at,
                source=source,
                detail=detail,
                created_at=joined,
                updated_at=at,
            )
        )
    return consents


# --- Orders, shipments, tracking ------------------------------------------------------------


@dataclass
class Batch:
    """Rows for a run of orders, inserted parent before child."""

    orders: list[Order] = field(default_factory=list)
    lines: list[LineItem] = field(default_factory=list)
    shipments: list[Shipment] = field(default_factory=list)
    shipment_items: list[ShipmentItem] = field(default_factory=list)
    scans: list[TrackingEvent] = field(default_factory=list)
    events: list[OrderEvent] = field(default_factory=list)
    # Timeline entries that name a shipment, completed once the shipment has its id.
    shipment_events: list[tuple[OrderEvent, Shipment]] = field(default_factory=list)

    def save(self) -> None:
        Order.objects.bulk_create(self.orders, batch_size=BATCH)
        LineItem.objects.bulk_create(self.lines, batch_size=BATCH)
        Shipment.objects.bulk_create(self.shipments, batch_size=BATCH)
        ShipmentItem.objects.bulk_create(self.shipment_items, batch_size=BATCH)
        TrackingEvent.objects.bulk_create(self.scans, batch_size=BATCH)
        for event, shipment in self.shipment_events:
            event.data = {**event.data, "shipment_id": shipment.pk}
        OrderEvent.objects.bulk_create(self.events, batch_size=BATCH)


def _orders_create(
    rng: random.Random, shop: Shop, plans: Sequence[Plan], now: datetime, counts: dict[str, int]
) -> dict[str, int]:
    statuses: dict[str, int] = {}
    totals = dict.fromkeys(
        ("orders", "line_items", "shipments", "tracking_events", "order_events"), 0
    )
    for first in range(0, len(plans), BATCH):
        batch = Batch()
        for offset, plan in enumerate(plans[first : first + BATCH]):
            order = _order_build(rng, shop, first + offset, plan, now, batch)
            statuses[order.status] = statuses.get(order.status, 0) + 1
        batch.save()
        totals["orders"] += len(batch.orders)
        totals["line_items"] += len(batch.lines)
        totals["shipments"] += len(batch.shipments)
        totals["tracking_events"] += len(batch.scans)
        totals["order_events"] += len(batch.events)
    counts.update(totals)
    return statuses


def _order_build(
    rng: random.Random, shop: Shop, seq: int, plan: Plan, now: datetime, batch: Batch
) -> Order:
    buyer = plan.buyer
    paid_at = plan.placed_at + timedelta(seconds=rng.randint(4, 90))
    order = Order(
        shop=shop,
        customer=buyer.customer,
        external_id=str(5_512_300_000_000 + seq * 7),
        number=f"#{1001 + seq}",
        source=OrderSource.DEMO,
        currency="USD",
        financial_status=FinancialStatus.PAID,
        placed_at=plan.placed_at,
        paid_at=paid_at,
        email=buyer.email,
        phone=buyer.phone,
        shipping_name=f"{buyer.first_name} {buyer.last_name}",
        shipping_address1=buyer.address1,
        shipping_address2=buyer.address2,
        shipping_city=buyer.place.city,
        shipping_province=buyer.place.province,
        shipping_postcode=buyer.postcode,
        shipping_country=buyer.place.country,
        created_at=plan.placed_at,
    )
    lines = _lines_build(rng, order, plan, batch)
    _price(rng, order, plan, lines)
    timeline = Timeline(order, batch)
    timeline.add(plan.placed_at, OrderEvent.Kind.CREATED, note="from Demo data")
    timeline.add(
        paid_at,
        OrderEvent.Kind.PAID,
        from_status=FinancialStatus.PENDING,
        to_status=FinancialStatus.PAID,
    )
    _fulfil(rng, order, plan, lines, now, timeline)
    timeline.close()
    order.updated_at = timeline.last_at
    order.source_updated_at = timeline.last_at
    batch.orders.append(order)
    return order


def _lines_build(rng: random.Random, order: Order, plan: Plan, batch: Batch) -> list[LineItem]:
    lines = []
    for n, (item, qty) in enumerate(plan.lines):
        line = LineItem(
            shop_id=order.shop_id,
            order=order,
            external_id=f"{order.external_id}{n + 1:02d}",
            product=item.product,
            variant=item.variant,
            sku=item.variant.sku,
            title=item.product.title,
            variant_title="" if item.variant.title == "Default Title" else item.variant.title,
            quantity=qty,
            unit_price=item.variant.price,
            created_at=order.placed_at,
            updated_at=order.placed_at,
        )
        lines.append(line)
    batch.lines += lines
    return lines


def _price(rng: random.Random, order: Order, plan: Plan, lines: Sequence[LineItem]) -> None:
    """Subtotal - discounts + shipping + tax = total, each rounded once to the cent."""
    rate = _discount_rate(rng, plan)
    subtotal = sum((li.unit_price * li.quantity for li in lines), Decimal("0.00"))
    for li in lines:
        li.discount_total = _cents(li.unit_price * li.quantity * rate)
    discount = sum((li.discount_total for li in lines), Decimal("0.00"))
    net = subtotal - discount
    if not plan.buyer.place.is_domestic:
        shipping = Decimal("24.00")
    elif net >= 75:
        shipping = Decimal("0.00")
    else:
        shipping = Decimal("14.95") if rng.random() < 0.12 else Decimal("5.95")
    tax = _cents(net * plan.buyer.place.tax_rate)
    order.subtotal, order.discount_total = subtotal, discount
    order.shipping_total, order.tax_total = shipping, tax
    order.total = net + shipping + tax


def _discount_rate(rng: random.Random, plan: Plan) -> Decimal:
    if _is_cyber_week(plan.placed_at.date()):
        return Decimal("0.20") if rng.random() < 0.6 else Decimal(0)
    if not plan.is_repeat and rng.random() < 0.2:
        return Decimal("0.10")  # first-order welcome code
    if plan.is_repeat and rng.random() < 0.12:
        return Decimal("0.15")  # thank-you code in a post-purchase email
    return Decimal(0)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class Timeline:
    """An order's timeline (OrderEvent rows), in the order things happened."""

    def __init__(self, order: Order, batch: Batch) -> None:
        self.order, self.batch = order, batch
        self.last_at = order.placed_at
        self.events: list[OrderEvent] = []
        self.shipments: list[Shipment] = []

    def add(
        self,
        at: datetime,
        kind: str,
        *,
        shipment: Shipment | None = None,
        from_status: str = "",
        to_status: str = "",
        note: str = "",
        data: dict | None = None,
    ) -> None:
        event = OrderEvent(
            shop_id=self.order.shop_id,
            order=self.order,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            note=note,
            data=data or {},
            at=at,
        )
        if shipment is not None:
            event.data = {"tracking_number": shipment.tracking_number}
            self.batch.shipment_events.append((event, shipment))
        self.events.append(event)
        self.last_at = max(self.last_at, at)

    def close(self) -> None:
        # Two parcels interleave their scans; ids should follow time, as live ingestion does.
        self.batch.events += sorted(self.events, key=lambda e: e.at)


def _fulfil(
    rng: random.Random,
    order: Order,
    plan: Plan,
    lines: Sequence[LineItem],
    now: datetime,
    timeline: Timeline,
) -> None:
    """Cancel a few orders before they ship; ship the rest in one parcel, or two when part of
    the order was backordered; then follow each parcel until `now`."""
    cancel_at = order.placed_at + timedelta(hours=rng.uniform(0.2, 20))
    if rng.random() < 0.025 and cancel_at < now:
        _cancel(rng, order, cancel_at, timeline)
        return
    ship_at = order.placed_at + timedelta(hours=rng.uniform(3, 40))
    parcels = [(ship_at, list(lines))]
    if len(lines) >= 2 and rng.random() < 0.1:
        cut = rng.randint(1, len(lines) - 1)
        later = ship_at + timedelta(days=rng.uniform(1, 4))
        parcels = [(ship_at, list(lines[:cut])), (later, list(lines[cut:]))]
    shipments = [
        _ship(rng, order, plan, parcel, at, now, timeline) for at, parcel in parcels if at < now
    ]
    if not shipments:
        return
    order.status = OrderStatus.SHIPPED
    timeline.add(
        ship_at,  # the first parcel's: shipped if any was
        OrderEvent.Kind.STATUS_CHANGED,
        from_status=OrderStatus.PLACED,
        to_status=OrderStatus.SHIPPED,
    )
    delivered = [s.delivered_at for s in shipments if s.is_delivered and s.delivered_at]
    if len(shipments) == len(parcels) and len(delivered) == len(shipments):
        _deliver(rng, order, max(delivered), now, timeline)
        _partial_refund(order, lines, now, timeline)


def _cancel(rng: random.Random, order: Order, at: datetime, timeline: Timeline) -> None:
    reason = rng.choice(CANCEL_REASONS)
    order.status = OrderStatus.CANCELLED
    order.cancelled_at, order.cancel_reason = at, reason
    timeline.add(
        at,
        OrderEvent.Kind.STATUS_CHANGED,
        from_status=OrderStatus.PLACED,
        to_status=OrderStatus.CANCELLED,
        note=reason,
    )
    # Some were only authorised when cancelled: the payment is voided, never taken. Decided
    # from the order's number, not `rng`, so the rest of the history stays as it was.
    if int(order.external_id) % 5 < 2:
        _void(order, at, timeline)
        return
    _payment_change(order, at, FinancialStatus.REFUNDED, timeline)
    _refund(order, at, order.total, "Cancelled before shipping", timeline)


def _void(order: Order, at: datetime, timeline: Timeline) -> None:
    paid = next(e for e in timeline.events if e.kind == OrderEvent.Kind.PAID)
    paid.kind, paid.to_status = OrderEvent.Kind.PAYMENT_STATUS, FinancialStatus.AUTHORIZED
    order.paid_at = None
    order.financial_status = FinancialStatus.AUTHORIZED
    _payment_change(order, at, FinancialStatus.VOIDED, timeline)


def _payment_change(order: Order, at: datetime, status: str, timeline: Timeline) -> None:
    timeline.add(
        at,
        OrderEvent.Kind.PAYMENT_STATUS,
        from_status=order.financial_status,
        to_status=status,
    )
    order.financial_status = status


def _refund(order: Order, at: datetime, amount: Decimal, note: str, timeline: Timeline) -> None:
    timeline.add(
        at,
        OrderEvent.Kind.REFUNDED,
        note=note,
        data={"refund_id": f"{order.external_id}-r1", "amount": str(amount), "currency": "USD"},
    )


def _partial_refund(
    order: Order, lines: Sequence[LineItem], now: datetime, timeline: Timeline
) -> None:
    """One delivered order in thirty with several lines gets one line refunded (it arrived
    damaged) a few days later. From the order's number, as `_cancel` decides."""
    seq = int(order.external_id)
    at = order.delivered_at + timedelta(days=2 + seq % 5) if order.delivered_at else None
    if len(lines) < 2 or seq % 30 != 3 or at is None or at >= now:
        return
    line = lines[0]
    amount = line.unit_price * line.quantity - line.discount_total
    _payment_change(order, at, FinancialStatus.PARTIALLY_REFUNDED, timeline)
    _refund(order, at, amount, f"{line.title} arrived damaged", timeline)


def _deliver(
    rng: random.Random, order: Order, at: datetime, now: datetime, timeline: Timeline
) -> None:
    order.status, order.delivered_at = OrderStatus.DELIVERED, at
    timeline.add(
        at,
        OrderEvent.Kind.STATUS_CHANGED,
        from_status=OrderStatus.SHIPPED,
        to_status=OrderStatus.DELIVERED,
    )
    closed_at = at + timedelta(days=rng.uniform(30, 60))
    if closed_at < now and rng.random() < 0.4:
        order.status = OrderStatus.CLOSED
        timeline.add(
            closed_at,
            OrderEvent.Kind.STATUS_CHANGED,
            from_status=OrderStatus.DELIVERED,
            to_status=OrderStatus.CLOSED,
            note="Archived",
        )


def _carrier(rng: random.Random, place: Place) -> Carrier:
    if not place.is_domestic:
        return CARRIERS["DHL"]
    return CARRIERS[rng.choices(("USPS", "UPS", "FedEx"), weights=(45, 30, 25))[0]]


def _ship(
    rng: random.Random,
    order: Order,
    plan: Plan,
    lines: Sequence[LineItem],
    ship_at: datetime,
    now: datetime,
    timeline: Timeline,
) -> Shipment:
    carrier = _carrier(rng, plan.buyer.place)
    number = fill_pattern(rng, carrier.number)
    tz = ZoneInfo(plan.buyer.place.tz)
    estimate = (ship_at + timedelta(days=carrier.transit_days[1])).astimezone(tz).date()
    shipment = Shipment(
        shop_id=order.shop_id,
        order=order,
        external_id=f"{order.external_id}-F{len(timeline.shipments) + 1}",
        carrier=carrier.name,
        tracking_number=number,
        tracking_url=carrier.url.format(number),
        estimated_delivery_date=estimate,
        first_estimated_delivery_date=estimate,
        shipped_at=ship_at,
        created_at=ship_at,
    )
    timeline.shipments.append(shipment)
    timeline.batch.shipments.append(shipment)
    timeline.batch.shipment_items += [
        ShipmentItem(shipment=shipment, line_item=li, quantity=li.quantity) for li in lines
    ]
    timeline.add(ship_at, OrderEvent.Kind.SHIPMENT_CREATED, shipment=shipment, note=str(shipment))
    scans = [s for s in _journey(rng, carrier, plan.buyer.place, ship_at) if s.occurred_at < now]
    _track(shipment, scans, timeline)
    return shipment


def _track(shipment: Shipment, scans: Sequence[TrackingEvent], timeline: Timeline) -> None:
    """Record the scans and move the shipment as the tracking service would."""
    status: str = ShipmentStatus.PENDING
    for scan in scans:
        scan.shop_id, scan.shipment = shipment.shop_id, shipment
        scan.source, scan.created_at = "easypost", scan.occurred_at + timedelta(seconds=20)
        if scan.status != status and can_transition(status, scan.status, SHIPMENT_TRANSITIONS):
            timeline.add(
                scan.occurred_at,
                OrderEvent.Kind.SHIPMENT_STATUS,
                shipment=shipment,
                from_status=status,
                to_status=scan.status,
            )
            status = scan.status
    shipment.status = status
    shipment.last_event_at = scans[-1].occurred_at if scans else None
    if status == ShipmentStatus.DELIVERED:
        shipment.delivered_at = scans[-1].occurred_at
    shipment.updated_at = shipment.last_event_at or shipment.created_at
    timeline.batch.scans += scans


def _scan(status: str, at: datetime, description: str, location: str) -> TrackingEvent:
    key = TrackingEventData(status, at, description, location).dedupe_key()
    return TrackingEvent(
        status=status, occurred_at=at, description=description, location=location, dedupe_key=key
    )


def _journey(
    rng: random.Random, carrier: Carrier, place: Place, ship_at: datetime
) -> list[TrackingEvent]:
    """A parcel's whole trip, from label to doorstep, with the odd exception on the way."""
    tz = ZoneInfo(place.tz)
    pickup = ship_at + timedelta(hours=rng.uniform(2, 9))
    arrival = (pickup + timedelta(days=rng.randint(*carrier.transit_days))).astimezone(tz).date()
    mishap = rng.random()
    if mishap < 0.03:
        arrival += timedelta(days=rng.randint(1, 2))  # held up by weather on the way
    out = _local(arrival, rng.uniform(6.5, 9.5), tz)
    at_destination = out - timedelta(hours=rng.uniform(2, 5))
    scans = [
        _scan(TrackingStatus.LABEL_CREATED, ship_at, "Shipping label created", ORIGIN),
        _scan(TrackingStatus.IN_TRANSIT, pickup, "Picked up by carrier", ORIGIN),
    ]
    hubs = sorted(rng.sample(range(len(carrier.hubs)), k=rng.randint(1, 2)))
    for n, hub in enumerate(hubs, start=1):
        at = pickup + (at_destination - pickup) * (n / (len(hubs) + 1))
        scans.append(_scan(TrackingStatus.IN_TRANSIT, at, rng.choice(HUB_SCANS), carrier.hubs[hub]))
    if mishap < 0.03:
        at = scans[-1].occurred_at + timedelta(hours=1)
        scans.append(_scan(TrackingStatus.EXCEPTION, at, "Weather delay", carrier.hubs[hubs[-1]]))
    scans.append(
        _scan(TrackingStatus.IN_TRANSIT, at_destination, "Arrived at destination", place.label)
    )
    scans.append(_scan(TrackingStatus.OUT_FOR_DELIVERY, out, "Out for delivery", place.label))
    if 0.03 <= mishap < 0.07:
        failed = out + timedelta(hours=rng.uniform(3, 8))
        note = "Delivery attempted: no access to delivery location"
        scans.append(_scan(TrackingStatus.EXCEPTION, failed, note, place.label))
        out = _local(arrival + timedelta(days=1), rng.uniform(6.5, 9.5), tz)
        scans.append(_scan(TrackingStatus.OUT_FOR_DELIVERY, out, "Out for delivery", place.label))
    delivered = out + timedelta(hours=rng.uniform(1.5, 12))
    scans.append(
        _scan(TrackingStatus.DELIVERED, delivered, rng.choice(DELIVERED_SCANS), place.label)
    )
    return sorted(scans, key=lambda s: s.occurred_at)


# --- Logins ---------------------------------------------------------------------------------


def _users_ensure(shop: Shop, password: str) -> dict[str, bool]:
    """The demo owner and an admin superuser. An account that already exists keeps its
    password: it may be someone's real login."""
    user_model = get_user_model()
    created: dict[str, bool] = {}
    for username, is_superuser in ((STAFF_USERNAME, False), (ADMIN_USERNAME, True)):
        user = user_model.objects.filter(username=username).first()
        created[username] = user is None
        if user is None:
            make = (
                user_model.objects.create_superuser
                if is_superuser
                else user_model.objects.create_user
            )
            user = make(
                username=username, email=f"{username}@northwind-goods.example", password=password
            )
        if not is_superuser:
            StaffMembership.objects.get_or_create(
                user=user, shop=shop, defaults={"role": StaffRole.OWNER}
            )
    return created
