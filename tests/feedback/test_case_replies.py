"""The thread with the customer: staff's replies through the messaging engine (an SMS reaching
the fake Twilio, an email whose replies come back to the case), and the customer's answers by
text (a signed Twilio webhook) and by email (Postmark's inbound payload through anymail), with
the quoted history stripped. A STOP is still a STOP, and a stopped number is not texted."""

import base64
import json

import pytest
import time_machine
from django.core import mail
from pytest_httpserver import HTTPServer

from feedback.cases.email_replies import reply_text_strip
from feedback.cases.services import case_reply_channels, case_reply_send
from feedback.cases.tokens import case_reply_address
from feedback.models import CaseMessage, CaseStatus
from notifications.engine.inbound_texts import inbound_text_handlers
from notifications.models import InboundMessage, Message, MessageStatus, Suppression
from notifications.services import messages_claim_due, messages_send
from orders.models import Purpose
from postpurchase.exceptions import DomainError
from tests.factories import ConsentFactory, StaffMembershipFactory
from tests.feedback.case_helpers import PHONE, detractor_case, office_shop
from tests.notifications.fake_twilio import (
    FROM_NUMBER,
    fake_twilio_configure,
    twilio_accepts,
    twilio_form,
)
from tests.notifications.test_twilio_webhooks import post_signed

pytestmark = pytest.mark.django_db

INBOUND_URL = "/webhooks/twilio/inbound/"
POSTMARK_INBOUND_URL = "/webhooks/anymail/postmark/inbound/"
WEBHOOK_SECRET = "anymail-hook:long-random-password-0123456789"
DOMAIN = "replies.shop.test"
# A Wednesday afternoon: inside business hours in New York and outside every quiet hour.
DAYTIME = "2026-06-10T17:00:00+00:00"


@pytest.fixture(autouse=True)
def settings_for_replies(settings):
    settings.TWILIO_AUTH_TOKEN = "twilio-auth-token-for-tests"
    settings.FEEDBACK_INBOUND_EMAIL_DOMAIN = DOMAIN
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}


@pytest.fixture
def daytime():
    with time_machine.travel(DAYTIME, tick=True):
        yield


@pytest.fixture
def twilio(settings, httpserver: HTTPServer) -> HTTPServer:
    server = fake_twilio_configure(settings, httpserver)
    twilio_accepts(server)
    return server


@pytest.fixture
def case(db):
    shop, _ = office_shop()
    found = detractor_case(shop, phone=PHONE)
    ConsentFactory(customer=found.customer, shop=shop, channel="sms", purpose=Purpose.TRANSACTIONAL)
    return found


@pytest.fixture
def agent(case):
    return StaffMembershipFactory(shop=case.shop, role="agent").user


def text_in(client, body: str, sid: str = "SM" + "c" * 32):
    form = {"MessageSid": sid, "From": PHONE, "To": FROM_NUMBER, "Body": body}
    return post_signed(client, INBOUND_URL, form)


def test_cases_take_texts_after_the_handlers_registered_before_them():
    handlers = inbound_text_handlers()
    keys = list(handlers)
    assert handlers["feedback.case"].__qualname__ == "case_text_reply_take"
    # A bare "9" answers a survey before it is filed under a case.
    assert keys.index("feedback.survey") < keys.index("feedback.case")


def test_a_staff_reply_by_sms_reaches_twilio(case, agent, daytime, twilio):
    entry = case_reply_send(
        case=case, actor=agent, channel="sms", body="So sorry! Which item was it?"
    )

    ids = messages_claim_due()
    assert entry.message_id in ids
    assert messages_send(message_ids=ids) == {entry.message_id: MessageStatus.SENT}
    form = twilio_form(twilio)
    assert form["To"] == PHONE
    assert "So sorry! Which item was it?" in form["Body"]
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING
    assert case.first_responded_at is not None


def test_the_customers_text_lands_in_their_open_case(client, case, agent, daytime):
    case_reply_send(case=case, actor=agent, channel="sms", body="Which item was it?")

    response = text_in(client, "The blue mug, the lid leaks")
    text_in(client, "The blue mug, the lid leaks")  # Twilio retried the webhook

    assert response.status_code == 200
    entry = CaseMessage.objects.get(case=case, direction="in")
    assert (entry.channel, entry.body) == ("sms", "The blue mug, the lid leaks")
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN  # the customer answered: the clock runs again
    assert InboundMessage.objects.count() == 1


def test_stop_is_still_stop_and_a_stopped_number_cannot_be_texted(client, case, agent, daytime):
    case_reply_send(case=case, actor=agent, channel="sms", body="Which item was it?")

    response = text_in(client, "STOP")

    assert b"unsubscribed" in response.content
    assert not CaseMessage.objects.filter(direction="in").exists()
    assert Suppression.objects.filter(shop=case.shop, channel="sms", address=PHONE).exists()
    sms = next(c for c in case_reply_channels(case) if c.channel == "sms")
    assert "replied stop" in sms.refusal
    with pytest.raises(DomainError, match="Cannot reply by SMS"):
        case_reply_send(case=case, actor=agent, channel="sms", body="Hello?")
    assert CaseMessage.objects.filter(direction="out").count() == 1


def test_whatsapp_only_inside_its_window(case):
    whatsapp = next(c for c in case_reply_channels(case) if c.channel == "whatsapp")
    assert "24 hours" in whatsapp.refusal


def postmark_inbound(*, to: str, text: str, headers: list[dict[str, str]]) -> dict:
    """Shaped like Postmark's documented inbound webhook payload."""
    return {
        "FromName": "Ada Customer",
        "MessageStream": "inbound",
        "From": "ada@example.org",
        "FromFull": {"Email": "ada@example.org", "Name": "Ada Customer", "MailboxHash": ""},
        "To": to,
        "ToFull": [{"Email": to, "Name": "", "MailboxHash": ""}],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": to,
        "Subject": "Re: your case",
        "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Wed, 10 Jun 2026 17:05:00 +0000",
        "TextBody": text,
        "HtmlBody": "",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [
            {"Name": "Return-Path", "Value": "<ada@example.org>"},
            {"Name": "Message-ID", "Value": "<CAF=reply-1@mail.example.org>"},
            *headers,
        ],
        "Attachments": [],
    }


def post_inbound(client, payload: dict):
    credentials = base64.b64encode(WEBHOOK_SECRET.encode()).decode()
    return client.post(
        POSTMARK_INBOUND_URL,
        data=json.dumps(payload),
        content_type="application/json",
        headers={"Authorization": f"Basic {credentials}"},
    )


QUOTED = (
    "Yes please, a replacement would be great.\n"
    "Thanks!\n"
    "\n"
    "On Wed, 10 Jun 2026 at 13:01, Shop 1 <help@shop-1.test>\n"
    "wrote:\n"
    "> So sorry! Which item was it?\n"
    "> \n"
)


def test_an_email_reply_to_the_case_address_lands_without_the_quoted_history(
    client, case, agent, daytime
):
    case_reply_send(case=case, actor=agent, channel="email", body="So sorry! Which item?")
    Message.objects.update(status=MessageStatus.QUEUED)
    messages_send(message_ids=list(Message.objects.values_list("pk", flat=True)))
    assert mail.outbox[-1].reply_to == [case_reply_address(case.pk)]

    payload = postmark_inbound(to=case_reply_address(case.pk), text=QUOTED, headers=[])
    response = post_inbound(client, payload)
    post_inbound(client, payload)  # delivered twice

    assert response.status_code == 200
    entry = CaseMessage.objects.get(case=case, direction="in")
    assert entry.channel == "email"
    assert entry.body == "Yes please, a replacement would be great.\nThanks!"
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_an_email_reply_is_matched_by_in_reply_to_when_sent_to_the_shop(
    client, case, agent, daytime, settings
):
    settings.FEEDBACK_INBOUND_EMAIL_DOMAIN = ""  # replies go to the shop's own address
    entry = case_reply_send(case=case, actor=agent, channel="email", body="Which item?")
    Message.objects.update(status=MessageStatus.QUEUED)
    messages_send(message_ids=[entry.message_id])
    sent = Message.objects.get(pk=entry.message_id)
    assert sent.email_message_id

    payload = postmark_inbound(
        to=case.shop.support_email,
        text="The mug.\n\n-----Original Message-----\nFrom: Shop\nWhich item?",
        headers=[{"Name": "In-Reply-To", "Value": sent.email_message_id}],
    )
    post_inbound(client, payload)

    assert CaseMessage.objects.get(case=case, direction="in").body == "The mug."


def test_a_forged_case_address_is_ignored(client, case):
    forged = f"case+{case.pk}-{'0' * 20}@{DOMAIN}"
    post_inbound(client, postmark_inbound(to=forged, text="Hi", headers=[]))
    assert not CaseMessage.objects.exists()


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Fine now.\n\nOn Mon, 7 Dec 2026, Shop wrote:\n> old", "Fine now."),
        ("Merci.\n\nLe lun. 7 déc. 2026 à 10:00, Shop a écrit :\n> old", "Merci."),
        ("Ok\n\n________________________________\nFrom: Shop\nSent: Monday", "Ok"),
        ("Ok\n-- \nAda", "Ok"),
        ("Ok thanks\n\nSent from my iPhone", "Ok thanks"),
        ("No quote at all.\nTwo lines.", "No quote at all.\nTwo lines."),
        (
            "Danke.\n\nAm Mo., 7. Dez. 2026 um 10:02 Uhr schrieb Shop <help@shop.test>:\n> alt",
            "Danke.",
        ),
        ("Yes.\n\nOn Mon, 7 Dec 2026 at 10:02, Shop <help@shop.test>\nwrote:\n> old", "Yes."),
        ("Gracias.\n\nEl lun, 7 dic 2026 a las 10:02, Shop escribió:\n> viejo", "Gracias."),
    ],
)
def test_quoted_history_is_stripped(text, kept):
    assert reply_text_strip(text) == kept
