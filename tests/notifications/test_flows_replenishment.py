"""Replenishment reminders: predicted from the customer, the shop or the product, timed from
delivery, cancelled by a reorder."""

from datetime import UTC, datetime, timedelta

import pytest

from notifications.engine.planning import event_schedule_messages
from notifications.flows.replenishment import (
    order_placed_cancel_replenishment,
    replenishment_predict,
)
from notifications.models import Message, MessageStatus, Purpose
from notifications.services import message_render
from orders.events import OrderEventName
from orders.models import OrderStatus
from postpurchase.events import Event
from tests.factories import (
    ConsentFactory,
    CustomerFactory,
    LineItemFactory,
    OrderFactory,
    ProductFactory,
    ShipmentFactory,
)

pytestmark = pytest.mark.django_db

DELIVERED_AT = datetime(2026, 4, 4, 12, 0, tzinfo=UTC)


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC)


def bought(customer, product, day: str, quantity=1, **order_fields):
    order = OrderFactory(
        shop=customer.shop, customer=customer, placed_at=at(day), number=f"#{day}", **order_fields
    )
    return LineItemFactory(order=order, product=product, title=product.title, quantity=quantity)


def customer_with_consent(shop):
    customer = CustomerFactory(shop=shop)
    ConsentFactory(customer=customer, channel="email", purpose=Purpose.MARKETING)
    return customer


@pytest.fixture
def coffee(shop):
    return ProductFactory(
        shop=shop,
        title="Coffee beans 1 kg",
        is_consumable=True,
        days_of_use=30,
        url="https://shop.example/coffee",
    )


def deliver(line_item) -> list[Message]:
    """The parcel with this line arrives at DELIVERED_AT; what the flows schedule."""
    shipment = ShipmentFactory(order=line_item.order, status="delivered", delivered_at=DELIVERED_AT)
    event = Event(
        id=1,
        name=OrderEventName.SHIPMENT_STATUS_CHANGED,
        shop_id=shipment.shop_id,
        payload={
            "order_id": shipment.order_id,
            "shipment_id": shipment.pk,
            "from_status": "in_transit",
            "to_status": "delivered",
        },
    )
    return [m for m in event_schedule_messages(event) if m.kind == "replenishment"]


def test_the_customers_own_median_interval_when_they_ordered_it_at_least_twice(shop, coffee):
    customer = customer_with_consent(shop)
    for day in ("2026-01-01", "2026-01-21", "2026-03-02"):  # gaps of 20 and 40 days
        bought(customer, coffee, day)
    line = bought(customer, coffee, "2026-04-01")  # and 30: the median is 30 days
    other = CustomerFactory(shop=shop)
    bought(other, coffee, "2026-01-01")
    bought(other, coffee, "2026-01-03")  # the shop's customers would say 2 days

    prediction = replenishment_predict(line_item=line)
    (message,) = deliver(line)

    assert (prediction.interval, prediction.basis) == (timedelta(days=30), "customer")
    # Runs out 30 days after delivery (May 4, 12:00); the reminder goes 5 days before.
    assert message.send_at == datetime(2026, 4, 29, 12, 0, tzinfo=UTC)
    assert message.context["runs_out_on"] == "2026-05-04"
    assert message.purpose == Purpose.MARKETING
    assert (message.about_type, message.about_id) == ("line_item", line.pk)


def test_the_shops_median_interval_when_the_customer_has_bought_it_once(shop, coffee):
    first, second = CustomerFactory(shop=shop), CustomerFactory(shop=shop)
    bought(first, coffee, "2026-01-01")
    bought(first, coffee, "2026-01-11")  # 10 days
    for day in ("2026-01-01", "2026-01-21", "2026-03-22"):  # 20 and 60 days
        bought(second, coffee, day)
    bought(CustomerFactory(shop=shop), coffee, "2026-02-01")  # once: no interval
    cancelled = bought(first, coffee, "2026-01-12", status=OrderStatus.CANCELLED)
    assert cancelled.order.is_cancelled  # a cancelled order is no purchase
    line = bought(customer_with_consent(shop), coffee, "2026-04-01", quantity=3)

    prediction = replenishment_predict(line_item=line)
    (message,) = deliver(line)

    assert (prediction.interval, prediction.basis) == (timedelta(days=20), "shop")
    assert message.send_at == datetime(2026, 4, 19, 12, 0, tzinfo=UTC)


def test_days_of_use_times_quantity_without_any_history(shop, coffee):
    line = bought(customer_with_consent(shop), coffee, "2026-04-01", quantity=2)
    bought(CustomerFactory(shop=shop), ProductFactory(shop=shop), "2026-01-01")

    prediction = replenishment_predict(line_item=line)
    (message,) = deliver(line)

    assert (prediction.interval, prediction.basis) == (timedelta(days=60), "days_of_use")
    assert message.send_at == datetime(2026, 5, 29, 12, 0, tzinfo=UTC)
    text = message_render(kind="replenishment", channel="email", context=message.context)
    assert "Coffee beans 1 kg" in text.subject
    assert "https://shop.example/coffee" in text.body_html
    assert "2026-06-03" in text.body_text


def test_other_shops_orders_never_count(shop, other_shop, coffee):
    elsewhere = ProductFactory(shop=other_shop, is_consumable=True, days_of_use=30)
    stranger = CustomerFactory(shop=other_shop)
    bought(stranger, elsewhere, "2026-01-01")
    bought(stranger, elsewhere, "2026-01-03")
    line = bought(customer_with_consent(shop), coffee, "2026-04-01")

    assert replenishment_predict(line_item=line).basis == "days_of_use"


def test_only_consumables_get_a_reminder(shop, coffee):
    customer = customer_with_consent(shop)
    mug = ProductFactory(shop=shop, title="Mug")
    line = bought(customer, mug, "2026-04-01")

    assert replenishment_predict(line_item=line) is None
    assert deliver(line) == []


def test_a_consumable_without_days_of_use_or_history_gets_no_reminder(shop):
    # The table's check lets a consumable go without days of use (NULL passes a CHECK).
    tea = ProductFactory(shop=shop, title="Tea", is_consumable=True, days_of_use=None)
    line = bought(customer_with_consent(shop), tea, "2026-04-01")

    assert replenishment_predict(line_item=line) is None
    assert deliver(line) == []


def test_a_reorder_cancels_the_pending_reminder_for_that_product_only(shop, coffee):
    customer = customer_with_consent(shop)
    filters = ProductFactory(shop=shop, is_consumable=True, days_of_use=90)
    line = bought(customer, coffee, "2026-04-01")
    filter_line = LineItemFactory(order=line.order, product=filters)
    messages = deliver(line)
    assert {m.about_id for m in messages} == {line.pk, filter_line.pk}

    reorder = bought(customer, coffee, "2026-04-20").order
    cancelled = order_placed_cancel_replenishment(
        Event(
            id=2,
            name=OrderEventName.ORDER_PLACED,
            shop_id=shop.pk,
            payload={"order_id": reorder.pk},
        )
    )

    assert cancelled == 1
    coffee_reminder = Message.objects.get(about_id=line.pk, kind="replenishment")
    assert coffee_reminder.status == MessageStatus.CANCELLED
    assert "reordered" in coffee_reminder.status_reason
    assert Message.objects.get(about_id=filter_line.pk).status == MessageStatus.SCHEDULED


def test_another_customers_order_cancels_nothing(shop, coffee):
    line = bought(customer_with_consent(shop), coffee, "2026-04-01")
    deliver(line)
    someone_else = bought(CustomerFactory(shop=shop), coffee, "2026-04-20").order

    cancelled = order_placed_cancel_replenishment(
        Event(
            id=2,
            name=OrderEventName.ORDER_PLACED,
            shop_id=shop.pk,
            payload={"order_id": someone_else.pk},
        )
    )

    assert cancelled == 0
    assert Message.objects.get(kind="replenishment").status == MessageStatus.SCHEDULED


def test_no_reminder_for_a_purchase_already_reordered_before_it_arrived(shop, coffee):
    customer = customer_with_consent(shop)
    line = bought(customer, coffee, "2026-03-25")
    bought(customer, coffee, "2026-04-02")

    assert deliver(line) == []


def test_each_purchase_gets_its_own_reminder(shop, coffee):
    customer = customer_with_consent(shop)
    first = bought(customer, coffee, "2026-03-01")
    deliver(first)
    order_placed_cancel_replenishment(
        Event(
            id=2,
            name=OrderEventName.ORDER_PLACED,
            shop_id=shop.pk,
            payload={"order_id": (second := bought(customer, coffee, "2026-04-01")).order_id},
        )
    )

    (message,) = deliver(second)

    assert message.about_id == second.pk
    assert message.status == MessageStatus.SCHEDULED
    assert Message.objects.get(about_id=first.pk).status == MessageStatus.CANCELLED
