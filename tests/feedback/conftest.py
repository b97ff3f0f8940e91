"""Surveys as a customer meets them: a delivered order, its survey planned by the engine from
`order_delivered`, sent by email or text."""

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.models import SurveyRequest
from notifications.engine.kinds import flows_ensure_defaults
from notifications.engine.planning import event_schedule_messages
from notifications.models import Flow, Message, MessageStatus
from orders.events import OrderEventName
from orders.models import OrderStatus, Purpose
from postpurchase.events import Event
from tests.factories import ConsentFactory, CustomerFactory, OrderFactory
from tests.notifications.conftest import daytime, fake_twilio  # noqa: F401 - fixtures

PHONE = "+14155550123"


def order_delivered(order) -> Event:
    return Event(
        id=2,
        name=OrderEventName.ORDER_DELIVERED,
        shop_id=order.shop_id,
        payload={"order_id": order.pk, "delivered_at": order.delivered_at.isoformat()},
    )


def delivered_order(shop=None, *, customer=None, delivered_at=None, sms=False, **fields):
    """A delivered order whose customer agreed to marketing by email (and by text)."""
    values = {"shop": shop} if shop is not None else {}
    known = customer is not None
    if customer is None:
        customer = CustomerFactory(phone=PHONE, **values)
    order = OrderFactory(
        shop=customer.shop,
        customer=customer,
        status=fields.pop("status", OrderStatus.DELIVERED),
        delivered_at=delivered_at or timezone.now() - timedelta(days=3),
        phone=PHONE,
        **fields,
    )
    for channel in ("email", "sms") if sms and not known else ("email",) if not known else ():
        ConsentFactory(customer=customer, channel=channel, purpose=Purpose.MARKETING)
    return order


def survey_channels(shop, channels: list[str]) -> None:
    flows_ensure_defaults(shop_id=shop.pk)
    Flow.objects.filter(shop=shop, kind="survey_request").update(channels=channels)


def survey_messages(order) -> list[Message]:
    """Plan what the order's delivery owes, as the engine does; its survey messages."""
    return [
        m for m in event_schedule_messages(order_delivered(order)) if m.kind == "survey_request"
    ]


def mark_sent(message: Message, *, at=None) -> Message:
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENT,
        sent_at=at or timezone.now(),
        provider="twilio" if message.channel == "sms" else "test",
        provider_message_id=f"SM{message.pk:032d}",
    )
    message.refresh_from_db()
    return message


def sent_survey(order, *, at=None) -> SurveyRequest:
    """The order's survey, planned and sent (its message recorded as sent)."""
    (message,) = survey_messages(order)
    mark_sent(message, at=at)
    return SurveyRequest.objects.get(order=order)


def sms_survey(shop=None, *, at=None, **fields) -> SurveyRequest:
    """A survey texted to PHONE."""
    order = delivered_order(shop, sms=True, **fields)
    survey_channels(order.shop, ["sms"])
    return sent_survey(order, at=at)


@pytest.fixture
def twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = "twilio-auth-token-for-tests"
