"""Twilio's status callbacks and inbound texts: signed as Twilio signs them, or refused."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from twilio.request_validator import RequestValidator

from notifications.engine.receipts.twilio import keyword_of
from notifications.models import (
    InboundMessage,
    Message,
    MessageStatus,
    NumberOptOut,
    ProviderEvent,
    Suppression,
    SuppressionReason,
)
from notifications.services import message_schedule, message_send, suppression_add
from tests.factories import ConsentFactory, CustomerFactory, OrderFactory, ShopFactory
from tests.notifications.fake_twilio import FROM_NUMBER, twilio_accepts, twilio_form
from tests.notifications.test_outbox import confirmation, queued

pytestmark = pytest.mark.django_db

TOKEN = "twilio-auth-token-for-tests"
STATUS_URL = "/webhooks/twilio/status/"
INBOUND_URL = "/webhooks/twilio/inbound/"
PHONE = "+14155550123"


@pytest.fixture(autouse=True)
def twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN


def post_signed(client, path: str, form: dict[str, str], *, token: str = ""):
    validator = RequestValidator(token or settings.TWILIO_AUTH_TOKEN)
    signature = validator.compute_signature(settings.PUBLIC_BASE_URL + path, form)
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


def inbound(client, body: str, sid: str = "SM" + "c" * 32, *, to: str = FROM_NUMBER, **extra):
    form = {"MessageSid": sid, "From": PHONE, "To": to, "Body": body, **extra}
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


# --- STOP and START from a number no shop has texted yet ---------------------------------------

SHOP_NUMBER = "+14155559876"


def text_consent(customer, channel: str = "sms") -> None:
    ConsentFactory(customer=customer, shop=customer.shop, channel=channel, purpose="transactional")


def waiting_text(order, channel: str = "sms") -> Message:
    """A text the customer agreed to, scheduled for later (the night, a flow's delay)."""
    text_consent(order.customer, channel)
    message, _ = message_schedule(
        request=confirmation(
            order,
            channel=channel,
            recipient=PHONE,
            send_at=timezone.now() + timedelta(hours=3),
        )
    )
    return message


def send_now(order, *, kind: str) -> Message:
    """A text due now, sent through the real send path."""
    message = queued(order, channel="sms", recipient=PHONE, kind=kind)
    message_send(message_id=message.pk)
    message.refresh_from_db()
    return message


def stop_suppressions() -> list[tuple[int, str, str]]:
    rows = Suppression.objects.filter(reason=SuppressionReason.STOP).order_by("shop_id", "channel")
    return [(s.shop_id, s.channel, s.address) for s in rows]


def test_stop_from_a_number_known_only_from_a_scheduled_text_suppresses_it(client):
    waiting = waiting_text(OrderFactory())
    shop = waiting.shop

    response = inbound(client, "STOP")

    assert response.status_code == 200
    assert f"{shop.name}: you are unsubscribed" in response.content.decode()
    assert stop_suppressions() == [(shop.pk, "sms", PHONE)]
    waiting.refresh_from_db()
    assert waiting.status == MessageStatus.SUPPRESSED
    assert waiting.status_reason == "recipient suppressed: replied stop"
    assert list(waiting.events.values_list("from_status", "to_status")) == [
        ("scheduled", "suppressed")
    ]
    reply = InboundMessage.objects.get()
    assert (reply.shop, reply.keyword) == (shop, "stop")

    again = inbound(client, "START", sid="SM" + "d" * 32)

    assert f"{shop.name}: you will get order updates by text again" in again.content.decode()
    assert stop_suppressions() == []
    assert not NumberOptOut.objects.exists()


def test_stop_from_a_customers_phone_never_texted_keeps_the_shop_from_texting_it(
    client, daytime, fake_twilio
):
    twilio_accepts(fake_twilio)
    customer = CustomerFactory(phone=PHONE)
    order = OrderFactory(shop=customer.shop, customer=customer)
    text_consent(customer)

    response = inbound(client, "stop")

    assert f"{customer.shop.name}: you are unsubscribed" in response.content.decode()
    assert stop_suppressions() == [(customer.shop_id, "sms", PHONE)]
    assert InboundMessage.objects.get().customer == customer
    refused = send_now(order, kind="order_confirmation")
    assert refused.status == MessageStatus.SUPPRESSED
    assert refused.status_reason == "recipient suppressed: replied stop"
    assert fake_twilio.log == []

    inbound(client, "start", sid="SM" + "d" * 32)

    assert stop_suppressions() == []
    assert send_now(order, kind="shipment_shipped").status == MessageStatus.SENT
    assert len(fake_twilio.log) == 1


def test_stop_to_a_shops_own_number_opts_out_of_that_shop_alone(client):
    shop = ShopFactory(sms_number=SHOP_NUMBER)
    elsewhere = CustomerFactory(phone=PHONE)  # another shop knows the phone too
    other_waiting = waiting_text(OrderFactory(shop=elsewhere.shop, customer=elsewhere))

    response = inbound(client, "STOP", to=SHOP_NUMBER)

    assert f"{shop.name}: you are unsubscribed" in response.content.decode()
    assert stop_suppressions() == [(shop.pk, "sms", PHONE)]
    assert not NumberOptOut.objects.exists()  # the shop's own number answers for itself
    other_waiting.refresh_from_db()
    assert other_waiting.status == MessageStatus.SCHEDULED
    assert InboundMessage.objects.get().shop == shop

    again = inbound(client, "START", sid="SM" + "d" * 32, to=SHOP_NUMBER)

    assert f"{shop.name}: you will get order updates" in again.content.decode()
    assert stop_suppressions() == []


def test_stop_reaching_two_shops_opts_out_of_both_and_names_them(client):
    first = waiting_text(OrderFactory(shop=ShopFactory(name="Acme Tea")))
    customer = CustomerFactory(shop=ShopFactory(name="Birch & Co"), phone=PHONE)
    second = waiting_text(OrderFactory(shop=customer.shop, customer=customer))

    response = inbound(client, "Stop texting me")

    body = response.content.decode()
    assert "will get no more texts from Acme Tea and Birch &amp; Co. Reply START" in body
    assert stop_suppressions() == [(first.shop_id, "sms", PHONE), (second.shop_id, "sms", PHONE)]
    for message in (first, second):
        message.refresh_from_db()
        assert message.status == MessageStatus.SUPPRESSED
    assert NumberOptOut.objects.get().our_number == FROM_NUMBER

    again = inbound(client, "UNSTOP", sid="SM" + "d" * 32)

    assert "again from Acme Tea and Birch &amp; Co" in again.content.decode()
    assert stop_suppressions() == []
    assert not NumberOptOut.objects.exists()


def test_stop_from_a_number_no_shop_knows_keeps_it_from_any_later_customer(
    client, daytime, fake_twilio
):
    twilio_accepts(fake_twilio)

    response = inbound(client, "STOP")

    assert "will get no more texts from this number" in response.content.decode()
    opt_out = NumberOptOut.objects.get()
    assert (opt_out.our_number, opt_out.phone, opt_out.channel) == (FROM_NUMBER, PHONE, "sms")
    assert InboundMessage.objects.get().shop is None
    customer = CustomerFactory(phone=PHONE)  # a new customer, in any shop, with that phone
    order = OrderFactory(shop=customer.shop, customer=customer)
    text_consent(customer)
    refused = send_now(order, kind="order_confirmation")
    assert refused.status == MessageStatus.SUPPRESSED
    assert refused.status_reason == f"recipient suppressed: replied stop to {FROM_NUMBER}"
    assert fake_twilio.log == []

    again = inbound(client, "START", sid="SM" + "d" * 32)

    # The shop knows the number by now, so the answer names it.
    assert f"{customer.shop.name}: you will get order updates by text" in again.content.decode()
    assert not NumberOptOut.objects.exists()
    assert send_now(order, kind="shipment_shipped").status == MessageStatus.SENT


def test_an_opt_out_of_the_shared_number_leaves_a_shop_texting_from_its_own(
    client, daytime, fake_twilio
):
    twilio_accepts(fake_twilio)
    inbound(client, "STOP")
    customer = CustomerFactory(shop=ShopFactory(sms_number=SHOP_NUMBER), phone=PHONE)
    text_consent(customer)

    sent = send_now(OrderFactory(shop=customer.shop, customer=customer), kind="order_confirmation")

    assert sent.status == MessageStatus.SENT
    assert twilio_form(fake_twilio)["From"] == SHOP_NUMBER


def test_whatsapp_stop_opts_out_of_whatsapp_only(client):
    customer = CustomerFactory(phone=PHONE)
    order = OrderFactory(shop=customer.shop, customer=customer)
    on_whatsapp = waiting_text(order, "whatsapp")
    by_sms = waiting_text(order, "sms")

    response = inbound(client, "STOP", From=f"whatsapp:{PHONE}", to=f"whatsapp:{FROM_NUMBER}")

    assert "will get no more WhatsApp messages" in response.content.decode()
    assert stop_suppressions() == [(order.shop_id, "whatsapp", PHONE)]
    on_whatsapp.refresh_from_db()
    by_sms.refresh_from_db()
    assert on_whatsapp.status == MessageStatus.SUPPRESSED
    assert by_sms.status == MessageStatus.SCHEDULED
    assert NumberOptOut.objects.get().channel == "whatsapp"


def test_a_retried_stop_changes_nothing_once_the_customer_opted_back_in(client):
    waiting = waiting_text(OrderFactory())
    inbound(client, "STOP", sid="SM" + "1" * 32)
    inbound(client, "START", sid="SM" + "2" * 32)

    retried = inbound(client, "STOP", sid="SM" + "1" * 32)  # Twilio retried the first webhook

    assert retried.content.endswith(b"<Response></Response>")
    assert stop_suppressions() == []
    assert not NumberOptOut.objects.exists()
    assert InboundMessage.objects.count() == 2
    waiting.refresh_from_db()
    assert waiting.status == MessageStatus.SUPPRESSED  # suppressed once, never resurrected


def test_help_to_a_shops_own_number_answers_for_that_shop(client):
    sent_sms()  # another shop texted the number last
    shop = ShopFactory(sms_number=SHOP_NUMBER, name="Own Number Goods")

    response = inbound(client, "HELP", to=SHOP_NUMBER)

    body = response.content.decode()
    assert "Own Number Goods: order and delivery updates" in body
    assert shop.support_email in body
    assert not Suppression.objects.exists()


def test_help_with_several_shops_answers_for_the_one_that_texted_last(client):
    waiting_text(OrderFactory(shop=ShopFactory(name="Only Scheduled")))
    message = sent_sms()

    response = inbound(client, "help")

    assert f"{message.shop.name}: order and delivery updates" in response.content.decode()


def test_start_from_a_number_no_shop_knows_lifts_its_opt_out(client):
    inbound(client, "STOP")

    response = inbound(client, "START", sid="SM" + "d" * 32)

    assert "You will get order updates by text again. Reply STOP" in response.content.decode()
    assert not NumberOptOut.objects.exists()


def test_a_text_from_no_number_changes_nothing(client):
    CustomerFactory()  # customers without a phone must not count as "knowing" an empty sender

    response = inbound(client, "STOP", From="")

    assert response.content.endswith(b"<Response></Response>")
    assert not InboundMessage.objects.exists()
    assert not Suppression.objects.exists()
    assert not NumberOptOut.objects.exists()
