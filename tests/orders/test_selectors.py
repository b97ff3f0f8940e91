from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.http import Http404
from django.utils import timezone

from orders import selectors
from orders.models import FinancialStatus, OrderEvent, OrderStatus, ShipmentStatus
from tests.factories import (
    ConsentFactory,
    CustomerFactory,
    LineItemFactory,
    OrderEventFactory,
    OrderFactory,
    ShipmentFactory,
    TrackingEventFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _numbers(orders) -> list[str]:
    return [order.number for order in orders]


def test_order_list_for_shop_holds_only_that_shops_orders(shop, other_shop):
    mine = OrderFactory(shop=shop)
    OrderFactory(shop=other_shop)

    orders = selectors.order_list_for_shop(shop=shop)

    assert _numbers(orders) == [mine.number]


def test_order_list_for_shop_is_newest_first_with_unit_counts(shop):
    older = OrderFactory(shop=shop, placed_at=timezone.now() - timedelta(days=5))
    newer = OrderFactory(shop=shop, placed_at=timezone.now() - timedelta(days=1))
    LineItemFactory(order=newer, quantity=2)
    LineItemFactory(order=newer, quantity=3)

    orders = list(selectors.order_list_for_shop(shop=shop))

    assert _numbers(orders) == [newer.number, older.number]
    assert [order.item_count for order in orders] == [5, 0]


@pytest.mark.parametrize("query", ["#4242", "4242", " 4242 "])
def test_order_list_search_finds_the_number_with_or_without_hash(shop, query):
    wanted = OrderFactory(shop=shop, number="#4242")
    OrderFactory(shop=shop, number="#42420")

    assert _numbers(selectors.order_list_for_shop(shop=shop, query=query)) == [wanted.number]


def test_order_list_search_finds_a_number_stored_without_hash(shop):
    wanted = OrderFactory(shop=shop, number="SO-77")

    assert _numbers(selectors.order_list_for_shop(shop=shop, query="#so-77")) == [wanted.number]


def test_order_list_search_by_customer_email_is_case_insensitive(shop):
    customer = CustomerFactory(shop=shop, email="grace@navy.example")
    wanted = OrderFactory(shop=shop, customer=customer, email="")
    OrderFactory(shop=shop)

    found = selectors.order_list_for_shop(shop=shop, query="GRACE@navy")

    assert _numbers(found) == [wanted.number]


def test_order_list_search_by_order_email(shop):
    wanted = OrderFactory(shop=shop, email="gift@buyer.example")
    OrderFactory(shop=shop)

    assert _numbers(selectors.order_list_for_shop(shop=shop, query="gift@buyer")) == [wanted.number]


@pytest.mark.parametrize("query", ["Grace Hopper", "hopper", "grace"])
def test_order_list_search_by_customer_name(shop, query):
    customer = CustomerFactory(shop=shop, first_name="Grace", last_name="Hopper")
    wanted = OrderFactory(shop=shop, customer=customer)
    OrderFactory(shop=shop, customer=CustomerFactory(shop=shop, first_name="Ada"))

    assert _numbers(selectors.order_list_for_shop(shop=shop, query=query)) == [wanted.number]


def test_order_list_search_never_crosses_shops(shop, other_shop):
    OrderFactory(shop=other_shop, number="#9000")

    assert list(selectors.order_list_for_shop(shop=shop, query="9000")) == []


def test_order_list_filters_by_status(shop):
    shipped = OrderFactory(shop=shop, status=OrderStatus.SHIPPED)
    OrderFactory(shop=shop, status=OrderStatus.PLACED)

    found = selectors.order_list_for_shop(shop=shop, status=OrderStatus.SHIPPED)

    assert _numbers(found) == [shipped.number]


def test_order_list_date_filter_uses_whole_days_in_the_shops_zone(shop):
    # 03:00 UTC on 10 March is still the evening of 9 March in New York (the shop's zone).
    assert shop.timezone == "America/New_York"
    late_evening = OrderFactory(shop=shop, placed_at=datetime(2024, 3, 10, 3, 0, tzinfo=UTC))
    next_day = OrderFactory(shop=shop, placed_at=datetime(2024, 3, 10, 15, 0, tzinfo=UTC))

    ninth = selectors.order_list_for_shop(
        shop=shop, placed_from=date(2024, 3, 9), placed_to=date(2024, 3, 9)
    )
    from_tenth = selectors.order_list_for_shop(shop=shop, placed_from=date(2024, 3, 10))

    assert _numbers(ninth) == [late_evening.number]
    assert _numbers(from_tenth) == [next_day.number]


def test_order_get_for_shop_returns_its_order(shop):
    order = OrderFactory(shop=shop)

    assert selectors.order_get_for_shop(shop=shop, order_id=order.pk) == order


def test_order_get_for_shop_is_404_for_another_shops_order(shop, other_shop):
    theirs = OrderFactory(shop=other_shop)

    with pytest.raises(Http404):
        selectors.order_get_for_shop(shop=shop, order_id=theirs.pk)


def test_order_timeline_merges_order_and_tracking_events_in_time_order(shop):
    start = timezone.now() - timedelta(days=3)
    order = OrderFactory(shop=shop)
    shipment = ShipmentFactory(order=order, carrier="UPS", tracking_number="1Z999")
    OrderEventFactory(order=order, kind=OrderEvent.Kind.CREATED, note="", at=start)
    OrderEventFactory(
        order=order,
        kind=OrderEvent.Kind.STATUS_CHANGED,
        from_status="placed",
        to_status="shipped",
        note="",
        at=start + timedelta(hours=5),
    )
    TrackingEventFactory(
        shipment=shipment,
        status="in_transit",
        description="Departed facility",
        location="Memphis, TN",
        occurred_at=start + timedelta(hours=10),
    )
    TrackingEventFactory(
        shipment=shipment, status="label_created", occurred_at=start + timedelta(hours=2)
    )
    OrderEventFactory(
        order=order, kind=OrderEvent.Kind.NOTE, note="Gift wrap", at=start + timedelta(hours=20)
    )

    timeline = selectors.order_timeline(order=order)

    assert [entry.title for entry in timeline] == [
        "Order received",
        "Label created",
        "Order Placed → Shipped",
        "In transit",
        "Note",
    ]
    assert [entry.at for entry in timeline] == sorted(entry.at for entry in timeline)
    assert [entry.kind for entry in timeline] == [
        "created",
        "tracking",
        "status_changed",
        "tracking",
        "note",
    ]
    assert timeline[3].detail == "Departed facility · Memphis, TN"
    assert timeline[3].actor == "UPS 1Z999"
    assert timeline[4].detail == "Gift wrap"


def test_order_timeline_names_the_staff_member_who_acted(shop):
    order = OrderFactory(shop=shop)
    person = UserFactory(first_name="Sam", last_name="Rivera")
    OrderEventFactory(order=order, actor=person)

    (entry,) = selectors.order_timeline(order=order)

    assert entry.actor == "Sam Rivera"


def test_order_timeline_leaves_out_other_orders_scans(shop):
    order = OrderFactory(shop=shop)
    TrackingEventFactory(shipment=ShipmentFactory(order=OrderFactory(shop=shop)))

    assert selectors.order_timeline(order=order) == []


def test_shop_overview_counts_the_last_30_days_of_this_shop_only(shop, other_shop):
    now = timezone.now()
    recent = now - timedelta(days=2)
    OrderFactory(shop=shop, placed_at=recent, total=Decimal("10.00"))
    OrderFactory(shop=shop, placed_at=recent, total=Decimal("15.50"), status=OrderStatus.SHIPPED)
    OrderFactory(shop=shop, placed_at=recent, total=Decimal("7.25"), currency="EUR")
    OrderFactory(shop=shop, placed_at=recent, total=Decimal("99.00"), status=OrderStatus.CANCELLED)
    OrderFactory(
        shop=shop,
        placed_at=now - timedelta(days=40),
        total=Decimal("500.00"),
        status=OrderStatus.DELIVERED,
        delivered_at=now - timedelta(days=3),
    )
    ShipmentFactory(
        order=OrderFactory(shop=shop, placed_at=now - timedelta(days=60)),
        status=ShipmentStatus.EXCEPTION,
    )
    OrderFactory(shop=other_shop, placed_at=recent, total=Decimal("1000.00"))
    ShipmentFactory(order=OrderFactory(shop=other_shop), status=ShipmentStatus.EXCEPTION)

    overview = selectors.shop_overview(shop=shop)

    assert overview.orders_last_30_days == 4
    assert overview.revenue_last_30_days == [("EUR", Decimal("7.25")), ("USD", Decimal("25.50"))]
    assert overview.orders_in_transit == 1
    assert overview.orders_with_exception == 1
    assert overview.delivered_last_30_days == 1


def test_shop_overview_revenue_leaves_out_voided_and_refunded_orders(shop):
    recent = timezone.now() - timedelta(days=2)
    for status, total in [
        (FinancialStatus.PAID, "10.00"),
        (FinancialStatus.PENDING, "4.00"),
        (FinancialStatus.AUTHORIZED, "3.00"),
        (FinancialStatus.PARTIALLY_PAID, "2.00"),
        (FinancialStatus.PARTIALLY_REFUNDED, "20.00"),
        (FinancialStatus.REFUNDED, "300.00"),
        (FinancialStatus.VOIDED, "500.00"),
    ]:
        OrderFactory(shop=shop, placed_at=recent, total=Decimal(total), financial_status=status)

    overview = selectors.shop_overview(shop=shop)

    assert overview.orders_last_30_days == 7
    assert overview.revenue_last_30_days == [("USD", Decimal("39.00"))]


def test_order_timeline_names_payment_changes_and_refunds(shop):
    order = OrderFactory(shop=shop)
    OrderEventFactory(
        order=order,
        kind=OrderEvent.Kind.PAYMENT_STATUS,
        from_status="paid",
        to_status="partially_refunded",
        note="",
    )
    OrderEventFactory(
        order=order,
        kind=OrderEvent.Kind.REFUNDED,
        note="Arrived scratched",
        data={"refund_id": "1", "amount": "12.50", "currency": "EUR"},
    )
    OrderEventFactory(order=order, kind=OrderEvent.Kind.REFUNDED, note="", data={"refund_id": "2"})

    entries = selectors.order_timeline(order=order)

    assert [(entry.title, entry.detail) for entry in entries] == [
        ("Payment Paid → Partially refunded", ""),
        ("Refund of 12.50 EUR", "Arrived scratched"),
        ("Refund (amount not given)", ""),
    ]


def test_customer_consents_covers_every_channel(shop):
    customer = CustomerFactory(shop=shop)
    ConsentFactory(customer=customer, channel="sms", status="revoked", source="api")

    rows = selectors.customer_consents(customer=customer)

    assert [(row.channel, row.status, row.source) for row in rows] == [
        ("Email", "Not given", ""),
        ("SMS", "Revoked", "api"),
        ("WhatsApp", "Not given", ""),
    ]
