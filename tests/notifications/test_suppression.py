"""Suppression and consent block sending; a provider's refusal suppresses the address."""

import pytest
from django.core import mail

from notifications.models import MessageStatus, Purpose, Suppression, SuppressionReason
from notifications.services import message_send, suppression_add
from orders.models import Channel
from tests.factories import ConsentFactory, OrderFactory
from tests.notifications.fake_twilio import MESSAGES_PATH
from tests.notifications.test_outbox import queued, queued_sms

pytestmark = pytest.mark.django_db


def test_a_suppressed_address_is_never_sent_to_whatever_its_case():
    order = OrderFactory(email="Ada@Example.org")
    suppression_add(
        shop_id=order.shop_id, channel="email", address="ada@example.org", reason="hard_bounce"
    )
    message = queued(order, recipient="Ada@Example.org")

    message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == MessageStatus.SUPPRESSED
    assert message.status_reason == "recipient suppressed: hard bounce"
    assert mail.outbox == []


def test_suppression_is_per_shop_and_channel():
    order = OrderFactory()
    other = OrderFactory(email=order.email)
    suppression_add(shop_id=other.shop_id, channel="email", address=order.email, reason="stop")
    suppression_add(shop_id=order.shop_id, channel="sms", address=order.email, reason="stop")

    message = queued(order)
    assert message_send(message_id=message.pk) == MessageStatus.SENT


def test_marketing_without_consent_on_its_channel_is_suppressed():
    order = OrderFactory()
    marketing = queued(order, purpose=Purpose.MARKETING)

    message_send(message_id=marketing.pk)

    marketing.refresh_from_db()
    assert marketing.status == MessageStatus.SUPPRESSED
    assert marketing.status_reason == "no marketing consent for email"


def test_marketing_with_consent_goes_out(daytime):
    order = OrderFactory()
    ConsentFactory(customer=order.customer, shop=order.shop, channel=Channel.EMAIL)
    message = queued(order, purpose=Purpose.MARKETING)

    assert message_send(message_id=message.pk) == MessageStatus.SENT
    assert len(mail.outbox) == 1


def test_an_opted_out_number_refused_by_twilio_is_suppressed_for_next_time(daytime, fake_twilio):
    fake_twilio.expect_request(MESSAGES_PATH, method="POST").respond_with_json(
        {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400},
        status=400,
    )
    order = OrderFactory()
    first = queued_sms(order)

    assert message_send(message_id=first.pk) == MessageStatus.FAILED

    suppression = Suppression.objects.get(shop=order.shop, channel="sms")
    assert suppression.address == "+14155550123"
    assert suppression.reason == SuppressionReason.INVALID
    assert "21610" in suppression.detail
    second = queued(order, channel="sms", recipient="+14155550123", kind="shipment_shipped")
    message_send(message_id=second.pk)
    second.refresh_from_db()
    assert second.status == MessageStatus.SUPPRESSED
    assert len(fake_twilio.log) == 1  # the provider was not asked twice
