"""Care guide and review request: timed from delivery, about what the customer received."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail, signing
from django.utils import timezone

from notifications.engine.kinds import flows_ensure_defaults
from notifications.engine.planning import event_schedule_messages
from notifications.models import Flow, Message, MessageStatus, Purpose
from notifications.services import message_render, message_send
from orders.events import OrderEventName
from orders.models import FinancialStatus, OrderStatus
from orders.services.payments import order_payment_status_record
from postpurchase.events import Event
from tests.factories import (
    ConsentFactory,
    LineItemFactory,
    OrderFactory,
    ProductFactory,
    ShipmentFactory,
    ShipmentItemFactory,
)

pytestmark = pytest.mark.django_db

DELIVERED_AT = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


def delivered(shipment) -> Event:
    return Event(
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


def order_delivered(order) -> Event:
    return Event(
        id=2,
        name=OrderEventName.ORDER_DELIVERED,
        shop_id=order.shop_id,
        payload={"order_id": order.pk, "delivered_at": order.delivered_at.isoformat()},
    )


def delivered_shipment(order, **kwargs):
    return ShipmentFactory(order=order, status="delivered", delivered_at=DELIVERED_AT, **kwargs)


def marketing_allowed(order):
    """Review requests and reminders are marketing: they need the customer's consent."""
    ConsentFactory(customer=order.customer, channel="email", purpose=Purpose.MARKETING)
    return order


def of_kind(messages, kind):
    return [m for m in messages if m.kind == kind]


def test_care_guide_three_days_after_delivery_with_only_the_guides_there_are():
    order = OrderFactory()
    kettle = ProductFactory(
        shop=order.shop, title="Cast-iron kettle", care_guide="Dry it.\nOil it."
    )
    tea = ProductFactory(shop=order.shop, title="Green tea", care_guide="")
    LineItemFactory(order=order, product=kettle, title=kettle.title)
    LineItemFactory(order=order, product=tea, title=tea.title)
    shipment = delivered_shipment(order)

    (message,) = of_kind(event_schedule_messages(delivered(shipment)), "care_guide")

    assert message.send_at == DELIVERED_AT + timedelta(days=3)
    assert (message.about_type, message.about_id) == ("shipment", shipment.pk)
    assert message.purpose == Purpose.TRANSACTIONAL
    assert message.context["guides"] == [
        {"title": "Cast-iron kettle", "care_guide": "Dry it.\nOil it."}
    ]
    text = message_render(kind="care_guide", channel="email", context=message.context)
    assert "Oil it." in text.body_text
    assert "Dry it.<br>Oil it." in text.body_html
    assert "Green tea" not in text.body_text


def test_no_care_guide_when_no_product_in_the_parcel_has_one():
    order = OrderFactory()
    LineItemFactory(order=order, product=ProductFactory(shop=order.shop, care_guide=""))
    LineItemFactory(order=order, product=None)

    messages = event_schedule_messages(delivered(delivered_shipment(order)))

    assert of_kind(messages, "care_guide") == []
    assert of_kind(messages, "shipment_delivered")


def test_a_split_order_sends_each_parcel_the_guides_of_its_own_products():
    order = OrderFactory()
    guided = [
        LineItemFactory(order=order, product=ProductFactory(shop=order.shop, care_guide=g))
        for g in ("Guide one", "Guide two")
    ]
    first = delivered_shipment(order)
    ShipmentItemFactory(shipment=first, line_item=guided[0])
    second = ShipmentFactory(order=order, status="in_transit")
    ShipmentItemFactory(shipment=second, line_item=guided[1])

    (message,) = of_kind(event_schedule_messages(delivered(first)), "care_guide")

    assert [g["care_guide"] for g in message.context["guides"]] == ["Guide one"]


def test_review_request_once_per_order_seven_days_after_its_last_parcel_arrived():
    order = marketing_allowed(OrderFactory(status=OrderStatus.DELIVERED, delivered_at=DELIVERED_AT))
    shipment = delivered_shipment(order)

    from_parcel = event_schedule_messages(delivered(shipment))
    messages = event_schedule_messages(order_delivered(order))
    event_schedule_messages(order_delivered(order))

    assert of_kind(from_parcel, "review_request") == []
    (message,) = of_kind(messages, "review_request")
    assert message.send_at == DELIVERED_AT + timedelta(days=7)
    assert message.purpose == Purpose.MARKETING
    assert (message.about_type, message.about_id) == ("order", order.pk)
    assert Message.objects.filter(kind="review_request").count() == 1
    url = message.context["review_url"]
    assert url.startswith("https://shop.test/feedback/")
    # The review page of the order's feedback link (the review request is feedback's kind).
    assert url.endswith("/review/")
    token = url.removeprefix("https://shop.test/feedback/").removesuffix("/review/")
    assert signing.loads(token, salt="feedback.order") == order.pk
    text = message_render(kind="review_request", channel="email", context=message.context)
    assert url in text.body_text
    assert url in text.body_html


@pytest.mark.parametrize("status", [FinancialStatus.VOIDED, FinancialStatus.REFUNDED])
def test_no_review_request_for_an_order_whose_payment_was_reversed(status):
    order = marketing_allowed(
        OrderFactory(
            status=OrderStatus.DELIVERED, delivered_at=DELIVERED_AT, financial_status=status
        )
    )
    delivered_shipment(order)

    messages = event_schedule_messages(order_delivered(order))

    assert of_kind(messages, "review_request") == []
    assert not Message.objects.filter(kind="review_request").exists()


def test_order_updates_still_reach_the_customer_of_a_refunded_order():
    order = OrderFactory(financial_status=FinancialStatus.REFUNDED)
    kettle = ProductFactory(shop=order.shop, care_guide="Dry it.")
    LineItemFactory(order=order, product=kettle, title=kettle.title)

    messages = event_schedule_messages(delivered(delivered_shipment(order)))

    assert [m.purpose for m in of_kind(messages, "care_guide")] == [Purpose.TRANSACTIONAL]


def test_a_partly_refunded_order_still_gets_its_review_request():
    order = marketing_allowed(
        OrderFactory(
            status=OrderStatus.DELIVERED,
            delivered_at=DELIVERED_AT,
            financial_status=FinancialStatus.PARTIALLY_REFUNDED,
        )
    )

    assert len(of_kind(event_schedule_messages(order_delivered(order)), "review_request")) == 1


def test_a_review_request_scheduled_before_a_full_refund_is_cancelled_when_due(shop):
    order = marketing_allowed(
        OrderFactory(
            shop=shop,
            status=OrderStatus.DELIVERED,
            delivered_at=DELIVERED_AT,
            financial_status=FinancialStatus.PAID,
        )
    )
    (review,) = of_kind(event_schedule_messages(order_delivered(order)), "review_request")
    # The shop refunds everything while the request waits for its day.
    order_payment_status_record(order=order, status=FinancialStatus.REFUNDED)
    Message.objects.filter(pk=review.pk).update(
        status=MessageStatus.QUEUED, send_at=timezone.now(), expires_at=None
    )

    message_send(message_id=review.pk)

    review.refresh_from_db()
    assert review.status == MessageStatus.CANCELLED
    assert review.status_reason == "the order's payment was refunded"
    assert mail.outbox == []


@pytest.mark.parametrize("kind", ["care_guide", "review_request", "replenishment"])
def test_a_disabled_flow_schedules_nothing(kind):
    order = marketing_allowed(OrderFactory(status=OrderStatus.DELIVERED, delivered_at=DELIVERED_AT))
    product = ProductFactory(
        shop=order.shop, care_guide="Keep dry.", is_consumable=True, days_of_use=30
    )
    LineItemFactory(order=order, product=product)
    shipment = delivered_shipment(order)
    flows_ensure_defaults(shop_id=order.shop_id)
    Flow.objects.filter(shop=order.shop, kind=kind).update(is_enabled=False)

    scheduled = event_schedule_messages(delivered(shipment)) + event_schedule_messages(
        order_delivered(order)
    )

    kinds = {m.kind for m in scheduled}
    assert kind not in kinds
    assert {"care_guide", "review_request", "replenishment"} - {kind} <= kinds


def test_a_shop_can_change_the_delay_and_channels_of_a_follow_up():
    order = OrderFactory()
    LineItemFactory(order=order, product=ProductFactory(shop=order.shop, care_guide="Wash cold."))
    flows_ensure_defaults(shop_id=order.shop_id)
    Flow.objects.filter(shop=order.shop, kind="care_guide").update(delay=timedelta(days=10))

    (message,) = of_kind(
        event_schedule_messages(delivered(delivered_shipment(order))), "care_guide"
    )

    assert message.send_at == DELIVERED_AT + timedelta(days=10)
