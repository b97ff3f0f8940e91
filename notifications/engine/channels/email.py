"""Email through django-anymail (or any Django email backend) with `EmailMultiAlternatives`.

Timeout: anymail's requests-based backends read `ANYMAIL["REQUESTS_TIMEOUT"]` (30 s by
default) for every connection in the process, and Django's SMTP backend reads `EMAIL_TIMEOUT`
(no timeout by default). This adapter opens its connection with an explicit
`timeout=NOTIFICATIONS_EMAIL_TIMEOUT` (10 s unless set), which both kinds of backend accept
and which overrides those globals for our sends only.

Failures are classified by what the server or the ESP answered, not by the exception's class:
an SMTP reply's code (4xx temporary, 5xx permanent) with its enhanced status (RFC 3463), an
ESP's HTTP status and its per-recipient status. Only an answer that the mailbox does not exist
(5.1.x) or an ESP's verdict that the address is invalid suppresses the recipient: greylisting
or a full mailbox must never stop a customer's order emails for good.
"""

from __future__ import annotations

import re
import smtplib
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import requests
from anymail.exceptions import (
    AnymailAPIError,
    AnymailError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
)
from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from urllib3.exceptions import ProtocolError

from notifications.engine.channels.base import (
    PermanentSendError,
    RenderedMessage,
    SendError,
    SendResult,
    TransientSendError,
)

DEFAULT_TIMEOUT_SECONDS = 10.0
# Characters that force quoting of a display name in an address header (RFC 5322 specials).
_SPECIALS = set('()<>[]:;@\\,."')

# An RFC 3463 enhanced status at the start of a reply's text, e.g. "5.1.1".
_ENHANCED_STATUS = re.compile(r"\s*([245]\.\d{1,3}\.\d{1,3})\b")
# The enhanced statuses that say the recipient's mailbox or address is bad: X.1.1 bad
# destination mailbox, X.1.2 bad destination system, X.1.3 bad destination address syntax,
# X.1.6 mailbox moved, X.1.10 null MX (RFC 7505). X.1.7 and X.1.8 are about our sender.
_BAD_MAILBOX = frozenset({"5.1.1", "5.1.2", "5.1.3", "5.1.6", "5.1.10"})
# Without an enhanced status, the words servers use for a mailbox that does not exist.
# "Mailbox unavailable" is not among them: RFC 5321 gives it for policy refusals too.
_NO_SUCH_USER = re.compile(
    r"user unknown|unknown user|no such (user|mailbox|recipient)|mailbox not found"
    r"|does ?n[o']t exist|unknown recipient|recipient unknown|invalid (recipient|mailbox)",
    re.IGNORECASE,
)
# X.2.2 "mailbox full" is, in RFC 3463's words, a persistent transient failure: the customer
# can make room, so it is retried (a limited number of times) and never suppresses.
_MAILBOX_FULL = re.compile(r"mailbox (is )?full|over ?quota|quota exceeded", re.IGNORECASE)


def _formatted_from(msg: RenderedMessage) -> str:
    address = msg.from_email or settings.DEFAULT_FROM_EMAIL
    if not msg.from_name:
        return address
    name = msg.from_name
    if _SPECIALS & set(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    # Non-ASCII names stay as text: Django and anymail encode them per backend.
    return f"{name} <{address}>"


def _metadata(msg: RenderedMessage) -> dict[str, str]:
    # Tracking webhooks find the outbound message by these keys.
    return {"message_id": str(msg.message_id), "shop_id": str(msg.shop_id), **msg.metadata}


def email_message_id_new() -> str:
    """A Message-ID header for one message, on the sender's domain (RFC 5322: unique
    worldwide). Chosen before the provider call, so a send whose outcome is unknown can be
    looked up in the recipient's copy or the mail server's log."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def smtp_reply_error(code: int, reply: bytes | str, *, about: str, recipient: bool) -> SendError:
    """The error an SMTP reply means. `about` names what was refused (for the record);
    `recipient` is True when the reply is about our recipient (RCPT, or DATA with our one
    recipient), so that a bad mailbox suppresses it."""
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    text = " ".join(text.split())  # a multi-line reply, on one line
    found = _ENHANCED_STATUS.match(text)
    enhanced = found.group(1) if found else ""
    description = f"{about} refused: {code} {text}"
    label = f"{code} {enhanced}".strip()
    mailbox_full = enhanced[1:] == ".2.2" or bool(_MAILBOX_FULL.search(text))
    if 400 <= code < 500 or (500 <= code < 600 and mailbox_full):
        return TransientSendError(description, code=label)
    if 500 <= code < 600:
        bad_mailbox = enhanced in _BAD_MAILBOX or (
            not enhanced and code in (550, 551, 553) and bool(_NO_SUCH_USER.search(text))
        )
        return PermanentSendError(
            description, code=label, suppress_recipient=recipient and bad_mailbox
        )
    # Not a reply code at all (smtplib says -1 for a line it could not read).
    return TransientSendError(description, code=label)


def _smtp_error(exc: smtplib.SMTPException) -> SendError | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # One recipient per email: the one refusal is ours.
        address, (code, reply) = next(iter(exc.recipients.items()))
        return smtp_reply_error(code, reply, about=f"recipient {address}", recipient=True)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return smtp_reply_error(
            exc.smtp_code, exc.smtp_error, about=f"sender {exc.sender}", recipient=False
        )
    if isinstance(exc, smtplib.SMTPDataError):
        return smtp_reply_error(exc.smtp_code, exc.smtp_error, about="message", recipient=True)
    if isinstance(exc, smtplib.SMTPResponseException):  # HELO, AUTH, connect greetings
        return smtp_reply_error(exc.smtp_code, exc.smtp_error, about="mail server", recipient=False)
    return None


def _esp_refusal(exc: AnymailRecipientsRefused) -> PermanentSendError:
    """anymail raises this when the ESP called every recipient "invalid" or "rejected"."""
    email = exc.email_message
    statuses = set(getattr(getattr(email, "anymail_status", None), "status", None) or ())
    if "invalid" in statuses:
        return PermanentSendError(str(exc), code="invalid", suppress_recipient=True)
    # "rejected": the address is on the ESP's own suppression list (an earlier hard bounce,
    # a complaint, an unsubscribe at the ESP). The bounce or complaint itself reached our list
    # through the tracking webhook; the ESP keeps refusing while the address is on its list,
    # and a copy on ours would outlive its reactivation there.
    return PermanentSendError(str(exc), code="rejected")


def _aborted_mid_answer(exc: AnymailAPIError) -> bool:
    """The connection broke after the request went out, before the answer came back."""
    cause = exc.__cause__
    return isinstance(cause, requests.ConnectionError) and any(
        isinstance(arg, ProtocolError) for arg in cause.args
    )


def _esp_error(exc: AnymailAPIError) -> SendError:
    status = exc.status_code
    if status is None:
        if isinstance(exc, requests.ReadTimeout) or _aborted_mid_answer(exc):
            # The request was sent; the ESP may have accepted it before the failure.
            return TransientSendError(str(exc), code="timeout", outcome_unknown=True)
        if isinstance(exc, requests.RequestException):
            # AnymailRequestsAPIError also subclasses the requests error it wraps: this one
            # failed before the request reached the ESP (refused, connect timeout, TLS).
            return TransientSendError(str(exc), code="connection")
        # Not an HTTP answer (e.g. Amazon SES's client): nothing says whether it was taken.
        return TransientSendError(str(exc), code="esp", outcome_unknown=True)
    if status in (408, 429) or status >= 500:
        return TransientSendError(str(exc), code=str(status))
    if 400 <= status < 500:
        # The request itself is wrong (credentials, sender, payload): not the address.
        return PermanentSendError(str(exc), code=str(status))
    # A success status whose answer anymail could not read: the ESP may have taken it.
    return TransientSendError(str(exc), code=str(status), outcome_unknown=True)


def _esp_failed(esp_name: str, response: object) -> SendError:
    """The ESP answered but did not send it ("failed"), for a reason anymail could not map:
    a 4xx answer refused the message as built (Mailjet's per-message errors); any other is
    worth another try (Unisender Go's "temporarily unavailable")."""
    http_status = getattr(response, "status_code", None)
    description = f"{esp_name} did not send it (status failed, HTTP {http_status or '-'})"
    if http_status is not None and 400 <= http_status < 500:
        return PermanentSendError(description, code="failed")
    return TransientSendError(description, code="failed")


def send_error_from_email(exc: Exception, *, sending: bool = False) -> SendError:
    """Map anymail, SMTP and socket errors onto Transient or Permanent. `sending` is True once
    the email was being handed over (the connection was open): a connection that fails from
    then on without a reply leaves the outcome unknown."""
    if isinstance(exc, AnymailRecipientsRefused):
        return _esp_refusal(exc)
    if isinstance(exc, AnymailInvalidAddress):
        return PermanentSendError(str(exc), code="invalid", suppress_recipient=True)
    if isinstance(exc, AnymailAPIError):
        return _esp_error(exc)
    if isinstance(exc, smtplib.SMTPException) and (error := _smtp_error(exc)):
        return error
    if isinstance(exc, OSError):  # no reply: refused, reset, closed, timed out
        # smtplib says "please run connect() first" when the connection was gone before
        # anything was sent (the server closed it between two emails).
        nothing_sent = isinstance(exc, smtplib.SMTPServerDisconnected) and "connect()" in str(exc)
        return TransientSendError(
            str(exc), code="smtp", outcome_unknown=sending and not nothing_sent
        )
    # AnymailUnsupportedFeature, AnymailSerializationError, BadHeaderError: the message
    # itself cannot be sent as built.
    return PermanentSendError(str(exc), code=type(exc).__name__)


class EmailChannel:
    name = "email"

    def __init__(self) -> None:
        # Adapters are shared per process (see `channel_for`); an open batch belongs to the
        # thread that opened it.
        self._batch = threading.local()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Send every email of the block over one backend connection, opened once and closed
        at the end: one SMTP session or one HTTP session (keep-alive, one TLS handshake) per
        chunk instead of one per email. Each email still succeeds or fails on its own; when the
        connection cannot be opened, each send reports that error at once instead of waiting
        for its own connection timeout."""
        connection: BaseEmailBackend | None
        connection = self._connection()
        try:
            connection.open()
        except (AnymailError, OSError) as exc:
            self._batch.error, connection = exc, None
        self._batch.connection = connection
        try:
            yield
        finally:
            self._batch.connection = self._batch.error = None
            if connection is not None:
                # Every email of the block was already handed over, or failed on its own.
                with suppress(AnymailError, OSError):
                    connection.close()

    def _connection(self) -> BaseEmailBackend:
        timeout = float(getattr(settings, "NOTIFICATIONS_EMAIL_TIMEOUT", DEFAULT_TIMEOUT_SECONDS))
        return get_connection(timeout=timeout)

    def send(self, msg: RenderedMessage) -> SendResult:
        if error := getattr(self._batch, "error", None):
            raise send_error_from_email(error) from error
        connection = getattr(self._batch, "connection", None)
        if connection is not None:
            return self._send(msg, connection)
        # Opened apart from the send, so that failing to connect (nothing sent) is told
        # apart from a connection lost while handing the email over (outcome unknown).
        connection = self._connection()
        try:
            connection.open()
        except (AnymailError, OSError) as exc:
            raise send_error_from_email(exc) from exc
        try:
            return self._send(msg, connection)
        finally:
            with suppress(AnymailError, OSError):
                connection.close()

    def _send(self, msg: RenderedMessage, connection: BaseEmailBackend) -> SendResult:
        headers = dict(msg.headers)
        # The outbox chooses and stores it before the call; direct callers get a new one.
        headers.setdefault("Message-ID", email_message_id_new())
        email = EmailMultiAlternatives(
            subject=msg.subject,
            body=msg.body_text,
            from_email=_formatted_from(msg),
            to=[msg.recipient],
            reply_to=[msg.reply_to] if msg.reply_to else None,
            headers=headers,
            connection=connection,
        )
        if msg.body_html:
            email.attach_alternative(msg.body_html, "text/html")
        # anymail reads these attributes from any EmailMessage.
        email.tags = list(msg.tags)  # type: ignore[attr-defined]
        email.metadata = _metadata(msg)  # type: ignore[attr-defined]
        try:
            sent = email.send()
        except (AnymailError, OSError, BadHeaderError) as exc:
            raise send_error_from_email(exc, sending=True) from exc
        if not sent:
            # anymail's pre_send signal cancelled it, or there was no recipient.
            raise PermanentSendError("The email backend did not send the message", code="not_sent")
        if not hasattr(connection, "esp_name"):
            # Plain Django backends report no id: our own Message-ID is the provider id.
            return SendResult(
                provider_message_id=headers["Message-ID"],
                provider=type(connection).__module__.rsplit(".", 1)[-1],
                status="sent",
            )
        status = email.anymail_status  # type: ignore[attr-defined]
        statuses = set(status.status or ())
        if statuses == {"failed"}:
            raise _esp_failed(connection.esp_name, status.esp_response)
        # "queued" and "unknown" are the ESP's: accepted, the outcome to follow by webhook.
        return SendResult(
            provider_message_id=str(status.message_id) if status.message_id is not None else "",
            provider=str(connection.esp_name).lower(),
            status=",".join(sorted(statuses)),
        )
