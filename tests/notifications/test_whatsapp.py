"""WhatsApp: free text only inside the 24-hour window after the customer's last message; outside
it the shop's approved content template, or no call at all. Through the real twilio client
against a local fake Twilio, asserting the form it really sent."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from notifications.engine.rendering import WHATSAPP_NEEDS_TEMPLATE
from notifications.engine.templating import message_template_save
from notifications.models import InboundMessage, Message, MessageStatus
from notifications.services import message_send
from orders.models import Consent, ConsentStatus, Purpose
from tests.factories import OrderFactory
from tests.notifications.fake_twilio import twilio_accepts, twilio_form

NUMBER = "+447700900123"
CONTENT_SID = "HX" + "4" * 32
# Midday in London: inside every quiet-hours window.
MIDDAY = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def midday():
    with time_machine.travel(MIDDAY, tick=False):
        yield


@pytest.fixture
def order(shop):
    order = OrderFactory(shop=shop, phone=NUMBER)
    for channel in ("whatsapp", "sms"):
        for purpose in (Purpose.TRANSACTIONAL, Purpose.MARKETING):
            Consent.objects.create(
                shop=shop,
                customer=order.customer,
                channel=channel,
                purpose=purpose,
                status=ConsentStatus.GRANTED,
                changed_at=timezone.now(),
                source="test",
            )
    return order


def queued(order, *, channel="whatsapp", purpose=Purpose.TRANSACTIONAL, key="1") -> Message:
    return Message.objects.create(
        shop=order.shop,
        customer=order.customer,
        order=order,
        kind="shipment_shipped",
        channel=channel,
        purpose=purpose,
        recipient=NUMBER,
        timezone="Europe/London",
        about_type="order",
        about_id=order.pk,
        context={
            "shop_name": order.shop.name,
            "order_number": order.number,
            "customer_first_name": "Ada",
            "tracking_url": "https://shop.test/track/abc/",
            "carrier": "DHL",
        },
        send_at=timezone.now(),
        queued_at=timezone.now(),
        status=MessageStatus.QUEUED,
        dedupe_key=f"wa:{order.pk}:{channel}:{key}",
    )


def customer_wrote(order, *, hours_ago: float, sender=NUMBER, shop=None) -> None:
    inbound = InboundMessage.objects.create(
        shop=shop or order.shop,
        customer=order.customer,
        channel="whatsapp",
        sender=sender,
        body="Where is my parcel?",
        provider_message_id=f"SM{hours_ago}{sender}",
    )
    InboundMessage.objects.filter(pk=inbound.pk).update(
        received_at=timezone.now() - timedelta(hours=hours_ago)
    )


def content_template(shop, *, sid=CONTENT_SID, body_text=""):
    return message_template_save(
        shop=shop,
        kind="shipment_shipped",
        channel="whatsapp",
        locale="",
        subject="",
        body_text=body_text,
        body_html="",
        whatsapp_content_sid=sid,
        actor=None,
    )


def test_inside_the_window_free_text_goes_out(order, fake_twilio):
    twilio_accepts(fake_twilio)
    customer_wrote(order, hours_ago=23)
    message = queued(order)

    assert message_send(message_id=message.pk) == MessageStatus.SENT

    form = twilio_form(fake_twilio)
    assert form["To"] == f"whatsapp:{NUMBER}"
    assert form["Body"].startswith(f"{order.shop.name}: order {order.number} has shipped")
    assert "ContentSid" not in form


def test_inside_the_window_the_shops_own_whatsapp_wording_is_used(order, fake_twilio):
    twilio_accepts(fake_twilio)
    content_template(order.shop, body_text="On its way, {{ customer_first_name }}!")
    customer_wrote(order, hours_ago=1)

    message_send(message_id=queued(order).pk)

    assert twilio_form(fake_twilio)["Body"] == "On its way, Ada!"


def test_outside_the_window_the_approved_template_goes_out_with_numbered_variables(
    order, fake_twilio
):
    twilio_accepts(fake_twilio)
    content_template(order.shop)
    customer_wrote(order, hours_ago=25)  # too long ago
    message = queued(order)

    assert message_send(message_id=message.pk) == MessageStatus.SENT

    form = twilio_form(fake_twilio)
    assert form["To"] == f"whatsapp:{NUMBER}"
    assert form["ContentSid"] == CONTENT_SID
    assert json.loads(form["ContentVariables"]) == {
        "1": "Ada",
        "2": order.number,
        "3": f"https://shop.test/track/{order.tracking_token}/",  # the link as it is now
    }
    assert "Body" not in form
    message.refresh_from_db()
    assert CONTENT_SID in message.body_text  # staff see what was sent


def test_outside_the_window_without_a_template_the_message_fails_and_nothing_is_called(
    order, fake_twilio
):
    message = queued(order)

    message_send(message_id=message.pk)

    assert fake_twilio.log == []
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.status_reason == WHATSAPP_NEEDS_TEMPLATE
    assert not message.attempts.exists()


@pytest.mark.parametrize(
    "wrote",
    [
        {"sender": "+447700900999"},  # another number
        {"channel": "sms"},  # a text, not WhatsApp
        {"other_shop": True},  # to another shop
    ],
)
def test_only_this_customers_whatsapp_message_to_this_shop_opens_the_window(
    order, other_shop, fake_twilio, wrote
):
    if "channel" in wrote:
        InboundMessage.objects.create(
            shop=order.shop, channel="sms", sender=NUMBER, body="hi", provider_message_id="SMx"
        )
    else:
        customer_wrote(
            order,
            hours_ago=1,
            sender=wrote.get("sender", NUMBER),
            shop=other_shop if wrote.get("other_shop") else None,
        )
    message = queued(order)

    message_send(message_id=message.pk)

    assert fake_twilio.log == []
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED


def test_a_content_sid_must_look_like_one(shop):
    from notifications.engine.templating import TemplateInvalid

    with pytest.raises(TemplateInvalid) as refused:
        content_template(shop, sid="not-a-sid")

    assert refused.value.field == "whatsapp_content_sid"


def test_an_sms_carries_the_shop_name_and_stop_first_then_not(order, fake_twilio):
    twilio_accepts(fake_twilio)
    first = queued(order, channel="sms", key="a")
    message_send(message_id=first.pk)
    first_body = twilio_form(fake_twilio)["Body"]
    second = queued(order, channel="sms", key="b")
    message_send(message_id=second.pk)
    second_body = twilio_form(fake_twilio)["Body"]

    assert first_body.startswith(order.shop.name)
    assert first_body.endswith("Reply STOP to opt out.")
    assert "STOP" not in second_body


def test_content_variables_leave_out_blanks_and_keep_to_one_line():
    from notifications.engine.templating import whatsapp_content_variables

    variables = whatsapp_content_variables(
        "shipment_shipped",
        {"customer_first_name": "", "order_number": "#1001", "tracking_url": "https://x\n\ty"},
    )

    # Twilio would refuse an empty value; left out, the template's default placeholder is used.
    assert variables == {"2": "#1001", "3": "https://x y"}
