"""Sending messages in three steps, a chunk at a time: claim the chunk, call the provider for
each message outside any transaction, record the results. A message is never sent twice, and
never sent when it became moot. Each step costs a fixed number of queries per chunk, not per
message: per-message round trips are what capped throughput."""

from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from psycopg2.extras import execute_values

from notifications.channels.base import (
    PermanentSendError,
    RenderedMessage,
    SendError,
    SendResult,
    TransientSendError,
    channel_for,
)
from notifications.models import (
    AttemptOutcome,
    DeliveryAttempt,
    Message,
    MessageEvent,
    MessageStatus,
    Suppression,
    SuppressionReason,
)
from notifications.services.compliance import (
    Hold,
    MarketingCap,
    consent_refusal,
    consents_by_customer,
    sending_holds,
)
from notifications.services.links import email_headers
from notifications.services.rendering import message_render_outbound, templates_for_batch
from notifications.services.suppression import suppression_add, suppression_key
from notifications.services.text_opt_outs import TEXT_CHANNELS, texts_opted_out
from orders.models import Channel, OrderStatus, Purpose
from postpurchase.exceptions import DomainError


@dataclass
class _Changes:
    """Status changes of one step, written together."""

    messages: list[Message] = field(default_factory=list)
    events: list[MessageEvent] = field(default_factory=list)
    fields: set[str] = field(default_factory=lambda: {"status", "status_reason", "updated_at"})

    def move(self, message: Message, to: str, reason: str, *extra: str) -> None:
        self.events.append(
            MessageEvent(
                message=message, from_status=message.status, to_status=to, note=reason[:500]
            )
        )
        message.status, message.status_reason = to, reason[:255]
        message.updated_at = timezone.now()
        self.messages.append(message)
        self.fields.update(extra)

    def write(self) -> None:
        if not self.messages:
            return
        fields = sorted(self.fields)
        if connection.vendor == "postgresql":
            _update_from_values(self.messages, fields)
        else:
            Message.objects.bulk_update(self.messages, fields)
        MessageEvent.objects.bulk_create(self.events)


def _update_from_values(messages: list[Message], names: list[str]) -> None:
    """One `UPDATE … FROM (VALUES …)` for the whole chunk. Django's bulk_update builds a CASE
    expression per field per row, which cost two thirds of a chunk's time when measured."""
    fields = [Message._meta.get_field(name) for name in names]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    assignments = ", ".join(
        f"{connection.ops.quote_name(f.column)} = v.{connection.ops.quote_name(f.column)}"
        for f in fields
    )
    # Casts give the VALUES list the table's column types.
    template = (
        "(" + ", ".join(["%s::bigint", *(f"%s::{f.db_type(connection)}" for f in fields)]) + ")"
    )
    rows = [
        (m.pk, *(f.get_db_prep_save(getattr(m, f.attname), connection) for f in fields))
        for m in messages
    ]
    table = connection.ops.quote_name(Message._meta.db_table)
    sql = (
        f"UPDATE {table} AS m SET {assignments} "  # noqa: S608 - identifiers from the model
        f"FROM (VALUES %s) AS v(id, {columns}) WHERE m.id = v.id"
    )
    with connection.cursor() as cursor:
        execute_values(cursor.cursor, sql, rows, template=template, page_size=len(rows))


def _moot_reason(message: Message, now: datetime, hold: Hold | None = None) -> str:
    """Why a queued message must not go out after all, or "" when it still should. A message
    that must wait (`hold`) until past its expiry is moot already: it is never sent late."""
    if message.expires_at and now >= message.expires_at:
        return "too late to be useful"
    if hold and message.expires_at and hold.until >= message.expires_at:
        return f"too late to be useful by the time it may go out ({hold.note})"
    if message.order_id and message.order.status == OrderStatus.CANCELLED:
        return "the order was cancelled"
    reversed_sale = message.order_id and message.order.is_payment_reversed
    if reversed_sale and message.purpose == Purpose.MARKETING:
        return f"the order's payment was {message.order.get_financial_status_display().lower()}"
    if message.customer_id and message.customer.redacted_at:
        return "the customer's data was erased"
    return ""


def _blocked(messages: list[Message]) -> dict[int, str]:
    """Why each message must not reach its recipient at all: one query for the chunk's
    suppressions, one for its texts' opt-outs of our shared numbers (`texts_opted_out`) and
    one for its customers' consents, which may have changed since the message was scheduled
    (see `compliance.consent_refusal` for the rules)."""
    if not messages:
        return {}
    wanted = Q()
    for m in messages:
        wanted |= Q(shop_id=m.shop_id, channel=m.channel, address=suppression_key(m.recipient))
    suppressed = {
        (s.shop_id, s.channel, s.address): s.get_reason_display().lower()
        for s in Suppression.objects.filter(wanted)
    }
    opted_out = texts_opted_out(messages)
    consents = consents_by_customer({m.customer_id for m in messages if m.customer_id})
    reasons = {}
    for m in messages:
        reason = suppressed.get((m.shop_id, m.channel, suppression_key(m.recipient)))
        if reason:
            reasons[m.pk] = f"recipient suppressed: {reason}"
        elif m.pk in opted_out:
            reasons[m.pk] = opted_out[m.pk]
        elif refusal := consent_refusal(
            consents.get(m.customer_id, {}), channel=m.channel, purpose=m.purpose
        ):
            reasons[m.pk] = refusal
    return reasons


def _rendered_message(message: Message) -> RenderedMessage:
    shop = message.shop
    # Twilio reports delivery only to a callback asked for with each message.
    status_callback = settings.PUBLIC_BASE_URL + reverse("notifications:twilio_status")
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
        headers=email_headers(message) if message.channel == Channel.EMAIL else {},
        tags=(message.kind,),
        metadata={"message_id": str(message.pk), "shop_id": str(message.shop_id)},
        # Set by `_prepare` when WhatsApp must use the shop's approved content template.
        whatsapp_content_sid=getattr(message, "whatsapp_content_sid", ""),
        whatsapp_content_variables=getattr(message, "whatsapp_content_variables", {}),
        status_callback_url=status_callback if message.channel in TEXT_CHANNELS else "",
        # A shop's own number is an SMS number; WhatsApp keeps the platform's WhatsApp sender.
        from_number=shop.sms_number if message.channel == Channel.SMS else "",
    )


def _prepare(message: Message, now: datetime, changes: _Changes) -> bool:
    """Render a claimable message and mark it sending; False when it failed to render."""
    try:
        # The chunk's messages share one read of each shop template they need.
        text = message_render_outbound(message=message, templates=templates_for_batch(changes))
    except DomainError as exc:
        changes.move(message, MessageStatus.FAILED, str(exc))
        return False
    message.subject, message.body_text, message.body_html = (
        text.subject[:255],
        text.body_text,
        text.body_html,
    )
    # Not stored: handed to `_rendered_message` on this same instance, re-rendered on a retry.
    message.whatsapp_content_sid = text.whatsapp_content_sid
    message.whatsapp_content_variables = text.whatsapp_content_variables
    message.sending_at = now
    message.attempt_count += 1
    changes.move(
        message,
        MessageStatus.SENDING,
        f"attempt {message.attempt_count}",
        "subject",
        "body_text",
        "body_html",
        "sending_at",
        "attempt_count",
    )
    return True


@transaction.atomic
def _claim(message_ids: list[int]) -> list[Message]:
    """Lock the chunk's queued messages (skipping any another worker holds), settle the ones
    that must not go out (moot, blocked, over the weekly marketing cap), put back the ones that
    must wait (quiet hours, a marketing pause), and mark the rest `sending`."""
    messages = list(
        Message.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("shop", "order", "customer")
        .filter(pk__in=message_ids, status=MessageStatus.QUEUED)
        .order_by("pk")
    )
    now, changes, claimed = timezone.now(), _Changes(), []
    blocked, holds = _blocked(messages), sending_holds(messages, now)
    cap = MarketingCap(messages, now)
    for message in messages:
        hold = holds.get(message.pk)
        moot = _moot_reason(message, now, hold)
        if moot:
            changes.move(message, MessageStatus.CANCELLED, moot)
        elif message.pk in blocked:
            changes.move(message, MessageStatus.SUPPRESSED, blocked[message.pk])
        elif hold:
            message.send_at = hold.until
            changes.move(message, MessageStatus.SCHEDULED, hold.note, "send_at")
        elif over_cap := cap.refusal(message):
            changes.move(message, MessageStatus.CANCELLED, over_cap)
        elif _prepare(message, now, changes):
            cap.count(message)
            claimed.append(message)
    changes.write()
    return claimed


@dataclass(frozen=True)
class _Outcome:
    message: Message
    started_at: datetime
    finished_at: datetime
    result: SendResult | None = None
    error: SendError | None = None


def _send(messages: list[Message]) -> list[_Outcome]:
    """Hand each message to its channel, outside any transaction. A channel that can batch
    (email: one backend connection for the chunk) sends the chunk over one connection; each
    message still succeeds or fails on its own."""
    with ExitStack() as batches:
        for name in sorted({message.channel for message in messages}):
            channel = channel_for(name)
            if hasattr(channel, "batch"):
                batches.enter_context(channel.batch())
        return [_send_one(message) for message in messages]


def _send_one(message: Message) -> _Outcome:
    started_at = timezone.now()
    try:
        result = channel_for(message.channel).send(_rendered_message(message))
    except SendError as exc:
        return _Outcome(message, started_at, timezone.now(), error=exc)
    return _Outcome(message, started_at, timezone.now(), result=result)


def _apply(outcome: _Outcome, changes: _Changes) -> DeliveryAttempt:
    message, error = outcome.message, outcome.error
    attempt = DeliveryAttempt(
        message=message, started_at=outcome.started_at, finished_at=outcome.finished_at
    )
    if outcome.result is not None:
        attempt.outcome = AttemptOutcome.SENT
        attempt.provider_message_id = outcome.result.provider_message_id
        message.provider = outcome.result.provider
        message.provider_message_id = outcome.result.provider_message_id
        message.sent_at = outcome.finished_at
        changes.move(message, MessageStatus.SENT, "", "provider", "provider_message_id", "sent_at")
        return attempt
    message.last_error = str(error)
    if isinstance(error, TransientSendError):
        attempt.outcome, attempt.error = AttemptOutcome.TRANSIENT, str(error)
        if error.outcome_unknown:
            # The provider may have accepted it before the timeout: a retry could send twice.
            reason = f"outcome unknown: held for review, not resent ({error})"
            changes.move(message, MessageStatus.HELD, reason, "last_error")
        elif message.attempt_count >= settings.NOTIFICATIONS_MAX_SEND_ATTEMPTS:
            changes.move(message, MessageStatus.FAILED, f"gave up: {error}", "last_error")
        else:
            message.queued_at = outcome.finished_at
            reason = f"will retry: {error}"
            changes.move(message, MessageStatus.QUEUED, reason, "last_error", "queued_at")
        return attempt
    attempt.outcome, attempt.error = AttemptOutcome.PERMANENT, str(error)
    changes.move(message, MessageStatus.FAILED, str(error), "last_error")
    return attempt


@transaction.atomic
def _record(outcomes: list[_Outcome]) -> None:
    changes = _Changes()
    attempts = [_apply(outcome, changes) for outcome in outcomes]
    changes.write()
    DeliveryAttempt.objects.bulk_create(attempts)
    for outcome in outcomes:
        error, message = outcome.error, outcome.message
        if isinstance(error, PermanentSendError) and error.suppress_recipient:
            suppression_add(
                shop_id=message.shop_id,
                channel=message.channel,
                address=message.recipient,
                reason=SuppressionReason.INVALID,
                source=message.provider or message.channel,
                detail=f"{error.code}: {error}",
            )


def messages_send(*, message_ids: list[int]) -> dict[int, str]:
    """Send queued messages, `NOTIFICATIONS_SEND_CHUNK` at a time. Each chunk is claimed, handed
    to its providers and recorded with its own commits, so a worker that dies mid-batch leaves
    at most one chunk `sending` (held for review, never resent) and the rest `queued` (enqueued
    again by `messages_recover_stuck`). Returns each handled message's status afterwards
    (`queued` means the provider asked us to try again later); ids not returned were not ours
    to send (already handled, or in another worker's hands)."""
    size = settings.NOTIFICATIONS_SEND_CHUNK
    statuses: dict[int, str] = {}
    for start in range(0, len(message_ids), size):
        claimed = _claim(message_ids[start : start + size])
        _record(_send(claimed))
        statuses.update((message.pk, message.status) for message in claimed)
    return statuses


def message_send(*, message_id: int) -> str:
    """Send one queued message: the one-message case of `messages_send`. Returns its status
    afterwards, or "skipped" when it was not ours to send. Raises TransientSendError when the
    provider asked us to try again later."""
    claimed = _claim([message_id])
    if not claimed:
        return "skipped"
    [outcome] = _send(claimed)
    _record([outcome])
    status = claimed[0].status
    if status == MessageStatus.QUEUED and isinstance(outcome.error, TransientSendError):
        raise outcome.error
    return status
