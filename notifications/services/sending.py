"""Sending one message in three steps: claim it, call the provider outside any transaction,
record the result. A message is never sent twice, and never sent when it became moot."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.channels.base import (
    PermanentSendError,
    RenderedMessage,
    SendResult,
    TransientSendError,
    channel_for,
)
from notifications.models import (
    MESSAGE_TRANSITIONS,
    AttemptOutcome,
    DeliveryAttempt,
    Message,
    MessageStatus,
    SuppressionReason,
)
from notifications.services.rendering import message_render
from notifications.services.suppression import message_blocked_reason, suppression_add
from orders.models import OrderStatus
from postpurchase.exceptions import DomainError
from postpurchase.states import transition


@dataclass(frozen=True)
class Claimed:
    message: Message
    rendered: RenderedMessage


def _move(message: Message, to: str, reason: str, *extra: str) -> None:
    message.status_reason = reason[:255]
    transition(
        message,
        to=to,
        table=MESSAGE_TRANSITIONS,
        note=reason[:500],
        extra_fields=("status_reason", *extra),
    )


def _moot_reason(message: Message, now: datetime) -> str:
    """Why a queued message must not go out after all, or "" when it still should."""
    if message.expires_at and now >= message.expires_at:
        return "too late to be useful"
    if message.order_id and message.order.status == OrderStatus.CANCELLED:
        return "the order was cancelled"
    if message.customer_id and message.customer.redacted_at:
        return "the customer's data was erased"
    return ""


def _rendered_message(message: Message) -> RenderedMessage:
    shop = message.shop
    return RenderedMessage(
        message_id=message.pk,
        shop_id=message.shop_id,
        channel=message.channel,
        recipient=message.recipient,
        subject=message.subject,
        body_text=message.body_text,
        body_html=message.body_html,
        from_email=settings.DEFAULT_FROM_EMAIL,
        from_name=shop.name,
        reply_to=shop.support_email,
        tags=(message.kind,),
        metadata={"message_id": str(message.pk), "shop_id": str(message.shop_id)},
    )


@transaction.atomic
def _claim(message_id: int) -> Claimed | None:
    message = (
        Message.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("shop", "order", "customer")
        .filter(pk=message_id, status=MessageStatus.QUEUED)
        .first()
    )
    if message is None:
        return None  # already sent, cancelled, or in another worker's hands
    now = timezone.now()
    moot = _moot_reason(message, now)
    if moot:
        _move(message, MessageStatus.CANCELLED, moot)
        return None
    blocked = message_blocked_reason(message)
    if blocked:
        _move(message, MessageStatus.SUPPRESSED, blocked)
        return None
    try:
        text = message_render(kind=message.kind, channel=message.channel, context=message.context)
    except DomainError as exc:
        _move(message, MessageStatus.FAILED, str(exc))
        return None
    message.subject, message.body_text, message.body_html = (
        text.subject[:255],
        text.body_text,
        text.body_html,
    )
    message.sending_at = now
    message.attempt_count += 1
    _move(
        message,
        MessageStatus.SENDING,
        f"attempt {message.attempt_count}",
        "subject",
        "body_text",
        "body_html",
        "sending_at",
        "attempt_count",
    )
    return Claimed(message, _rendered_message(message))


@transaction.atomic
def _record(
    message_id: int, started_at: datetime, result: SendResult | None, error: Exception | None
) -> Message:
    message = Message.objects.select_for_update().get(pk=message_id)
    now = timezone.now()
    attempt = DeliveryAttempt(message=message, started_at=started_at, finished_at=now)
    if result is not None:
        attempt.outcome = AttemptOutcome.SENT
        attempt.provider_message_id = result.provider_message_id
        message.provider, message.provider_message_id = result.provider, result.provider_message_id
        message.sent_at = now
        _move(message, MessageStatus.SENT, "", "provider", "provider_message_id", "sent_at")
    elif isinstance(error, TransientSendError):
        attempt.outcome, attempt.error = AttemptOutcome.TRANSIENT, str(error)
        message.last_error = str(error)
        if error.outcome_unknown:
            # The provider may have accepted it before the timeout: a retry could send twice.
            reason = f"outcome unknown: held for review, not resent ({error})"
            _move(message, MessageStatus.FAILED, reason, "last_error")
        elif message.attempt_count >= settings.NOTIFICATIONS_MAX_SEND_ATTEMPTS:
            _move(message, MessageStatus.FAILED, f"gave up: {error}", "last_error")
        else:
            message.queued_at = now
            _move(message, MessageStatus.QUEUED, f"will retry: {error}", "last_error", "queued_at")
    else:
        attempt.outcome, attempt.error = AttemptOutcome.PERMANENT, str(error)
        message.last_error = str(error)
        _move(message, MessageStatus.FAILED, str(error), "last_error")
        if isinstance(error, PermanentSendError) and error.suppress_recipient:
            suppression_add(
                shop_id=message.shop_id,
                channel=message.channel,
                address=message.recipient,
                reason=SuppressionReason.INVALID,
                source=message.provider or message.channel,
                detail=f"{error.code}: {error}",
            )
    attempt.save()
    return message


def message_send(*, message_id: int) -> str:
    """Send one queued message. Returns its status afterwards, or "skipped" when it was not
    ours to send. Raises TransientSendError when the provider asks us to try again later."""
    claimed = _claim(message_id)
    if claimed is None:
        return "skipped"
    started_at = timezone.now()
    try:
        result = channel_for(claimed.message.channel).send(claimed.rendered)
    except TransientSendError as exc:
        message = _record(message_id, started_at, None, exc)
        if message.status == MessageStatus.QUEUED:
            raise
        return message.status
    except PermanentSendError as exc:
        return _record(message_id, started_at, None, exc).status
    return _record(message_id, started_at, result, None).status
