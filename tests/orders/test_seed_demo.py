import itertools
import statistics
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pgtrigger
import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from loyalty.models import (
    LedgerEntry,
    LineEarning,
    Member,
    OrderEarning,
    PointLot,
    Redemption,
    Referral,
    Reward,
    TierChange,
)
from orders.models import (
    Customer,
    LineItem,
    Order,
    OrderEvent,
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
)
from orders.models.customers import validate_e164
from orders.services.api_keys import api_key_authenticate
from postpurchase.models import DomainEvent
from tests.conftest import event_enqueues
from tests.factories import ShopFactory

pytestmark = pytest.mark.django_db

SCALE = 0.05  # ~100 customers, ~500 orders


@pytest.fixture(autouse=True)
def fixed_day():
    # The generator anchors history on today's date; pin it so every run sees the same data.
    with time_machine.travel(datetime(2025, 3, 12, 15, 30, tzinfo=UTC), tick=True):
        yield


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", scale=SCALE, stdout=out, **options)
    return out.getvalue()


def snapshot() -> list[tuple]:
    return list(
        Order.objects.order_by("number").values_list(
            "number", "total", "placed_at", "status", "customer__email"
        )
    )


def delete_demo_shop() -> None:
    shop = Shop.objects.get(slug="demo")
    # The loyalty programme's rows protect the orders and customers they are about, and its
    # ledger refuses DELETE: they go first, past the ledger's trigger.
    with pgtrigger.ignore("loyalty.LedgerEntry:loyalty_entry_append_only"):
        for model in (
            PointLot,
            LedgerEntry,
            LineEarning,
            OrderEarning,
            Redemption,
            Referral,
            TierChange,
            Member,
            Reward,  # a free product's reward protects its product
        ):
            model.objects.filter(shop=shop).delete()
    Order.objects.filter(shop=shop).delete()  # orders protect their customers
    shop.delete()


def test_seed_demo_same_seed_gives_same_history():
    seed(seed=7)
    first = snapshot()
    delete_demo_shop()
    seed(seed=7)
    again = snapshot()
    delete_demo_shop()
    seed(seed=8)
    other = snapshot()

    assert len(first) > 300
    assert again == first
    assert other != first


def test_seed_demo_order_totals_add_up():
    seed()

    lines = defaultdict(list)
    for line in LineItem.objects.all():
        lines[line.order_id].append(line)
    orders = list(Order.objects.all())
    assert orders
    for order in orders:
        money = (order.subtotal, order.discount_total, order.shipping_total, order.tax_total)
        assert all(v.as_tuple().exponent == -2 for v in (*money, order.total)), order.number
        assert order.subtotal - order.discount_total + order.shipping_total + order.tax_total == (
            order.total
        ), order.number
        assert order.subtotal == sum(li.unit_price * li.quantity for li in lines[order.pk])
        assert order.discount_total == sum(li.discount_total for li in lines[order.pk])
        assert 1 <= len(lines[order.pk]) <= 4
    assert any(o.discount_total > 0 for o in orders)
    assert any(o.shipping_total == 0 for o in orders)
    assert any(o.tax_total > 0 for o in orders)


def test_seed_demo_shows_voided_refunded_and_partly_refunded_orders():
    seed()

    by_state = defaultdict(list)
    for order in Order.objects.prefetch_related("events"):
        by_state[order.financial_status].append(order)
    assert set(by_state) == {"paid", "voided", "refunded", "partially_refunded"}
    for order in by_state["voided"]:
        assert (order.status, order.paid_at) == (OrderStatus.CANCELLED, None)
    for order in by_state["refunded"]:
        (refund,) = [e for e in order.events.all() if e.kind == OrderEvent.Kind.REFUNDED]
        assert refund.data["amount"] == str(order.total)
    for order in by_state["partially_refunded"]:
        (refund,) = [e for e in order.events.all() if e.kind == OrderEvent.Kind.REFUNDED]
        assert Decimal(0) < Decimal(refund.data["amount"]) < order.total
        assert order.delivered_at < refund.at
    for order in by_state["paid"] + by_state["refunded"] + by_state["partially_refunded"]:
        assert order.paid_at is not None


def test_seed_demo_order_status_matches_its_shipments():
    seed()

    shipments = defaultdict(list)
    for shipment in Shipment.objects.all():
        shipments[shipment.order_id].append(shipment)
    shipped_qty = defaultdict(int)
    for item in ShipmentItem.objects.select_related("line_item"):
        shipped_qty[item.line_item.order_id] += item.quantity
    ordered_qty = defaultdict(int)
    for line in LineItem.objects.all():
        ordered_qty[line.order_id] += line.quantity
    seen = set()
    for order in Order.objects.all():
        mine = shipments[order.pk]
        seen.add(order.status)
        if order.status in (OrderStatus.DELIVERED, OrderStatus.CLOSED):
            assert mine
            assert all(s.status == ShipmentStatus.DELIVERED for s in mine)
            assert order.delivered_at == max(s.delivered_at for s in mine)
            assert shipped_qty[order.pk] == ordered_qty[order.pk]
        elif order.status in (OrderStatus.CANCELLED, OrderStatus.PLACED):
            assert mine == [], order.number
        else:
            assert order.status == OrderStatus.SHIPPED
            assert mine
            assert not all(s.is_delivered for s in mine) or (
                shipped_qty[order.pk] < ordered_qty[order.pk]
            )
    assert seen == set(OrderStatus.values)
    assert not Order.objects.filter(status=OrderStatus.CANCELLED, cancelled_at__isnull=True)


def test_seed_demo_tracking_history_reads_in_order():
    seed()

    scans = defaultdict(list)
    for scan in TrackingEvent.objects.order_by("occurred_at", "id"):
        scans[scan.shipment_id].append(scan)
    shipments = list(Shipment.objects.select_related("order"))
    assert shipments
    for shipment in shipments:
        history = scans[shipment.pk]
        assert history[0].status == TrackingStatus.LABEL_CREATED
        assert history[0].occurred_at == shipment.shipped_at > shipment.order.placed_at
        assert shipment.last_event_at == history[-1].occurred_at
        assert shipment.tracking_number
        assert shipment.carrier in {"USPS", "UPS", "FedEx", "DHL"}
        if shipment.is_delivered:
            assert history[-1].status == TrackingStatus.DELIVERED
            assert shipment.delivered_at == history[-1].occurred_at
            assert any(s.status == TrackingStatus.OUT_FOR_DELIVERY for s in history)


def test_seed_demo_some_orders_ship_in_two_parcels():
    seed()

    split = [o for o in Order.objects.all() if o.shipments.count() == 2]

    assert split


def test_seed_demo_loyal_customers_rebuy_consumables_on_their_rhythm():
    seed()

    bought = defaultdict(list)
    lines = LineItem.objects.filter(product__is_consumable=True).select_related("order", "product")
    for line in lines:
        key = (line.order.customer_id, line.product_id)
        bought[key].append((line.order.placed_at, line.quantity, line.product.days_of_use))
    on_rhythm = 0
    for purchases in bought.values():
        if len(purchases) < 4:
            continue
        purchases.sort()
        ratios = [
            (later[0] - earlier[0]).days / (earlier[2] * earlier[1])
            for earlier, later in itertools.pairwise(purchases)
        ]
        if 0.8 <= statistics.median(ratios) <= 1.3:
            on_rhythm += 1
    order_counts = [c.orders.count() for c in Customer.objects.all()]

    assert on_rhythm >= 3
    assert sum(1 for n in order_counts if n == 1) > len(order_counts) / 2


def test_seed_demo_customers_look_real():
    seed()

    customers = list(Customer.objects.all())
    with_phone = [c for c in customers if c.phone]
    for customer in with_phone:
        validate_e164(customer.phone)
    assert 0.45 < len(with_phone) / len(customers) < 0.75
    assert all(c.email.rsplit("@", 1)[1].startswith("example.") for c in customers)
    assert len({c.timezone for c in customers}) >= 4
    assert len({c.email for c in customers}) == len(customers)
    assert Customer.objects.filter(consents__isnull=False).exists()
    assert Customer.objects.filter(birthday__isnull=False).exists()


def test_seed_demo_catalogue_has_consumables_with_guides_and_no_remote_images():
    seed()

    products = list(Product.objects.all())
    consumables = [p for p in products if p.is_consumable]

    assert 40 <= len(products) <= 60
    assert 0.25 <= len(consumables) / len(products) <= 0.4
    assert all(p.days_of_use and p.care_guide for p in consumables)
    # Pictures come with the app's own static files: no page of the demo loads another host.
    local = f"{settings.PUBLIC_BASE_URL}/static/demo/products/"
    assert all(p.image_url.startswith(local) for p in products)
    for url in {p.image_url for p in products}:
        path = url.removeprefix(f"{settings.PUBLIC_BASE_URL}{settings.STATIC_URL}")
        assert (settings.BASE_DIR / "static" / path).is_file()
    assert not Variant.objects.exclude(image_url="").exists()
    assert Variant.objects.values("sku").distinct().count() == Variant.objects.count()


def test_seed_demo_every_order_has_a_created_event_at_its_time():
    seed()

    created = dict(
        OrderEvent.objects.filter(kind=OrderEvent.Kind.CREATED).values_list("order_id", "at")
    )
    placed = dict(Order.objects.values_list("pk", "placed_at"))

    assert created == placed


def test_seed_demo_publishes_no_domain_events(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        seed()

    assert Order.objects.exists()
    assert DomainEvent.objects.count() == 0
    assert event_enqueues(callbacks) == []


def test_seed_demo_if_empty_does_nothing_the_second_time():
    seed(if_empty=True)
    orders = Order.objects.count()

    out = seed(if_empty=True)

    assert "skipping" in out
    assert Shop.objects.count() == 1
    assert Order.objects.count() == orders


def test_seed_demo_if_empty_leaves_an_existing_shop_alone():
    ShopFactory()

    seed(if_empty=True)

    assert not Shop.objects.filter(slug="demo").exists()


def test_seed_demo_refuses_a_second_demo_shop():
    seed()

    with pytest.raises(CommandError, match="already exists"):
        seed()


def test_seed_demo_logins_work(client, rf):
    out = seed(password="s3cret-demo-pass")

    staff = get_user_model().objects.get(username="demo")
    # Sign-in throttling counts by request: a login from code names one.
    assert client.login(
        request=rf.post("/accounts/login/"), username="demo", password="s3cret-demo-pass"
    )
    assert StaffMembership.objects.get(user=staff).role == StaffRole.OWNER
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password("s3cret-demo-pass")
    assert f"{settings.PUBLIC_BASE_URL}/dashboard/" in out
    assert "demo / s3cret-demo-pass" in out


def test_seed_demo_keeps_the_password_of_an_existing_account():
    get_user_model().objects.create_user(username="admin", password="their-own-password")

    out = seed()

    assert get_user_model().objects.get(username="admin").check_password("their-own-password")
    assert "password unchanged" in out


def test_seed_demo_prints_a_working_api_key():
    out = seed()

    raw = next(word for word in out.split() if word.startswith("pp_live_"))
    key = api_key_authenticate(raw_key=raw)

    assert key is not None
    assert key.shop.slug == "demo"
