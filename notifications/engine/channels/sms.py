"""SMS and WhatsApp through Twilio's Programmable Messaging API.

One twilio `Client` per process, with an explicit HTTP timeout. `TWILIO_API_BASE_URL`
(optional) replaces `https://api.twilio.com`, so tests can point the real client at a local
fake server.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import requests
from django.conf import settings
from django.core.signals import setting_changed
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from notifications.engine.channels.base import (
    PermanentSendError,
    RenderedMessage,
    SendError,
    SendResult,
    TransientSendError,
)

DEFAULT_TIMEOUT_SECONDS = 10.0

# Twilio error codes that mean the number itself is unusable or has opted out: the
# recipient should be suppressed, not just this message failed.
SUPPRESS_RECIPIENT_CODES = frozenset(
    {
        21211,  # invalid 'To' phone number
        21214,  # 'To' phone number cannot be reached
        21217,  # phone number does not appear to be valid
        21407,  # this phone number type does not support SMS
        21408,  # permission to send to this region is not enabled
        21610,  # recipient replied STOP (unsubscribed)
        21612,  # the 'To' number is not currently reachable via SMS
        21614,  # 'To' number is not a valid mobile number
        63003,  # WhatsApp: channel could not find the 'To' address
        63024,  # WhatsApp: invalid message recipient
    }
)


@functools.cache
def twilio_client() -> Client:
    timeout = float(getattr(settings, "TWILIO_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
    client = Client(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        http_client=TwilioHttpClient(timeout=timeout),
    )
    base_url: str = getattr(settings, "TWILIO_API_BASE_URL", "")
    if base_url:
        # twilio builds every Messages URL from the Api domain's base_url
        # (Domain.absolute_url); edge/region read from the environment would rewrite the
        # host again, so they are dropped for an explicit base URL.
        client.api.base_url = base_url.rstrip("/")
        client.edge = None
        client.region = None
    return client


def _reset_client(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("TWILIO_"):
        twilio_client.cache_clear()


setting_changed.connect(_reset_client, dispatch_uid="notifications.engine.channels.sms.reset")


def send_error_from_twilio(exc: Exception) -> SendError:
    """Map anything the twilio client raises onto Transient or Permanent."""
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        status = int(exc.status)
        code = str(exc.code or "")
        message = str(getattr(exc, "msg", "") or getattr(exc, "detail", "") or exc)
        if status == 429 or status >= 500:
            return TransientSendError(message, code=code)
        if exc.code in SUPPRESS_RECIPIENT_CODES:
            return PermanentSendError(message, code=code, suppress_recipient=True)
        return PermanentSendError(message, code=code)
    if isinstance(exc, requests.ReadTimeout):
        # The request was sent; Twilio may have accepted it before we stopped waiting.
        return TransientSendError(str(exc), code="timeout", outcome_unknown=True)
    if isinstance(exc, requests.RequestException):
        return TransientSendError(str(exc), code="connection")
    # A TwilioException without an HTTP status (e.g. no credentials) has no provider
    # verdict on the message itself.
    return TransientSendError(str(exc))


class _TwilioChannel:
    name = ""
    address_prefix = ""

    def send(self, msg: RenderedMessage) -> SendResult:
        params = self._params(msg)
        if msg.status_callback_url:
            params["status_callback"] = msg.status_callback_url
        try:
            created = twilio_client().messages.create(**params)
        except (TwilioException, requests.RequestException) as exc:
            raise send_error_from_twilio(exc) from exc
        return SendResult(
            provider_message_id=str(created.sid),
            provider="twilio",
            status=str(created.status or ""),
        )

    def _params(self, msg: RenderedMessage) -> dict[str, Any]:
        params: dict[str, Any] = {"to": self._address(msg.recipient), "body": msg.body_text}
        params.update(self._sender(msg))
        return params

    def _address(self, number: str) -> str:
        return self.address_prefix + number.removeprefix(self.address_prefix)

    def _from_number(self) -> str:
        return str(settings.TWILIO_FROM_NUMBER)

    def _sender(self, msg: RenderedMessage) -> dict[str, str]:
        # The shop's own number first; then a messaging service, which picks the sender from
        # its pool; otherwise the platform's one fixed number.
        if msg.from_number:
            return {"from_": self._address(msg.from_number)}
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            return {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
        number = self._from_number()
        if not number:
            raise PermanentSendError(
                "Neither TWILIO_MESSAGING_SERVICE_SID nor a sender number is configured",
                code="not_configured",
            )
        return {"from_": self._address(number)}


class SmsChannel(_TwilioChannel):
    name = "sms"


class WhatsAppChannel(_TwilioChannel):
    name = "whatsapp"
    address_prefix = "whatsapp:"

    def _from_number(self) -> str:
        # WhatsApp senders are often a different number from the SMS one.
        return str(getattr(settings, "TWILIO_WHATSAPP_FROM_NUMBER", "") or super()._from_number())

    def _params(self, msg: RenderedMessage) -> dict[str, Any]:
        params = super()._params(msg)
        if msg.whatsapp_content_sid:
            # Outside the 24-hour session window WhatsApp only accepts approved templates:
            # the content template replaces the free-form body.
            del params["body"]
            params["content_sid"] = msg.whatsapp_content_sid
            params["content_variables"] = json.dumps(msg.whatsapp_content_variables)
        return params


# GSM 03.38: the basic table costs one septet per character, the extension table two
# (escape + character). Anything else forces UCS-2 for the whole message.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


def sms_is_gsm7(body: str) -> bool:
    """Whether every character fits GSM-7; one that does not makes the whole text UCS-2."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in body)


def sms_encoding(body: str) -> str:
    """ "GSM-7" or "UCS-2": how the text is encoded, which decides its segment size."""
    return "GSM-7" if sms_is_gsm7(body) else "UCS-2"


def sms_segments(body: str) -> int:
    """How many SMS segments `body` is billed as: GSM-7 160 single / 153 per part of a
    multipart message, UCS-2 70 / 67. A character is never split across two parts."""
    if not body:
        return 0
    if sms_is_gsm7(body):
        costs = [2 if ch in GSM7_EXTENSION else 1 for ch in body]
        single, per_part = 160, 153
    else:
        # UCS-2 counts UTF-16 code units: characters beyond the BMP (emoji) take two.
        costs = [2 if ord(ch) > 0xFFFF else 1 for ch in body]
        single, per_part = 70, 67
    if sum(costs) <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts
