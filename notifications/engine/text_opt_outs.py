"""STOP and START by text: which shops a number that wrote to us belongs to, and what its
opt-out covers.

A reply reaches us on one of our numbers (Twilio's `To`). When that is a shop's own number the
reply concerns that shop alone: its texts come from that number and no other shop's do.
Otherwise it reached the platform's shared sender, which texts for every shop: the opt-out then
covers every shop that knows the phone (a customer's phone, a text scheduled or sent to it),
and a `NumberOptOut` covers any shop that only gets to know it later. Sending checks both
(`texts_opted_out`), so nothing pending goes out after a STOP.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q

from notifications.engine.suppression import suppression_add, suppression_key
from notifications.models import (
    MESSAGE_TRANSITIONS,
    PENDING_STATES,
    Message,
    MessageStatus,
    NumberOptOut,
    Suppression,
    SuppressionReason,
)
from orders.models import Channel, Customer, Shop
from postpurchase.states import transition_rows

TEXT_CHANNELS = (Channel.SMS, Channel.WHATSAPP)
# How a message suppressed for a STOP says why: the words sending uses for any suppression.
STOPPED_REASON = f"recipient suppressed: {SuppressionReason.STOP.label.lower()}"


@dataclass(frozen=True)
class TextSender:
    """A phone that wrote to one of our numbers, on one channel, and the shops it concerns."""

    phone: str
    channel: str
    our_number: str
    # The shop whose own number was written to; None for the platform's shared sender.
    number_owner: Shop | None = None
    shops: list[Shop] = field(default_factory=list)


def text_sender_resolve(*, phone: str, channel: str, our_number: str) -> TextSender:
    """Who a text from `phone` to `our_number` concerns: the shop whose own number it is, else
    every shop that knows the phone (by name, for replies that list them)."""
    owner = Shop.objects.filter(sms_number=our_number).first() if our_number else None
    if owner is not None:
        return TextSender(phone, channel, our_number, owner, [owner])
    texted = Message.objects.filter(recipient=phone, channel__in=TEXT_CHANNELS)
    customers = Customer.objects.filter(phone=phone)
    shops = Shop.objects.filter(
        Q(pk__in=texted.values("shop_id")) | Q(pk__in=customers.values("shop_id"))
    ).order_by("name", "pk")
    return TextSender(phone, channel, our_number, None, list(shops))


def text_opt_out(*, sender: TextSender, detail: str) -> int:
    """Opt the phone out of texts on its channel for every shop the sender concerns (and, on a
    shared number, for shops to come), and suppress what is pending for it there. Returns how
    many pending messages were suppressed."""
    for shop in sender.shops:
        suppression_add(
            shop_id=shop.pk,
            channel=sender.channel,
            address=sender.phone,
            reason=SuppressionReason.STOP,
            source="twilio inbound",
            detail=detail,
        )
    if sender.number_owner is None:
        NumberOptOut.objects.get_or_create(
            phone=suppression_key(sender.phone),
            channel=sender.channel,
            our_number=sender.our_number,
        )
    pending = Message.objects.filter(
        shop__in=sender.shops, recipient=sender.phone, channel=sender.channel
    )
    suppressed = transition_rows(
        pending.order_by("pk"),
        to=MessageStatus.SUPPRESSED,
        table=MESSAGE_TRANSITIONS,
        among=PENDING_STATES,
        note=f"{STOPPED_REASON} ({detail})"[:500],
        values={"status_reason": STOPPED_REASON},
    )
    return len(suppressed)


def text_opt_in(*, sender: TextSender) -> None:
    """START: lift the phone's STOP on its channel for every shop the sender concerns, and its
    opt-out of the shared number. Bounces, bad numbers and staff's entries stay."""
    Suppression.objects.filter(
        shop__in=sender.shops,
        channel=sender.channel,
        address=suppression_key(sender.phone),
        reason=SuppressionReason.STOP,
    ).delete()
    if sender.number_owner is None:
        NumberOptOut.objects.filter(
            phone=suppression_key(sender.phone),
            channel=sender.channel,
            our_number=sender.our_number,
        ).delete()


def texts_opted_out(messages: list[Message]) -> dict[int, str]:
    """Of a chunk about to be sent, the texts whose recipient replied STOP to the number they
    would go out from, with why: one query, none for a chunk without texts. A shop's own
    number answers for itself; every other text goes out from the shared sender, which any
    opt-out of a shared number covers."""
    texts = [m for m in messages if m.channel in TEXT_CHANNELS]
    if not texts:
        return {}
    numbers: dict[tuple[str, str], set[str]] = defaultdict(set)
    rows = NumberOptOut.objects.filter(
        phone__in={suppression_key(m.recipient) for m in texts},
        channel__in={m.channel for m in texts},
    ).values_list("phone", "channel", "our_number")
    for phone, channel, our_number in rows:
        numbers[(phone, channel)].add(our_number)
    reasons = {}
    for message in texts:
        opted_out_of = numbers.get((suppression_key(message.recipient), message.channel))
        own = message.shop.sms_number if message.channel == Channel.SMS else ""
        if opted_out_of and (not own or own in opted_out_of):
            to = own or min(opted_out_of)
            reasons[message.pk] = f"{STOPPED_REASON} to {to}" if to else STOPPED_REASON
    return reasons
