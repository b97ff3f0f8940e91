"""The one interface every outbound channel implements, and how a channel is chosen.

Adapters receive fully rendered text, never touch the ORM, and report failure as exactly
one of two errors: `TransientSendError` (worth a retry) or `PermanentSendError` (not).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

DEFAULT_CHANNELS: dict[str, str] = {
    "email": "notifications.engine.channels.email.EmailChannel",
    "sms": "notifications.engine.channels.sms.SmsChannel",
    "whatsapp": "notifications.engine.channels.sms.WhatsAppChannel",
}
CONSOLE_CHANNEL = "notifications.engine.channels.console.ConsoleChannel"
# Only our own Twilio adapters fall back to the console; an adapter named explicitly in
# settings is used as given.
_TWILIO_ADAPTERS_PREFIX = "notifications.engine.channels.sms."


@dataclass(frozen=True)
class RenderedMessage:
    message_id: int
    shop_id: int
    channel: str  # "email" | "sms" | "whatsapp"
    recipient: str  # an email address, or an E.164 phone number
    subject: str = ""
    body_text: str = ""
    body_html: str = ""
    from_email: str = ""
    from_name: str = ""
    reply_to: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # e.g. List-Unsubscribe
    tags: tuple[str, ...] = ()
    # anymail metadata; the email adapter adds "message_id" so tracking events find the row.
    metadata: dict[str, str] = field(default_factory=dict)
    # Twilio: where it reports delivery (without one a plain `From` number never reports), and
    # the shop's own number to send from instead of the platform's sender.
    status_callback_url: str = ""
    from_number: str = ""
    # A Twilio content template, required for WhatsApp outside the 24-hour session window.
    whatsapp_content_sid: str = ""
    whatsapp_content_variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    provider: str
    status: str = ""  # what the provider said, e.g. "queued"


class SendError(Exception):
    code: str = ""

    def __init__(self, message: str = "", *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class TransientSendError(SendError):
    """Timeouts, connection errors, 5xx and 429: worth a retry.

    `outcome_unknown` is True when the request may have reached the provider before failing
    (a read timeout): a retry could then deliver the message twice.
    """

    outcome_unknown: bool = False

    def __init__(self, message: str = "", *, code: str = "", outcome_unknown: bool = False):
        super().__init__(message, code=code)
        self.outcome_unknown = outcome_unknown


class PermanentSendError(SendError):
    """Bad address, other 4xx, opted out: retrying will not help.

    `suppress_recipient` is True when the error says the address or number itself is bad or
    has opted out, so nothing more should be sent to it.
    """

    suppress_recipient: bool = False

    def __init__(
        self, message: str = "", *, code: str = "", suppress_recipient: bool = False
    ) -> None:
        super().__init__(message, code=code)
        self.suppress_recipient = suppress_recipient


class Channel(Protocol):
    name: str

    def send(self, msg: RenderedMessage) -> SendResult: ...


def channel_for(name: str) -> Channel:
    """The adapter configured for channel `name` ("email", "sms" or "whatsapp")."""
    return _channel_for(name)


@functools.cache
def _channel_for(name: str) -> Channel:
    configured: dict[str, str] = getattr(settings, "NOTIFICATIONS_CHANNELS", DEFAULT_CHANNELS)
    try:
        path = configured[name]
    except KeyError:
        raise ValueError(f"No adapter configured for channel {name!r}") from None
    if path.startswith(_TWILIO_ADAPTERS_PREFIX) and not settings.TWILIO_ACCOUNT_SID:
        # The demo runs without a Twilio account: show the messages instead of failing them.
        path = CONSOLE_CHANNEL
    adapter_class: Any = import_string(path)
    return cast(Channel, adapter_class())


def _reset_channels(*, setting: str, **kwargs: object) -> None:
    # Adapters are cached per process; a changed setting (tests, override_settings) must
    # pick the adapter again.
    if setting == "NOTIFICATIONS_CHANNELS" or setting.startswith("TWILIO_"):
        _channel_for.cache_clear()


setting_changed.connect(_reset_channels, dispatch_uid="notifications.engine.channels.reset")
