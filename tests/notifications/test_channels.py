"""The channel adapters through their real provider libraries: anymail's test backend and
anymail's Postmark backend against a local fake API for email, the twilio client against a
local fake Twilio for SMS and WhatsApp. Nothing leaves loopback."""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from django.core import mail
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from notifications.engine.channels import console
from notifications.engine.channels.base import (
    PermanentSendError,
    RenderedMessage,
    TransientSendError,
    channel_for,
)
from notifications.engine.channels.console import ConsoleChannel
from notifications.engine.channels.email import EmailChannel
from notifications.engine.channels.sms import SmsChannel, WhatsAppChannel, sms_segments
from tests.notifications.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    MESSAGE_SID,
    MESSAGES_PATH,
    twilio_accepts,
    twilio_form,
)
from tests.notifications.smtp_server import SmtpServer, free_port, smtp_configure


def email_message(**overrides: object) -> RenderedMessage:
    fields: dict[str, object] = {
        "message_id": 41,
        "shop_id": 7,
        "channel": "email",
        "recipient": "ada@example.com",
        "subject": "Your order has shipped",
        "body_text": "Order #1001 is on its way.",
        "body_html": "<p>Order <b>#1001</b> is on its way.</p>",
        "from_email": "orders@acme.test",
        "from_name": "Acme",
        "reply_to": "help@acme.test",
        "headers": {"List-Unsubscribe": "<https://shop.test/u/abc>"},
        "tags": ("order-shipped",),
        "metadata": {"dedupe_key": "order-shipped:1001:email"},
    }
    fields.update(overrides)
    return RenderedMessage(**fields)  # type: ignore[arg-type]


def sms_message(**overrides: object) -> RenderedMessage:
    fields: dict[str, object] = {
        "message_id": 42,
        "shop_id": 7,
        "channel": "sms",
        "recipient": "+447700900123",
        "body_text": "Order #1001 has shipped: https://shop.test/t/abc",
        "status_callback_url": "https://shop.test/hooks/twilio/status/42",
    }
    fields.update(overrides)
    return RenderedMessage(**fields)  # type: ignore[arg-type]


# --- Email: anymail's test backend ---------------------------------------------------------


@pytest.fixture
def anymail_test_backend(settings) -> None:
    # pytest-django's test environment swaps EMAIL_BACKEND for locmem; put anymail's back.
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    mail.outbox = []


@pytest.mark.usefixtures("anymail_test_backend")
def test_email_sends_text_and_html_with_headers_tags_and_metadata() -> None:
    result = EmailChannel().send(email_message())

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    params = sent.anymail_test_params
    assert params["text_body"] == "Order #1001 is on its way."
    assert params["html_body"] == "<p>Order <b>#1001</b> is on its way.</p>"
    assert params["subject"] == "Your order has shipped"
    assert params["from"].address == "Acme <orders@acme.test>"
    assert [a.addr_spec for a in params["to"]] == ["ada@example.com"]
    assert [a.addr_spec for a in params["reply_to"]] == ["help@acme.test"]
    assert params["extra_headers"]["List-Unsubscribe"] == "<https://shop.test/u/abc>"
    assert params["tags"] == ["order-shipped"]
    assert params["metadata"] == {
        "message_id": "41",
        "shop_id": "7",
        "dedupe_key": "order-shipped:1001:email",
    }
    assert result.provider == "test"
    assert result.provider_message_id == str(mail.outbox.index(sent))
    assert result.status == "sent"


@pytest.mark.usefixtures("anymail_test_backend")
def test_email_returns_each_message_its_own_provider_id() -> None:
    first = EmailChannel().send(email_message(message_id=1))
    second = EmailChannel().send(email_message(message_id=2))

    assert first.provider_message_id != second.provider_message_id
    assert [m.metadata["message_id"] for m in mail.outbox] == ["1", "2"]


@pytest.mark.usefixtures("anymail_test_backend")
def test_email_quotes_a_sender_name_with_specials() -> None:
    EmailChannel().send(email_message(from_name="Acme, Inc."))

    sender = mail.outbox[0].anymail_test_params["from"]
    assert sender.display_name == "Acme, Inc."
    assert sender.addr_spec == "orders@acme.test"


@pytest.mark.usefixtures("anymail_test_backend")
def test_email_without_html_has_no_alternative() -> None:
    EmailChannel().send(email_message(body_html=""))

    assert mail.outbox[0].alternatives == []
    assert "html_body" not in mail.outbox[0].anymail_test_params


def test_email_on_a_plain_django_backend_returns_its_message_id_header(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []

    result = EmailChannel().send(email_message())

    assert result.provider == "locmem"
    assert result.provider_message_id == mail.outbox[0].extra_headers["Message-ID"]


# --- Email errors: anymail's Postmark backend against a fake Postmark -----------------------


@pytest.fixture
def fake_postmark(settings, httpserver: HTTPServer) -> HTTPServer:
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": "fake-server-token",
        "POSTMARK_API_URL": httpserver.url_for("/"),
    }
    return httpserver


def test_email_through_postmark_sends_the_payload_and_returns_its_message_id(
    fake_postmark: HTTPServer,
) -> None:
    fake_postmark.expect_request("/email", method="POST").respond_with_json(
        {
            "To": "ada@example.com",
            "SubmittedAt": "2025-01-01T00:00:00Z",
            "MessageID": "b7bc2f4a-e38e-4336-af7d-e6c392c2f817",
            "ErrorCode": 0,
            "Message": "OK",
        }
    )

    result = EmailChannel().send(email_message())

    assert result.provider == "postmark"
    assert result.provider_message_id == "b7bc2f4a-e38e-4336-af7d-e6c392c2f817"
    request, _ = fake_postmark.log[0]
    assert request.headers["X-Postmark-Server-Token"] == "fake-server-token"
    payload = request.get_json()
    assert payload["HtmlBody"] == "<p>Order <b>#1001</b> is on its way.</p>"
    assert payload["TextBody"] == "Order #1001 is on its way."
    assert {"Name": "List-Unsubscribe", "Value": "<https://shop.test/u/abc>"} in payload["Headers"]
    assert payload["Tag"] == "order-shipped"
    assert payload["Metadata"]["message_id"] == "41"


def test_email_to_an_address_on_the_esps_own_list_fails_without_suppressing_it_here(
    fake_postmark: HTTPServer,
) -> None:
    """Postmark's "inactive" recipient is anymail's "rejected": the ESP's own suppression list,
    which keeps refusing while the address is on it; the bounce or complaint that put it
    there reached our list through the tracking webhook, and a copy here would outlive its
    reactivation at the ESP."""
    fake_postmark.expect_request("/email").respond_with_json(
        {
            "ErrorCode": 406,
            "Message": "You tried to send to recipient(s) that have been marked as inactive.\n"
            "Found inactive addresses: ada@example.com.\n"
            "Inactive recipients are ones that have generated a hard bounce, a spam "
            "complaint, or a manual suppression.",
        },
        status=422,
    )

    with pytest.raises(PermanentSendError) as raised:
        EmailChannel().send(email_message())

    assert raised.value.code == "rejected"
    assert raised.value.suppress_recipient is False


def test_email_to_an_address_the_esp_calls_invalid_fails_and_suppresses(
    fake_postmark: HTTPServer,
) -> None:
    fake_postmark.expect_request("/email").respond_with_json(
        {"ErrorCode": 300, "Message": "Invalid 'To' address: 'ada@example.com'."}, status=422
    )

    with pytest.raises(PermanentSendError) as raised:
        EmailChannel().send(email_message())

    assert raised.value.code == "invalid"
    assert raised.value.suppress_recipient is True


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (422, {"ErrorCode": 300, "Message": "Invalid 'From' address: 'orders@acme.test'."}),
        (401, {"ErrorCode": 10, "Message": "No Account or Server API tokens were supplied."}),
    ],
)
def test_email_other_client_errors_are_permanent_without_suppressing(
    fake_postmark: HTTPServer, status: int, body: dict[str, object]
) -> None:
    fake_postmark.expect_request("/email").respond_with_json(body, status=status)

    with pytest.raises(PermanentSendError) as raised:
        EmailChannel().send(email_message())

    assert raised.value.suppress_recipient is False
    assert raised.value.code == str(status)


def test_email_connection_refused_is_transient(settings) -> None:
    server = HTTPServer(host="127.0.0.1")
    server.start()
    url = server.url_for("/")
    server.stop()
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "fake-server-token", "POSTMARK_API_URL": url}

    with pytest.raises(TransientSendError) as raised:
        EmailChannel().send(email_message())

    assert raised.value.code == "connection"
    assert raised.value.outcome_unknown is False


def slow(request: Request) -> Response:
    time.sleep(1)
    return Response("{}", status=200, content_type="application/json")


def test_email_times_out_as_transient_with_unknown_outcome(
    settings, fake_postmark: HTTPServer
) -> None:
    settings.NOTIFICATIONS_EMAIL_TIMEOUT = 0.2
    fake_postmark.expect_request("/email").respond_with_handler(slow)

    started = time.monotonic()
    with pytest.raises(TransientSendError) as raised:
        EmailChannel().send(email_message())

    assert time.monotonic() - started < 0.9
    assert raised.value.outcome_unknown is True


@pytest.mark.parametrize("status", [408, 429, 500, 503])
def test_email_esp_timeouts_limits_and_server_errors_are_transient(
    fake_postmark: HTTPServer, status: int
) -> None:
    fake_postmark.expect_request("/email").respond_with_json(
        {"ErrorCode": 100, "Message": "try later"}, status=status
    )

    with pytest.raises(TransientSendError) as raised:
        EmailChannel().send(email_message())

    assert raised.value.code == str(status)
    assert raised.value.outcome_unknown is False


def test_email_esp_success_that_cannot_be_read_leaves_the_outcome_unknown(
    fake_postmark: HTTPServer,
) -> None:
    """A 200 with a body anymail cannot parse: the ESP may well have taken the email."""
    fake_postmark.expect_request("/email").respond_with_data("<html>OK</html>", status=200)

    with pytest.raises(TransientSendError) as raised:
        EmailChannel().send(email_message())

    assert raised.value.outcome_unknown is True


def test_email_connection_broken_before_the_esp_answers_leaves_the_outcome_unknown(
    settings,
) -> None:
    """The request went out whole; the connection dropped before any answer came back."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def read_then_hang_up() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)

    server = threading.Thread(target=read_then_hang_up, daemon=True)
    server.start()
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": "fake-server-token",
        "POSTMARK_API_URL": f"http://127.0.0.1:{port}/",
    }

    try:
        with pytest.raises(TransientSendError) as raised:
            EmailChannel().send(email_message())
    finally:
        server.join(timeout=5)
        listener.close()

    assert raised.value.outcome_unknown is True


UNISENDER_GO_URL = "/ru/transactional/api/v1/"


@pytest.fixture
def fake_unisender_go(settings, httpserver: HTTPServer) -> HTTPServer:
    settings.EMAIL_BACKEND = "anymail.backends.unisender_go.EmailBackend"
    settings.ANYMAIL = {
        "UNISENDER_GO_API_KEY": "fake-key",
        "UNISENDER_GO_API_URL": httpserver.url_for(UNISENDER_GO_URL),
    }
    return httpserver


@pytest.mark.parametrize(
    ("verdict", "error", "code", "suppress"),
    [
        # anymail's "failed": not sent, the ESP says it is temporary.
        ("temporary_unavailable", TransientSendError, "failed", False),
        # anymail's "rejected": on the ESP's own list.
        ("permanent_unavailable", PermanentSendError, "rejected", False),
        ("unsubscribed", PermanentSendError, "rejected", False),
        # anymail's "invalid": the address itself.
        ("invalid", PermanentSendError, "invalid", True),
    ],
)
def test_email_esp_per_recipient_statuses(
    fake_unisender_go: HTTPServer, verdict: str, error: type, code: str, suppress: bool
) -> None:
    fake_unisender_go.expect_request(f"{UNISENDER_GO_URL}email/send.json").respond_with_json(
        {
            "status": "success",
            "job_id": "1ZymBc-00041N-9X",
            "emails": [],
            "failed_emails": {"ada@example.com": verdict},
        }
    )

    with pytest.raises(error) as raised:
        EmailChannel().send(email_message())

    assert raised.value.code == code
    assert getattr(raised.value, "suppress_recipient", False) is suppress


def test_email_esp_refusing_the_message_as_built_is_permanent_without_suppressing(
    settings, httpserver: HTTPServer
) -> None:
    """Mailjet answers a per-message error with a 4xx, which anymail reports as "failed"."""
    settings.EMAIL_BACKEND = "anymail.backends.mailjet.EmailBackend"
    settings.ANYMAIL = {
        "MAILJET_API_KEY": "key",
        "MAILJET_SECRET_KEY": "secret",
        "MAILJET_API_URL": httpserver.url_for("/v3.1/"),
    }
    error = {
        "ErrorIdentifier": "f987008f-251a-4dff-8ffc-40f1583ad7bc",
        "ErrorCode": "mj-0004",
        "StatusCode": 400,
        "ErrorMessage": 'Type mismatch. Expected type "array of emails".',
        "ErrorRelatedTo": ["HTMLPart"],
    }
    httpserver.expect_request("/v3.1/send").respond_with_json(
        {"Messages": [{"Status": "error", "Errors": [error]}]}, status=400
    )

    with pytest.raises(PermanentSendError) as raised:
        EmailChannel().send(email_message())

    assert raised.value.code == "failed"
    assert raised.value.suppress_recipient is False


def test_email_carries_the_message_id_it_was_given_to_the_esp(fake_postmark: HTTPServer) -> None:
    fake_postmark.expect_request("/email").respond_with_json(
        {"To": "ada@example.com", "MessageID": "pm-1", "ErrorCode": 0, "Message": "OK"}
    )
    headers = {"List-Unsubscribe": "<https://shop.test/u/abc>", "Message-ID": "<m1@acme.test>"}

    EmailChannel().send(email_message(headers=headers))

    payload = fake_postmark.log[0][0].get_json()
    assert {"Name": "Message-ID", "Value": "<m1@acme.test>"} in payload["Headers"]


# --- Email errors: Django's SMTP backend against a real SMTP server (aiosmtpd) --------------


@pytest.mark.parametrize(
    ("at", "reply", "error", "code", "suppress"),
    [
        # Temporary: greylisting, a busy mailbox, a failure after DATA.
        ("RCPT", "451 4.7.1 Greylisted, try again later", TransientSendError, "451 4.7.1", False),
        ("RCPT", "450 4.2.1 Mailbox busy", TransientSendError, "450 4.2.1", False),
        ("DATA", "451 4.3.0 Temporary server error", TransientSendError, "451 4.3.0", False),
        (
            "RCPT",
            "421 4.7.0 Try again later, closing connection",
            TransientSendError,
            "421 4.7.0",
            False,
        ),
        # A full mailbox: RFC 3463's "persistent transient failure", whatever the reply code.
        ("RCPT", "552 5.2.2 Mailbox full", TransientSendError, "552 5.2.2", False),
        ("RCPT", "452 4.2.2 Over quota", TransientSendError, "452 4.2.2", False),
        # The mailbox does not exist: permanent, and the address is suppressed.
        (
            "RCPT",
            "550 5.1.1 The email account that you tried to reach does not exist",
            PermanentSendError,
            "550 5.1.1",
            True,
        ),
        ("RCPT", "553 5.1.3 Bad recipient address syntax", PermanentSendError, "553 5.1.3", True),
        ("RCPT", "550 User unknown", PermanentSendError, "550", True),
        ("DATA", "550 5.1.1 No such user here", PermanentSendError, "550 5.1.1", True),
        # Permanent, but nothing says the address is bad: policy, size, content.
        ("RCPT", "550 5.7.1 Relaying denied", PermanentSendError, "550 5.7.1", False),
        (
            "RCPT",
            "550 Requested action not taken: mailbox unavailable",
            PermanentSendError,
            "550",
            False,
        ),
        (
            "DATA",
            "552 5.3.4 Message size exceeds fixed limit",
            PermanentSendError,
            "552 5.3.4",
            False,
        ),
        ("DATA", "554 5.7.1 Message rejected as spam", PermanentSendError, "554 5.7.1", False),
        # About our sender, never the recipient.
        ("MAIL", "451 4.1.8 Sender domain lookup failed", TransientSendError, "451 4.1.8", False),
        ("MAIL", "550 5.1.8 Sender address rejected", PermanentSendError, "550 5.1.8", False),
    ],
)
def test_email_smtp_replies_are_classified_by_their_codes(
    smtp_server: SmtpServer, at: str, reply: str, error: type, code: str, suppress: bool
) -> None:
    address = "orders@acme.test" if at == "MAIL" else "ada@example.com"
    smtp_server.reply(address, reply, at=at)

    with pytest.raises(error) as raised:
        EmailChannel().send(email_message())

    assert raised.value.code == code
    assert getattr(raised.value, "suppress_recipient", False) is suppress
    assert getattr(raised.value, "outcome_unknown", False) is False
    assert smtp_server.received == []


def test_email_greylisted_is_accepted_when_tried_again(smtp_server: SmtpServer) -> None:
    smtp_server.reply("ada@example.com", "451 4.7.1 Greylisted, try again later")

    with pytest.raises(TransientSendError):
        EmailChannel().send(email_message())
    result = EmailChannel().send(email_message())

    assert smtp_server.recipients() == ["ada@example.com"]
    assert result.provider == "smtp"
    assert result.provider_message_id == smtp_server.message_ids()[0]


def test_email_over_smtp_carries_the_message_id_it_was_given(smtp_server: SmtpServer) -> None:
    headers = {"Message-ID": "<m1@acme.test>"}

    result = EmailChannel().send(email_message(headers=headers))

    assert smtp_server.message_ids() == ["<m1@acme.test>"]
    assert result.provider_message_id == "<m1@acme.test>"


def test_email_to_a_mail_server_that_is_down_is_transient(settings) -> None:
    smtp_configure(settings, free_port())  # nothing listens there

    with pytest.raises(TransientSendError) as raised:
        EmailChannel().send(email_message())

    assert raised.value.outcome_unknown is False


def test_email_mail_server_silent_after_the_message_leaves_the_outcome_unknown(
    settings, smtp_server: SmtpServer
) -> None:
    """The whole message went out and the server never answered: it may have kept it."""
    settings.NOTIFICATIONS_EMAIL_TIMEOUT = 0.3
    smtp_server.data_delay = 1.0

    with pytest.raises(TransientSendError) as raised:
        EmailChannel().send(email_message())

    assert raised.value.outcome_unknown is True


# --- SMS and WhatsApp: the twilio client against a fake Twilio ------------------------------


def test_sms_posts_the_form_twilio_expects_and_returns_the_sid(fake_twilio: HTTPServer) -> None:
    twilio_accepts(fake_twilio)

    result = SmsChannel().send(sms_message())

    assert result.provider_message_id == MESSAGE_SID
    assert result.provider == "twilio"
    assert result.status == "queued"
    assert twilio_form(fake_twilio) == {
        "To": "+447700900123",
        "From": FROM_NUMBER,
        "Body": "Order #1001 has shipped: https://shop.test/t/abc",
        "StatusCallback": "https://shop.test/hooks/twilio/status/42",
    }
    request, _ = fake_twilio.log[-1]
    expected_auth = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected_auth}"


def test_sms_uses_the_messaging_service_and_omits_an_empty_callback(
    settings, fake_twilio: HTTPServer
) -> None:
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "2" * 32
    twilio_accepts(fake_twilio)

    SmsChannel().send(sms_message(status_callback_url=""))

    form = twilio_form(fake_twilio)
    assert form["MessagingServiceSid"] == "MG" + "2" * 32
    assert "From" not in form
    assert "StatusCallback" not in form


def test_sms_without_any_sender_configured_is_permanent(settings, fake_twilio: HTTPServer) -> None:
    settings.TWILIO_FROM_NUMBER = ""

    with pytest.raises(PermanentSendError) as raised:
        SmsChannel().send(sms_message())

    assert raised.value.code == "not_configured"
    assert fake_twilio.log == []


def test_whatsapp_prefixes_both_addresses(settings, fake_twilio: HTTPServer) -> None:
    settings.TWILIO_WHATSAPP_FROM_NUMBER = "+14155238886"
    twilio_accepts(fake_twilio)

    WhatsAppChannel().send(sms_message(channel="whatsapp"))

    form = twilio_form(fake_twilio)
    assert form["To"] == "whatsapp:+447700900123"
    assert form["From"] == "whatsapp:+14155238886"
    assert form["Body"] == "Order #1001 has shipped: https://shop.test/t/abc"


def test_whatsapp_template_sends_content_sid_and_variables_instead_of_body(
    fake_twilio: HTTPServer,
) -> None:
    twilio_accepts(fake_twilio)

    result = WhatsAppChannel().send(
        sms_message(
            channel="whatsapp",
            recipient="whatsapp:+447700900123",
            whatsapp_content_sid="HX" + "3" * 32,
            whatsapp_content_variables={"1": "Ada", "2": "#1001"},
        )
    )

    form = twilio_form(fake_twilio)
    assert result.provider_message_id == MESSAGE_SID
    assert form["To"] == "whatsapp:+447700900123"
    assert form["From"] == f"whatsapp:{FROM_NUMBER}"
    assert form["ContentSid"] == "HX" + "3" * 32
    assert json.loads(form["ContentVariables"]) == {"1": "Ada", "2": "#1001"}
    assert "Body" not in form


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500), (503, 20503)])
def test_twilio_rate_limit_and_server_errors_are_transient(
    fake_twilio: HTTPServer, status: int, code: int
) -> None:
    fake_twilio.expect_request(MESSAGES_PATH, method="POST").respond_with_json(
        {"code": code, "message": "Try again", "status": status}, status=status
    )

    with pytest.raises(TransientSendError) as raised:
        SmsChannel().send(sms_message())

    assert raised.value.code == str(code)


@pytest.mark.parametrize(
    ("channel_class", "code"),
    [(SmsChannel, 21610), (SmsChannel, 21211), (SmsChannel, 21614), (WhatsAppChannel, 63024)],
)
def test_twilio_bad_or_opted_out_recipient_is_permanent_and_suppresses(
    fake_twilio: HTTPServer, channel_class: type[SmsChannel], code: int
) -> None:
    fake_twilio.expect_request(MESSAGES_PATH, method="POST").respond_with_json(
        {
            "code": code,
            "message": "Attempt to send to unsubscribed recipient",
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": 400,
        },
        status=400,
    )

    with pytest.raises(PermanentSendError) as raised:
        channel_class().send(sms_message())

    assert raised.value.suppress_recipient is True
    assert raised.value.code == str(code)


def test_twilio_other_client_error_is_permanent_without_suppressing(
    fake_twilio: HTTPServer,
) -> None:
    fake_twilio.expect_request(MESSAGES_PATH, method="POST").respond_with_json(
        {"code": 21606, "message": "The 'From' phone number is not valid", "status": 400},
        status=400,
    )

    with pytest.raises(PermanentSendError) as raised:
        SmsChannel().send(sms_message())

    assert raised.value.suppress_recipient is False
    assert raised.value.code == "21606"


def test_twilio_connection_refused_is_transient(settings, fake_twilio: HTTPServer) -> None:
    server = HTTPServer(host="127.0.0.1")
    server.start()
    settings.TWILIO_API_BASE_URL = server.url_for("/")
    server.stop()

    with pytest.raises(TransientSendError) as raised:
        SmsChannel().send(sms_message())

    assert raised.value.code == "connection"
    assert raised.value.outcome_unknown is False


def test_twilio_read_timeout_is_transient_with_unknown_outcome(
    settings, fake_twilio: HTTPServer
) -> None:
    settings.TWILIO_TIMEOUT_SECONDS = 0.2
    fake_twilio.expect_request(MESSAGES_PATH, method="POST").respond_with_handler(slow)

    started = time.monotonic()
    with pytest.raises(TransientSendError) as raised:
        SmsChannel().send(sms_message())

    assert time.monotonic() - started < 0.9
    assert raised.value.outcome_unknown is True


# --- sms_segments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("", 0),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        # Extension-table characters cost two septets.
        ("€" * 80, 1),
        ("€" * 81, 2),
        ("a" * 158 + "{", 1),
        ("a" * 159 + "[", 2),
        # An escape pair never straddles two parts: 306 septets, yet three parts.
        ("a" * 152 + "€" + "a" * 152, 3),
        # Basic-table accents stay GSM-7; anything else switches to UCS-2.
        ("Ça coûte", 1),
        ("ç" * 70, 1),
        ("ç" * 71, 2),
        ("ç" * 134, 2),
        ("ç" * 135, 3),
        # Emoji take two UTF-16 code units.
        ("😀" * 35, 1),
        ("😀" * 36, 2),
        ("a" * 69 + "😀", 2),
    ],
)
def test_sms_segments(body: str, segments: int) -> None:
    assert sms_segments(body) == segments


# --- channel_for and the console channel ----------------------------------------------------


def test_channel_for_uses_the_console_when_twilio_is_not_configured(settings) -> None:
    settings.TWILIO_ACCOUNT_SID = ""

    assert isinstance(channel_for("sms"), ConsoleChannel)
    assert isinstance(channel_for("whatsapp"), ConsoleChannel)
    assert isinstance(channel_for("email"), EmailChannel)


def test_channel_for_uses_twilio_when_configured_and_caches(settings) -> None:
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID

    assert isinstance(channel_for("sms"), SmsChannel)
    assert isinstance(channel_for("whatsapp"), WhatsAppChannel)
    assert channel_for("sms") is channel_for("sms")


def test_channel_for_honours_the_setting(settings) -> None:
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.NOTIFICATIONS_CHANNELS = {
        "sms": "notifications.engine.channels.console.ConsoleChannel"
    }

    assert isinstance(channel_for("sms"), ConsoleChannel)
    with pytest.raises(ValueError, match="email"):
        channel_for("email")


@pytest.fixture
def console_outbox() -> Iterator[None]:
    console.sent.clear()
    yield
    console.sent.clear()


@pytest.mark.usefixtures("console_outbox")
def test_console_logs_and_records_the_message(caplog: pytest.LogCaptureFixture) -> None:
    msg = sms_message()

    with caplog.at_level(logging.DEBUG, logger="notifications.engine.channels.console"):
        first = ConsoleChannel().send(msg)
        second = ConsoleChannel().send(msg)

    assert first.provider == "console"
    assert first.provider_message_id != second.provider_message_id
    assert [r.provider_message_id for r in console.sent] == [
        first.provider_message_id,
        second.provider_message_id,
    ]
    assert console.sent[0].message is msg
    info = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    # The number masked and no text at INFO; the text only at DEBUG.
    chars = len(msg.body_text)
    assert info[0] == f"console sms message {msg.message_id} to +4*******0123 ({chars} characters)"
    assert not any("+447700900123" in line or "has shipped" in line for line in info)
    assert "Order #1001 has shipped" in debug[0]


@pytest.mark.usefixtures("console_outbox")
def test_console_keeps_only_the_last_200() -> None:
    for n in range(205):
        ConsoleChannel().send(sms_message(message_id=n))

    assert len(console.sent) == 200
    assert console.sent[0].message.message_id == 5
    assert console.sent[-1].message.message_id == 204
