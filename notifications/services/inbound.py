"""What providers tell us back: delivery receipts, and texts customers send."""

import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.models import (
    MESSAGE_TRANSITIONS,
    InboundMessage,
    Message,
    MessageStatus,
    ProviderEvent,
    Suppression,
    SuppressionReason,
)
from notifications.services.suppression import suppression_add, suppression_key
from orders.models import Channel, Customer, Shop
from postpurchase.states import can_transition, transition

# Twilio's status names, and where each moves our message (forward only).
_TWILIO_STATUS = {
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.FAILED,
    "failed": MessageStatus.FAILED,
}
# Twilio error codes on a failed delivery that mean the number should not be tried again.
_SUPPRESSING_CODES = {"21211", "21610", "21612", "21614", "30003", "30005", "30006", "30007"}


def _event_store(provider: str, key: str, kind: str, payload: dict) -> ProviderEvent | None:
    """Store a callback once; None when it was seen before."""
    try:
        with transaction.atomic():
            return ProviderEvent.objects.create(
                provider=provider, event_key=key[:255], kind=kind, payload=payload
            )
    except IntegrityError:
        return None


@transaction.atomic
def twilio_status_record(*, payload: dict[str, str]) -> str:
    """Apply a Twilio status callback; returns what happened (for the log and the tests)."""
    sid, status = payload.get("MessageSid", ""), payload.get("MessageStatus", "")
    event = _event_store("twilio", f"{sid}:{status}", "status", payload)
    if event is None:
        return "duplicate"
    message = (
        Message.objects.select_for_update().filter(provider_message_id=sid).first() if sid else None
    )
    target = _TWILIO_STATUS.get(status)
    if message is None or target is None:
        return "ignored"
    event.message = message
    event.save(update_fields=["message"])
    if not can_transition(message.status, target, MESSAGE_TRANSITIONS):
        return "ignored"  # late or out of order: never move backwards
    code = payload.get("ErrorCode", "")
    note = f"twilio: {status}" + (f" (error {code})" if code else "")
    message.status_reason = note
    extra: tuple[str, ...] = ("status_reason",)
    if target == MessageStatus.DELIVERED:
        message.delivered_at = timezone.now()
        extra += ("delivered_at",)
    transition(message, to=target, table=MESSAGE_TRANSITIONS, note=note, extra_fields=extra)
    if code in _SUPPRESSING_CODES:
        suppression_add(
            shop_id=message.shop_id,
            channel=message.channel,
            address=message.recipient,
            reason=SuppressionReason.INVALID,
            source="twilio",
            detail=f"error {code}",
        )
    return target


STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
STOP_PHRASES = ("OPT OUT", "STOP TEXTING", "STOP TEXTING ME", "WRONG NUMBER")
START_WORDS = {"START", "YES", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}


def keyword_of(body: str) -> str:
    """The compliance keyword a text amounts to: "stop", "start", "help" or ""."""
    text = re.sub(r"[^A-Z ]", "", body.upper()).strip()
    text = " ".join(text.split())
    if text in STOP_WORDS or text in STOP_PHRASES:
        return "stop"
    if text in START_WORDS:
        return "start"
    if text in HELP_WORDS:
        return "help"
    return ""


@dataclass(frozen=True)
class InboundResult:
    keyword: str
    reply: str
    inbound: InboundMessage | None


def _shop_for_sender(sender: str) -> Shop | None:
    """The shop that last texted this number: replies answer the latest conversation."""
    last = (
        Message.objects.filter(recipient=sender, channel__in=(Channel.SMS, Channel.WHATSAPP))
        .exclude(status=MessageStatus.SCHEDULED)
        .order_by("-created_at")
        .select_related("shop")
        .first()
    )
    return last.shop if last else None


def _help_reply(shop: Shop | None) -> str:
    name = shop.name if shop else "Order updates"
    contact = (
        " ".join(part for part in (shop.support_email, shop.support_phone) if part) if shop else ""
    )
    return (
        f"{name}: order and delivery updates, a few messages per order. "
        f"{'Help: ' + contact + '. ' if contact else ''}"
        "Msg & data rates may apply. Reply STOP to opt out."
    )


@transaction.atomic
def twilio_inbound_record(*, payload: dict[str, str]) -> InboundResult:
    """Store a customer's text and act on STOP, START and HELP for the shop that texted them."""
    raw_sender = payload.get("From", "")
    channel = Channel.WHATSAPP if raw_sender.startswith("whatsapp:") else Channel.SMS
    sender = raw_sender.removeprefix("whatsapp:")
    body = payload.get("Body", "")
    keyword = keyword_of(body)
    shop = _shop_for_sender(sender)
    customer = (
        Customer.objects.filter(shop=shop, phone=sender).order_by("pk").first() if shop else None
    )
    try:
        with transaction.atomic():
            inbound = InboundMessage.objects.create(
                shop=shop,
                customer=customer,
                channel=channel,
                sender=sender,
                body=body,
                keyword=keyword,
                provider_message_id=payload.get("MessageSid", "")[:64],
            )
    except IntegrityError:
        return InboundResult(keyword, "", None)  # a retried webhook: acted on already
    reply = ""
    if keyword == "stop" and shop:
        suppression_add(
            shop_id=shop.pk,
            channel=channel,
            address=sender,
            reason=SuppressionReason.STOP,
            source="twilio inbound",
            detail=body[:255],
        )
        reply = (
            f"{shop.name}: you are unsubscribed and will get no more texts. Reply START to resume."
        )
    elif keyword == "start" and shop:
        Suppression.objects.filter(
            shop=shop,
            channel=channel,
            address=suppression_key(sender),
            reason=SuppressionReason.STOP,
        ).delete()
        reply = f"{shop.name}: you will get order updates by text again. Reply STOP to opt out."
    elif keyword == "help":
        reply = _help_reply(shop)
    return InboundResult(keyword, reply, inbound)
