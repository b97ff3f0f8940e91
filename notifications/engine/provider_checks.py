"""The messaging providers as the settings area's integrations tab shows them: what is
configured (read from the settings and the shop, never by calling the provider), the last
message sent and receipt received for the shop, and a test send through the real channel
adapter, its outcome recorded in the settings area's log.

A test send calls the provider outside any transaction and records its outcome afterwards in
one of its own: no lock is held across the call. A secret (an auth token, an API key) is never
shown; the Twilio account SID is shown masked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from anymail.exceptions import AnymailError
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import get_connection
from django.db import transaction

from notifications.engine.channels.base import RenderedMessage, SendError, channel_for
from notifications.models import Message, ProviderEvent
from orders.models import Channel, SettingsArea, Shop
from orders.services.customers import phone_to_e164
from orders.shop_settings.audit import settings_change_record
from orders.tenancy import AnyUser, staff_permission_require
from postpurchase import permissions
from postpurchase.exceptions import DomainError

# Backends that deliver nothing: configured for a demo or a test, not for customers.
_NOT_DELIVERING = {
    "django.core.mail.backends.console.EmailBackend": "the console (printed, not delivered)",
    "django.core.mail.backends.locmem.EmailBackend": "memory (kept, not delivered)",
    "django.core.mail.backends.dummy.EmailBackend": "nowhere (dropped)",
    "django.core.mail.backends.filebased.EmailBackend": "files (written, not delivered)",
}
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class ProviderTestRefused(DomainError):
    """A test send that was not attempted (not configured, no address): nothing was sent."""


@dataclass(frozen=True)
class EmailProvider:
    backend: str
    # What staff read: "Postmark (anymail)", "SMTP server mail.example.org:587".
    label: str
    is_delivering: bool
    # Why the backend cannot send as configured (a missing API key), read without a call.
    problem: str = ""


@dataclass(frozen=True)
class LastEvent:
    at: datetime
    what: str


@dataclass(frozen=True)
class ProviderTestOutcome:
    is_sent: bool
    recipient: str
    detail: str  # the provider's message id, or its error as it said it


def email_provider_configured() -> EmailProvider:
    backend = settings.EMAIL_BACKEND
    if backend in _NOT_DELIVERING:
        return EmailProvider(backend, f"None: email goes to {_NOT_DELIVERING[backend]}", False)
    if backend == SMTP_BACKEND:
        return EmailProvider(
            backend, f"SMTP server {settings.EMAIL_HOST}:{settings.EMAIL_PORT}", True
        )
    try:
        # anymail's backends read their settings (API keys) here; none opens a connection.
        connection = get_connection(backend)
    except (ImproperlyConfigured, AnymailError, ImportError) as exc:
        return EmailProvider(backend, backend, False, problem=str(exc).splitlines()[0])
    esp_name = getattr(connection, "esp_name", "")
    label = f"{esp_name} (anymail)" if esp_name else backend
    return EmailProvider(backend, label, True)


def email_sender_for(shop: Shop) -> dict[str, str]:
    """Who the shop's emails come from, as the sending path fills it in."""
    return {
        "from_name": shop.email_from_name or shop.name,
        "from_email": shop.email_from_address or settings.DEFAULT_FROM_EMAIL,
        "reply_to": shop.email_reply_to or shop.support_email,
    }


def last_email_sent(shop: Shop) -> LastEvent | None:
    message = (
        Message.objects.filter(shop=shop, channel=Channel.EMAIL, sent_at__isnull=False)
        .order_by("-created_at")
        .only("sent_at", "status")
        .first()
    )
    if message is None or message.sent_at is None:
        return None
    return LastEvent(message.sent_at, message.get_status_display())


# Receipts are looked for among the shop's latest messages of the channel (through the
# messages' (shop, created_at) index): the page reads a bounded number of rows however many
# receipts the table holds, and a receipt comes for a recent message.
RECEIPT_LOOKBACK_MESSAGES = 500


def _last_receipt(shop: Shop, *, twilio: bool) -> LastEvent | None:
    channels = [Channel.SMS, Channel.WHATSAPP] if twilio else [Channel.EMAIL]
    recent = Message.objects.filter(shop=shop, channel__in=channels).order_by("-created_at")
    events = ProviderEvent.objects.filter(
        message__in=recent.values("pk")[:RECEIPT_LOOKBACK_MESSAGES]
    )
    events = events.filter(provider="twilio") if twilio else events.exclude(provider="twilio")
    event = events.order_by("-pk").only("received_at", "provider", "kind", "payload").first()
    if event is None:
        return None
    status = event.payload.get("MessageStatus", "") if twilio else ""
    return LastEvent(event.received_at, f"{event.provider} {status or event.kind}".strip())


def last_email_event(shop: Shop) -> LastEvent | None:
    return _last_receipt(shop, twilio=False)


def last_text_status_callback(shop: Shop) -> LastEvent | None:
    return _last_receipt(shop, twilio=True)


def masked(value: str) -> str:
    """`AC…1234`: enough to tell two accounts apart, not to use one."""
    return f"{value[:2]}…{value[-4:]}" if len(value) > 8 else "…"


def twilio_is_configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN)


def twilio_sender_for(shop: Shop) -> str:
    """What the shop's texts are sent from, as the SMS adapter chooses it."""
    if shop.sms_number:
        return f"{shop.sms_number} (the shop's own number)"
    if settings.TWILIO_MESSAGING_SERVICE_SID:
        return f"messaging service {masked(settings.TWILIO_MESSAGING_SERVICE_SID)}"
    if settings.TWILIO_FROM_NUMBER:
        return f"{settings.TWILIO_FROM_NUMBER} (the platform's number)"
    return ""


def _record(
    *, shop_id: int, actor: AnyUser | None, action: str, outcome: ProviderTestOutcome
) -> None:
    result = f"{'sent' if outcome.is_sent else 'failed'}: {outcome.detail}"
    with transaction.atomic():
        settings_change_record(
            shop_id=shop_id,
            actor=actor,
            area=SettingsArea.INTEGRATIONS,
            action=action,
            subject=outcome.recipient,
            changes={"result": ("", result)},
        )


def _send(msg: RenderedMessage, channel: str) -> ProviderTestOutcome:
    try:
        result = channel_for(channel).send(msg)
    # A backend that cannot even start (an ESP without its API key) says why, as a refusal does.
    except (SendError, ImproperlyConfigured, AnymailError) as exc:
        return ProviderTestOutcome(False, msg.recipient, str(exc) or type(exc).__name__)
    return ProviderTestOutcome(True, msg.recipient, result.provider_message_id or result.provider)


def email_test_send(*, shop_id: int, actor: AnyUser | None, recipient: str) -> ProviderTestOutcome:
    """Send a test email through the email channel (the configured backend) to `recipient`,
    the signed-in staff member, from the shop's sender identity; record what happened."""
    staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.INTEGRATION_EDIT)
    if not recipient:
        raise ProviderTestRefused("Your account has no email address to send the test to.")
    shop = Shop.objects.get(pk=shop_id)
    sender = email_sender_for(shop)
    msg = RenderedMessage(
        message_id=0,
        shop_id=shop_id,
        channel=Channel.EMAIL,
        recipient=recipient,
        subject=f"Test email from {shop.name}",
        body_text=(
            f"This is a test email sent from the settings of {shop.name}.\n\n"
            "If it reached you, the shop's emails reach customers the same way."
        ),
        tags=("settings_test",),
        metadata={"settings_test": "email"},
        from_name=sender["from_name"],
        from_email=sender["from_email"],
        reply_to=sender["reply_to"],
    )
    outcome = _send(msg, Channel.EMAIL)
    _record(shop_id=shop_id, actor=actor, action="email.test_sent", outcome=outcome)
    return outcome


def text_test_send(*, shop_id: int, actor: AnyUser | None, phone: str) -> ProviderTestOutcome:
    """Send a test text through Twilio (the SMS adapter) to `phone`, read in the shop's
    region when it has no country code; record what happened."""
    staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.INTEGRATION_EDIT)
    if not twilio_is_configured():
        raise ProviderTestRefused("Twilio is not configured: no text can be sent.")
    shop = Shop.objects.get(pk=shop_id)
    number = phone_to_e164(phone.strip(), default_region=shop.phone_region)
    if not number:
        raise ProviderTestRefused(f"'{phone}' is not a phone number (add its country code).")
    msg = RenderedMessage(
        message_id=0,
        shop_id=shop_id,
        channel=Channel.SMS,
        recipient=number,
        body_text=f"Test text from {shop.name}: texts to customers go out the same way.",
        from_number=shop.sms_number,
    )
    outcome = _send(msg, Channel.SMS)
    _record(shop_id=shop_id, actor=actor, action="sms.test_sent", outcome=outcome)
    return outcome
