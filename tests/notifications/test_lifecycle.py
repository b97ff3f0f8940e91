"""Order events become the messages the shop's flows owe the customer, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.engine.planning import (
    event_schedule_messages,
    order_cancelled_cancel_messages,
)
from notifications.models import Flow, Message, MessageStatus
from notifications.services import message_render
from orders.events import OrderEventName
from orders.messages import order_context, shipment_context
from orders.models import Channel
from postpurchase import events
from postpurchase.events import Event
from postpurchase.message_kinds import message_kinds
from tests.factories import (
    ConsentFactory,
    CustomerFactory,
    LineItemFactory,
    OrderFactory,
    ShipmentFactory,
)

pytestmark = pytest.mark.django_db


def placed(order) -> Event:
    return Event(
        id=1,
        name=OrderEventName.ORDER_PLACED,
        shop_id=order.shop_id,
        payload={"order_id": order.pk},
    )


def test_order_placed_schedules_the_confirmation_by_email_with_the_order_in_its_context():
    order = OrderFactory()
    LineItemFactory(order=order, title="Green tea", quantity=2)

    messages = event_schedule_messages(placed(order))

    assert [(m.kind, m.channel, m.recipient) for m in messages] == [
        ("order_confirmation", "email", order.email)
    ]
    message = messages[0]
    assert message.status == MessageStatus.SCHEDULED
    assert message.send_at <= timezone.now()
    assert message.expires_at - message.send_at == timedelta(days=1)
    assert message.context["order_number"] == order.number
    assert message.context["items"][0]["title"] == "Green tea"


def test_sms_is_added_only_for_a_customer_who_consented_to_texts():
    with_consent = CustomerFactory(phone="+14155550123")
    ConsentFactory(customer=with_consent, shop=with_consent.shop, channel=Channel.SMS)
    without_consent = CustomerFactory(phone="+14155550124")

    consenting = event_schedule_messages(
        placed(OrderFactory(customer=with_consent, shop=with_consent.shop))
    )
    silent = event_schedule_messages(
        placed(OrderFactory(customer=without_consent, shop=without_consent.shop))
    )

    assert sorted(m.channel for m in consenting) == ["email", "sms"]
    assert [m.channel for m in silent] == ["email"]


def test_the_same_event_twice_schedules_nothing_more():
    order = OrderFactory()

    event_schedule_messages(placed(order))
    event_schedule_messages(placed(order))

    assert Message.objects.count() == 1


def test_every_shop_gets_the_default_flows_once_and_a_disabled_flow_sends_nothing():
    order = OrderFactory()
    event_schedule_messages(placed(order))
    assert Flow.objects.filter(shop=order.shop).count() == len(message_kinds())

    Flow.objects.filter(shop=order.shop).update(is_enabled=False)
    second = OrderFactory(shop=order.shop)

    assert event_schedule_messages(placed(second)) == []
    assert Flow.objects.filter(shop=order.shop).count() == len(message_kinds())


def test_a_cancelled_order_cancels_what_is_pending_for_it():
    order = OrderFactory()
    event_schedule_messages(placed(order))

    cancelled = order_cancelled_cancel_messages(
        Event(
            id=2,
            name=OrderEventName.ORDER_CANCELLED,
            shop_id=order.shop_id,
            payload={"order_id": order.pk},
        )
    )

    assert cancelled == 1
    assert Message.objects.get().status == MessageStatus.CANCELLED


def shipment_event(shipment, name=OrderEventName.SHIPMENT_CREATED, **payload) -> Event:
    return Event(
        id=3,
        name=name,
        shop_id=shipment.shop_id,
        payload={"order_id": shipment.order_id, "shipment_id": shipment.pk, **payload},
    )


def test_a_new_shipment_schedules_the_shipped_message_about_that_parcel():
    shipment = ShipmentFactory(carrier="UPS", tracking_number="1Z999")

    messages = event_schedule_messages(shipment_event(shipment))

    assert [(m.kind, m.about_type, m.about_id) for m in messages] == [
        ("shipment_shipped", "shipment", shipment.pk)
    ]
    assert messages[0].context["tracking_number"] == "1Z999"
    assert messages[0].context["order_number"] == shipment.order.number


def test_each_parcel_of_a_split_order_gets_its_own_message():
    first = ShipmentFactory()
    second = ShipmentFactory(order=first.order)

    event_schedule_messages(shipment_event(first))
    event_schedule_messages(shipment_event(second))

    assert Message.objects.filter(kind="shipment_shipped").count() == 2


@pytest.mark.parametrize(
    ("to_status", "kind"),
    [
        ("out_for_delivery", "shipment_out_for_delivery"),
        ("delivered", "shipment_delivered"),
        ("exception", "shipment_exception"),
        ("in_transit", None),
    ],
)
def test_status_changes_start_only_the_flow_whose_condition_they_meet(to_status, kind):
    shipment = ShipmentFactory()
    event = shipment_event(
        shipment,
        name=OrderEventName.SHIPMENT_STATUS_CHANGED,
        from_status="pending",
        to_status=to_status,
    )

    messages = event_schedule_messages(event)

    assert [m.kind for m in messages] == ([kind] if kind else [])


@pytest.mark.parametrize("spec", message_kinds(), ids=lambda spec: spec.name)
def test_every_default_flow_starts_on_an_event_some_app_declares_or_a_periodic_check(spec):
    # Flows name other apps' events without importing them: a misspelt name is caught here.
    assert spec.is_periodic or events.is_declared(spec.trigger)
    if not spec.is_periodic:
        assert f"notifications.{spec.trigger}" in events.subscribers_of(spec.trigger)


@pytest.mark.parametrize("spec", message_kinds(), ids=lambda spec: spec.name)
@pytest.mark.parametrize("channel", ["email", "sms"])
def test_every_default_flow_renders_on_every_channel(spec, channel):
    order = OrderFactory()
    LineItemFactory(order=order, title="Green tea")
    context = order_context(order) | shipment_context(ShipmentFactory(order=order, carrier="DHL"))

    text = message_render(kind=spec.name, channel=channel, context=context)

    # A birthday, a loyalty tier or a referral's reward is about the customer, not an order: it
    # names them instead.
    about_customer = {
        "birthday",
        "loyalty_tier_up",
        "loyalty_referral_rewarded",
        "loyalty_points_expiring",
        "loyalty_reward_available",
    }
    about = context["customer_first_name"] if spec.name in about_customer else order.number
    assert about in (text.subject + text.body_text)
    if channel == "email":
        assert text.subject
        assert about in text.body_html
        assert "<html" in text.body_html
    else:
        assert order.shop.name in text.body_text
