"""What staff and ops do to single messages: send now, cancel, retry. Each is for the shop's
owners and managers (`MESSAGE_OPERATE`); the acting user is checked against the staff policy
before anything moves."""

from django.db import transaction
from django.utils import timezone

from notifications.models import MESSAGE_TRANSITIONS, Message, MessageStatus
from notifications.services.dispatch import enqueue_after_commit
from orders.tenancy import staff_permission_require
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.states import transition


def _locked_for(actor, message_id: int) -> Message:
    message = Message.objects.select_for_update().get(pk=message_id)
    staff_permission_require(
        actor=actor, shop_id=message.shop_id, action=permissions.MESSAGE_OPERATE
    )
    return message


@transaction.atomic
def message_send_now(*, message_id: int, actor=None) -> Message:
    """Make a scheduled message due at once and hand it to a worker."""
    message = _locked_for(actor, message_id)
    if message.status != MessageStatus.SCHEDULED:
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
def message_cancel(*, message_id: int, actor=None, reason: str = "cancelled by staff") -> Message:
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
def message_retry(*, message_id: int, actor=None) -> Message:
    """Send a failed message again. Only ever by a person: a message whose outcome is unknown
    may have reached the customer, so nothing retries it on its own."""
    message = _locked_for(actor, message_id)
    if message.status != MessageStatus.FAILED:
        # The transition table also allows scheduled → queued; a "retry" of a scheduled
        # message would quietly send it before its time.
        raise DomainError(f"only a failed message can be retried (this one is {message.status})")
    message.queued_at = timezone.now()
    message.status_reason = "retried by staff"
    transition(
        message,
        to=MessageStatus.QUEUED,
        table=MESSAGE_TRANSITIONS,
        actor=actor,
        note="retried by staff",
        extra_fields=("queued_at", "status_reason"),
    )
    enqueue_after_commit([message.pk])
    return message
