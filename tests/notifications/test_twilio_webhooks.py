"""Twilio's status callbacks and inbound texts: signed as Twilio signs them, or refused."""

import pytest
from django.conf import settings
from twilio.request_validator import RequestValidator

from notifications.models import (
    InboundMessage,
    Message,
    MessageStatus,
    ProviderEvent,
    Suppression,
    SuppressionReason,
)
from notifications.services import message_send, suppression_add
from notifications.services.inbound import keyword_of
from tests.factories import CustomerFactory, OrderFactory
from tests.notifications.test_outbox import queued

pytestmark = pytest.mark.django_db

TOKEN = "twilio-auth-token-for-tests"
STATUS_URL = "/webhooks/twilio/status/"
INBOUND_URL = "/webhooks/twilio/inbound/"
PHONE = "+14155550123"


@pytest.fixture(autouse=True)
def twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN


def post_signed(client, path: str, form: dict[str, str], *, token: str = TOKEN):
    signature = RequestValidator(token).compute_signature(settings.PUBLIC_BASE_URL + path, form)
    return client.post(path, form, headers={"X-Twilio-Signature": signature})


def sent_sms(order=None) -> Message:
    message = queued(order or OrderFactory(), channel="sms", recipient=PHONE)
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENT, provider="twilio", provider_message_id="SM" + "b" * 32
    )
    message.refresh_from_db()
    return message


def status_form(status: str, **extra: str) -> dict[str, str]:
    return {"MessageSid": "SM" + "b" * 32, "MessageStatus": status, "To": PHONE, **extra}


def test_delivered_callback_moves_the_message_forward_once(client):
    message = sent_sms()

    first = post_signed(client, STATUS_URL, status_form("delivered"))
    again = post_signed(client, STATUS_URL, status_form("delivered"))

    assert first.json() == {"status": "delivered"}
    assert again.json() == {"status": "duplicate"}
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert message.delivered_at is not None
    assert ProviderEvent.objects.count() == 1


def test_a_late_callback_never_moves_a_message_backwards(client):
    message = sent_sms()
    post_signed(client, STATUS_URL, status_form("delivered"))

    response = post_signed(client, STATUS_URL, status_form("undelivered", ErrorCode="30003"))

    assert response.json() == {"status": "ignored"}
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


def test_undelivered_to_an_unreachable_number_fails_and_suppresses_it(client):
    message = sent_sms()

    post_signed(client, STATUS_URL, status_form("undelivered", ErrorCode="30006"))

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "30006" in message.status_reason
    assert Suppression.objects.filter(shop_id=message.shop_id, address=PHONE).exists()


@pytest.mark.parametrize("path", [STATUS_URL, INBOUND_URL])
def test_a_bad_or_missing_signature_is_refused_and_changes_nothing(client, path):
    message = sent_sms()
    form = status_form("delivered") | {"From": PHONE, "Body": "STOP"}

    forged = post_signed(client, path, form, token="not-the-real-token")
    unsigned = client.post(path, form)

    assert forged.status_code == 403
    assert unsigned.status_code == 403
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert not ProviderEvent.objects.exists()
    assert not InboundMessage.objects.exists()
    assert not Suppression.objects.exists()


def inbound(client, body: str, sid: str = "SM" + "c" * 32):
    form = {"MessageSid": sid, "From": PHONE, "To": "+15005550006", "Body": body}
    return post_signed(client, INBOUND_URL, form)


def test_stop_opts_the_number_out_for_the_shop_that_texted_it(client):
    message = sent_sms()

    response = inbound(client, "Stop")

    assert response.status_code == 200
    assert b"unsubscribed" in response.content
    suppression = Suppression.objects.get(shop_id=message.shop_id, channel="sms")
    assert (suppression.address, suppression.reason) == (PHONE, SuppressionReason.STOP)
    later = queued(OrderFactory(shop=message.shop), channel="sms", recipient=PHONE)
    message_send(message_id=later.pk)
    later.refresh_from_db()
    assert later.status == MessageStatus.SUPPRESSED


def test_start_opts_the_number_back_in(client):
    message = sent_sms()
    suppression_add(shop_id=message.shop_id, channel="sms", address=PHONE, reason="stop")

    response = inbound(client, "START")

    assert b"again" in response.content
    assert not Suppression.objects.exists()


def test_help_answers_with_the_shop_its_contact_and_the_rates_notice(client):
    message = sent_sms()

    response = inbound(client, "help")

    body = response.content.decode()
    assert message.shop.name in body
    assert message.shop.support_email in body
    assert "Msg &amp; data rates may apply" in body
    assert "Reply STOP to opt out" in body


def test_any_other_reply_is_kept_against_the_customer_for_staff(client):
    customer = CustomerFactory(phone=PHONE)
    sent_sms(OrderFactory(customer=customer, shop=customer.shop))

    response = inbound(client, "Can I change the delivery address?")
    inbound(client, "Can I change the delivery address?")  # Twilio retried the webhook

    assert response.content.endswith(b"<Response></Response>")
    reply = InboundMessage.objects.get()
    assert (reply.customer, reply.keyword) == (customer, "")
    assert reply.body == "Can I change the delivery address?"


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        ("STOP", "stop"),
        ("stopall", "stop"),
        (" Unsubscribe. ", "stop"),
        ("opt out", "stop"),
        ("Stop texting me", "stop"),
        ("wrong number!", "stop"),
        ("revoke", "stop"),
        ("yes", "start"),
        ("Unstop", "start"),
        ("INFO", "help"),
        ("stop by the shop tomorrow?", ""),
        ("thanks!", ""),
    ],
)
def test_keywords_and_their_common_variants(body, keyword):
    assert keyword_of(body) == keyword
