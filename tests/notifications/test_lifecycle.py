"""Order events become the messages the shop's flows owe the customer, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.flows import DEFAULT_FLOWS
from notifications.models import Flow, Message, MessageStatus
from notifications.services.lifecycle import (
    order_cancelled_cancel_messages,
    order_event_schedule_messages,
)
from orders.events import Event
from orders.models import Channel, EventName
from tests.factories import ConsentFactory, CustomerFactory, LineItemFactory, OrderFactory

pytestmark = pytest.mark.django_db


def placed(order) -> Event:
    return Event(
        id=1, name=EventName.ORDER_PLACED, shop_id=order.shop_id, payload={"order_id": order.pk}
    )


def test_order_placed_schedules_the_confirmation_by_email_with_the_order_in_its_context():
    order = OrderFactory()
    LineItemFactory(order=order, title="Green tea", quantity=2)

    messages = order_event_schedule_messages(placed(order))

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

    consenting = order_event_schedule_messages(
        placed(OrderFactory(customer=with_consent, shop=with_consent.shop))
    )
    silent = order_event_schedule_messages(
        placed(OrderFactory(customer=without_consent, shop=without_consent.shop))
    )

    assert sorted(m.channel for m in consenting) == ["email", "sms"]
    assert [m.channel for m in silent] == ["email"]


def test_the_same_event_twice_schedules_nothing_more():
    order = OrderFactory()

    order_event_schedule_messages(placed(order))
    order_event_schedule_messages(placed(order))

    assert Message.objects.count() == 1


def test_every_shop_gets_the_default_flows_once_and_a_disabled_flow_sends_nothing():
    order = OrderFactory()
    order_event_schedule_messages(placed(order))
    assert Flow.objects.filter(shop=order.shop).count() == len(DEFAULT_FLOWS)

    Flow.objects.filter(shop=order.shop).update(is_enabled=False)
    second = OrderFactory(shop=order.shop)

    assert order_event_schedule_messages(placed(second)) == []
    assert Flow.objects.filter(shop=order.shop).count() == len(DEFAULT_FLOWS)


def test_a_cancelled_order_cancels_what_is_pending_for_it():
    order = OrderFactory()
    order_event_schedule_messages(placed(order))

    cancelled = order_cancelled_cancel_messages(
        Event(
            id=2,
            name=EventName.ORDER_CANCELLED,
            shop_id=order.shop_id,
            payload={"order_id": order.pk},
        )
    )

    assert cancelled == 1
    assert Message.objects.get().status == MessageStatus.CANCELLED
