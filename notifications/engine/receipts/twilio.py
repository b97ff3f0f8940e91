"""What providers tell us back: delivery receipts, and texts customers send."""

import re
from dataclasses import dataclass, replace

from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.engine.inbound_texts import (
    InboundText,
    inbound_text_announce,
    inbound_text_dispatch,
)
from notifications.engine.suppression import suppression_add
from notifications.engine.text_opt_outs import (
    TEXT_CHANNELS,
    TextSender,
    text_opt_in,
    text_opt_out,
    text_sender_resolve,
)
from notifications.models import (
    MESSAGE_TRANSITIONS,
    InboundMessage,
    Message,
    MessageStatus,
    ProviderEvent,
    SuppressionReason,
)
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
        Message.objects.filter(recipient=sender, channel__in=TEXT_CHANNELS)
        .exclude(status=MessageStatus.SCHEDULED)
        .order_by("-created_at")
        .select_related("shop")
        .first()
    )
    return last.shop if last else None


def _addressed_shop(sender: TextSender) -> Shop | None:
    """The one shop a reply is for (its help text, the staff who see it): the owner of the
    number written to, else the shop that last texted the sender, else the only one that
    knows the sender."""
    if sender.number_owner is not None:
        return sender.number_owner
    if len(sender.shops) == 1:
        return sender.shops[0]
    return _shop_for_sender(sender.phone) if sender.shops else None


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


def _shop_names(shops: list[Shop]) -> str:
    """ "A", "A and B", "A, B and C", "A, B and 3 other shops": short enough for one text."""
    names = [shop.name for shop in shops]
    if len(names) > 3:
        return f"{', '.join(names[:2])} and {len(names) - 2} other shops"
    return " and ".join(filter(None, [", ".join(names[:-1]), names[-1]]))


def _stop_reply(sender: TextSender) -> str:
    what = "WhatsApp messages" if sender.channel == Channel.WHATSAPP else "texts"
    if len(sender.shops) == 1:
        return (
            f"{sender.shops[0].name}: you are unsubscribed and will get no more {what}. "
            "Reply START to resume."
        )
    source = f"from {_shop_names(sender.shops)}" if sender.shops else "from this number"
    return f"You are unsubscribed and will get no more {what} {source}. Reply START to resume."


def _start_reply(sender: TextSender) -> str:
    how = "on WhatsApp" if sender.channel == Channel.WHATSAPP else "by text"
    if len(sender.shops) == 1:
        return (
            f"{sender.shops[0].name}: you will get order updates {how} again. "
            "Reply STOP to opt out."
        )
    source = f" from {_shop_names(sender.shops)}" if sender.shops else ""
    return f"You will get order updates {how} again{source}. Reply STOP to opt out."


@transaction.atomic
def twilio_inbound_record(*, payload: dict[str, str]) -> InboundResult:
    """Store a customer's text and act on STOP, START and HELP for every shop it concerns (see
    `text_opt_outs`), whether or not one has texted the sender yet."""
    raw_sender = payload.get("From", "")
    if not raw_sender.removeprefix("whatsapp:"):
        return InboundResult("", "", None)  # from no one: nothing to store or act on
    channel = Channel.WHATSAPP if raw_sender.startswith("whatsapp:") else Channel.SMS
    body = payload.get("Body", "")
    keyword = keyword_of(body)
    sender = text_sender_resolve(
        phone=raw_sender.removeprefix("whatsapp:"),
        channel=channel,
        our_number=payload.get("To", "").removeprefix("whatsapp:"),
    )
    shop = _addressed_shop(sender)
    customer = (
        Customer.objects.filter(shop=shop, phone=sender.phone).order_by("pk").first()
        if shop
        else None
    )
    try:
        with transaction.atomic():
            inbound = InboundMessage.objects.create(
                shop=shop,
                customer=customer,
                channel=channel,
                sender=sender.phone,
                body=body,
                keyword=keyword,
                provider_message_id=payload.get("MessageSid", "")[:64],
            )
    except IntegrityError:
        return InboundResult(keyword, "", None)  # a retried webhook: acted on already
    reply = ""
    if keyword == "stop":
        text_opt_out(sender=sender, detail=body[:255])
        reply = _stop_reply(sender)
    elif keyword == "start":
        text_opt_in(sender=sender)
        reply = _start_reply(sender)
    elif keyword == "help":
        reply = _help_reply(shop)
    text = InboundText(
        inbound_id=inbound.pk,
        shop_id=shop.pk if shop else None,
        customer_id=customer.pk if customer else None,
        channel=channel,
        sender=sender.phone,
        body=body,
        keyword=keyword,
        provider_message_id=inbound.provider_message_id,
        received_at=inbound.received_at,
    )
    if not keyword:
        # Not a keyword: another app's conversation may be waiting for it (a survey's score, a
        # reply to a case).
        # The keywords above come first, so a STOP is never read as an answer.
        text = replace(text, handled_by=inbound_text_dispatch(text))
    # Then whoever only listens (the text analysis) hears of every text, and who took it.
    inbound_text_announce(text)
    return InboundResult(keyword, reply, inbound)
