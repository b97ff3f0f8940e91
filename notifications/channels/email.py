"""Email through django-anymail (or any Django email backend) with `EmailMultiAlternatives`.

Timeout: anymail's requests-based backends read `ANYMAIL["REQUESTS_TIMEOUT"]` (30 s by
default) for every connection in the process, and Django's SMTP backend reads `EMAIL_TIMEOUT`
(no timeout by default). This adapter opens its connection with an explicit
`timeout=NOTIFICATIONS_EMAIL_TIMEOUT` (10 s unless set), which both kinds of backend accept
and which overrides those globals for our sends only.
"""

from __future__ import annotations

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

from notifications.channels.base import (
    PermanentSendError,
    RenderedMessage,
    SendError,
    SendResult,
    TransientSendError,
)

DEFAULT_TIMEOUT_SECONDS = 10.0
# Characters that force quoting of a display name in an address header (RFC 5322 specials).
_SPECIALS = set('()<>[]:;@\\,."')


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


def send_error_from_email(exc: Exception) -> SendError:
    """Map anymail, SMTP and socket errors onto Transient or Permanent."""
    if isinstance(exc, AnymailRecipientsRefused | AnymailInvalidAddress):
        return PermanentSendError(str(exc), code="recipient_refused", suppress_recipient=True)
    if isinstance(exc, AnymailAPIError):
        status = exc.status_code
        if status is None and isinstance(exc, requests.ReadTimeout):
            return TransientSendError(str(exc), code="timeout", outcome_unknown=True)
        if status is None and isinstance(exc, requests.RequestException):
            # AnymailRequestsAPIError also subclasses the requests error it wraps.
            return TransientSendError(str(exc), code="connection")
        if status is not None and (status == 429 or status >= 500):
            return TransientSendError(str(exc), code=str(status))
        # Other 4xx, or an answer we could not read (a retry might send twice).
        return PermanentSendError(str(exc), code=str(status or ""))
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return PermanentSendError(str(exc), code="recipient_refused", suppress_recipient=True)
    if isinstance(exc, OSError):  # smtplib.SMTPException, socket errors and timeouts
        return TransientSendError(str(exc), code="smtp")
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

    def _connection(self):  # any Django email backend
        timeout = float(getattr(settings, "NOTIFICATIONS_EMAIL_TIMEOUT", DEFAULT_TIMEOUT_SECONDS))
        return get_connection(timeout=timeout)

    def send(self, msg: RenderedMessage) -> SendResult:
        if error := getattr(self._batch, "error", None):
            raise send_error_from_email(error) from error
        connection = getattr(self._batch, "connection", None) or self._connection()
        headers = dict(msg.headers)
        is_anymail = hasattr(connection, "esp_name")
        if not is_anymail:
            # Plain Django backends report no id: our own Message-ID is the provider id.
            headers.setdefault("Message-ID", f"<{uuid.uuid4().hex}@{msg.shop_id}.postpurchase>")
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
            raise send_error_from_email(exc) from exc
        if not sent:
            # anymail's pre_send signal cancelled it, or there was no recipient.
            raise PermanentSendError("The email backend did not send the message", code="not_sent")
        if not is_anymail:
            return SendResult(
                provider_message_id=headers["Message-ID"],
                provider=type(connection).__module__.rsplit(".", 1)[-1],
                status="sent",
            )
        status = email.anymail_status  # type: ignore[attr-defined]
        return SendResult(
            provider_message_id=str(status.message_id) if status.message_id is not None else "",
            provider=str(connection.esp_name).lower(),
            status=",".join(sorted(status.status or ())),
        )
