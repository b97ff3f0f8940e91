"""What staff and ops do to single messages: send now, cancel, retry, and settle a message held
for review. Each is for the shop's owners and managers (`MESSAGE_OPERATE`); the acting user is
checked against the staff policy before anything moves."""

from django.db import transaction
from django.utils import timezone

from notifications.engine.dispatch import enqueue_after_commit
from notifications.models import MESSAGE_TRANSITIONS, Message, MessageStatus
from orders.tenancy import staff_permission_require
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.permissions import Actor
from postpurchase.states import transition

# What staff may find out about a held message: it did go out, or it did not.
SETTLE_OUTCOMES = (MessageStatus.SENT, MessageStatus.FAILED)


def _locked_for(actor: Actor, message_id: int) -> Message:
    message = Message.objects.select_for_update().get(pk=message_id)
    staff_permission_require(
        actor=actor, shop_id=message.shop_id, action=permissions.MESSAGE_OPERATE
    )
    return message


@transaction.atomic
def message_send_now(*, message_id: int, actor: Actor = None) -> Message:
    """Make a scheduled message due at once and hand it to a worker."""
    message = _locked_for(actor, message_id)
    if not message.can_send_now:
        raise DomainError(
            f"only a scheduled message can be sent now (this one is {message.status})"
        )
    now = timezone.now()
    message.send_at = message.queued_at = now
    message.status_reason = "sent now by staff"
    transition(
        message,
        to=MessageStatus.QUEUED,
        table=MESSAGE_TRANSITIONS,
        actor=actor,
        note="sent now by staff",
        extra_fields=("send_at", "queued_at", "status_reason"),
    )
    enqueue_after_commit([message.pk])
    return message


@transaction.atomic
def message_cancel(
    *, message_id: int, actor: Actor = None, reason: str = "cancelled by staff"
) -> Message:
    message = _locked_for(actor, message_id)
    message.status_reason = reason[:255]
    transition(
        message,
        to=MessageStatus.CANCELLED,
        table=MESSAGE_TRANSITIONS,
        actor=actor,
        note=reason,
        extra_fields=("status_reason",),
    )
    return message


@transaction.atomic
def message_retry(*, message_id: int, actor: Actor = None, held_confirmed: bool = False) -> Message:
    """Send a failed message again, or one held for review. Only ever by a person: a held
    message may have reached the customer, so it is retried only by someone who confirmed
    they know that (`held_confirmed`), and never on its own. The row is locked and moved to
    `queued`, so a second click (or a second tab) finds it queued and is refused."""
    message = _locked_for(actor, message_id)
    if not message.can_retry:
        # The transition table also allows scheduled → queued; a "retry" of a scheduled
        # message would quietly send it before its time.
        raise DomainError(
            f"only a failed or held message can be retried (this one is {message.status})"
        )
    if message.is_held and not held_confirmed:
        raise DomainError(
            "this message is held for review: the customer may already have it; "
            "confirm before sending it again"
        )
    note = (
        "retried by staff after review (the customer may have had it already)"
        if message.is_held
        else "retried by staff"
    )
    message.queued_at = timezone.now()
    message.status_reason = note[:255]
    transition(
        message,
        to=MessageStatus.QUEUED,
        table=MESSAGE_TRANSITIONS,
        actor=actor,
        note=note,
        extra_fields=("queued_at", "status_reason"),
    )
    enqueue_after_commit([message.pk])
    return message


@transaction.atomic
def message_settle(*, message_id: int, actor: Actor, outcome: str, note: str) -> Message:
    """Settle a message held for review with what staff found out: it did go out (`sent`; the
    customer has it, in their mailbox or in the provider's log) or it did not (`failed`; it
    may then be retried). The note says how they know and goes into the history."""
    message = _locked_for(actor, message_id)
    note = " ".join(note.split())
    if outcome not in SETTLE_OUTCOMES:
        raise DomainError("say whether the message went out or not")
    if not note:
        raise DomainError("say how you know, for the message's history")
    if not message.can_settle:
        raise DomainError(
            f"only a message held for review can be settled (this one is {message.status})"
        )
    said = "went out" if outcome == MessageStatus.SENT else "did not go out"
    message.status_reason = f"settled by staff: {said}: {note}"[:255]
    extra: tuple[str, ...] = ("status_reason",)
    if outcome == MessageStatus.SENT and message.sent_at is None:
        # When it left is not known; the provider call began at `sending_at`.
        message.sent_at = message.sending_at or timezone.now()
        extra += ("sent_at",)
    transition(
        message,
        to=outcome,
        table=MESSAGE_TRANSITIONS,
        actor=actor,
        note=f"settled by staff: {said}: {note}"[:500],
        extra_fields=extra,
    )
    return message
