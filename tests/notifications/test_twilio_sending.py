"""The exact form the real twilio client POSTs for a text: who to, from which sender, the body,
and where Twilio reports delivery (without `StatusCallback` a plain number never reports)."""

import pytest

from notifications.models import InboundMessage, MessageStatus, Purpose
from notifications.services import message_send, messages_send
from tests.factories import ConsentFactory, OrderFactory, ShopFactory
from tests.notifications.fake_twilio import FROM_NUMBER, twilio_accepts, twilio_form
from tests.notifications.test_outbox import queued

pytestmark = pytest.mark.django_db

PHONE = "+14155550123"
STATUS_CALLBACK = "https://shop.test/webhooks/twilio/status/"  # PUBLIC_BASE_URL + the route


def queued_text(order, channel: str):
    ConsentFactory(
        customer=order.customer, shop=order.shop, channel=channel, purpose=Purpose.TRANSACTIONAL
    )
    if channel == "whatsapp":  # the customer just wrote: free text is allowed
        InboundMessage.objects.create(
            shop=order.shop,
            customer=order.customer,
            channel=channel,
            sender=PHONE,
            body="Where is my parcel?",
            provider_message_id=f"SM{order.pk}",
        )
    return queued(order, channel=channel, recipient=PHONE)


def test_an_sms_asks_for_delivery_receipts_at_our_status_webhook(daytime, fake_twilio):
    twilio_accepts(fake_twilio)
    message = queued_text(OrderFactory(), "sms")

    assert message_send(message_id=message.pk) == MessageStatus.SENT

    message.refresh_from_db()
    assert twilio_form(fake_twilio) == {
        "To": PHONE,
        "From": FROM_NUMBER,
        "Body": message.body_text,
        "StatusCallback": STATUS_CALLBACK,
    }


def test_a_whatsapp_message_asks_for_delivery_receipts_too(daytime, fake_twilio):
    twilio_accepts(fake_twilio)
    message = queued_text(OrderFactory(), "whatsapp")

    assert messages_send(message_ids=[message.pk]) == {message.pk: MessageStatus.SENT}

    message.refresh_from_db()
    assert twilio_form(fake_twilio) == {
        "To": f"whatsapp:{PHONE}",
        "From": f"whatsapp:{FROM_NUMBER}",
        "Body": message.body_text,
        "StatusCallback": STATUS_CALLBACK,
    }


def test_through_a_messaging_service_the_receipts_are_asked_for_as_well(
    daytime, fake_twilio, settings
):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "7" * 32
    twilio_accepts(fake_twilio)
    message = queued_text(OrderFactory(), "sms")

    message_send(message_id=message.pk)

    message.refresh_from_db()
    assert twilio_form(fake_twilio) == {
        "To": PHONE,
        "MessagingServiceSid": "MG" + "7" * 32,
        "Body": message.body_text,
        "StatusCallback": STATUS_CALLBACK,
    }


def test_a_shop_with_its_own_number_texts_from_it(daytime, fake_twilio, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "7" * 32  # the shop's own number wins
    twilio_accepts(fake_twilio)
    shop = ShopFactory(sms_number="+14155559876")
    message = queued_text(OrderFactory(shop=shop), "sms")

    message_send(message_id=message.pk)

    message.refresh_from_db()
    assert twilio_form(fake_twilio) == {
        "To": PHONE,
        "From": "+14155559876",
        "Body": message.body_text,
        "StatusCallback": STATUS_CALLBACK,
    }


def test_whatsapp_keeps_the_platforms_whatsapp_sender_even_for_a_shop_with_a_number(
    daytime, fake_twilio
):
    twilio_accepts(fake_twilio)
    shop = ShopFactory(sms_number="+14155559876")
    message = queued_text(OrderFactory(shop=shop), "whatsapp")

    message_send(message_id=message.pk)

    assert twilio_form(fake_twilio)["From"] == f"whatsapp:{FROM_NUMBER}"
