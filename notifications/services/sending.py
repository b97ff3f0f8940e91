"""Sending messages in three steps: claim, call the provider outside any transaction, record.

A batch goes a chunk at a time (`NOTIFICATIONS_SEND_CHUNK`): one transaction settles the
chunk's messages that must not go out (moot, blocked, waiting, over a cap) and renders the
rest, and one email connection serves the chunk. Then each message is claimed on its own, just
before its provider call, by a conditional UPDATE (`queued → sending`, committed before the
call), and its result is recorded right after the call. So a worker killed mid-chunk leaves
only the one message it was sending in doubt (held for review by `messages_recover_stuck`, never
resent on its own) and the rest `queued`, sent by the next sweep; and two workers handed the
same message never both send it: only one UPDATE still finds it `queued`."""

import random
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
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
from notifications.channels.email import email_message_id_new
from notifications.models import (
    MESSAGE_TRANSITIONS,
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
from orders.models import Channel, OrderStatus
from postpurchase.exceptions import DomainError
from postpurchase.states import transition


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

    def write(self) -> set[int]:
        """Write each change where the row is still in the state it started from, and
        return those rows' ids. A row moved meanwhile by another hand (the sweep holding a
        send that outlived its timeout) keeps its state and gets no event."""
        if not self.messages:
            return set()
        fields = sorted(self.fields)
        if connection.vendor == "postgresql":
            starts = {event.message.pk: event.from_status for event in self.events}
            written = _update_from_values(self.messages, fields, starts)
        else:
            # The embedded demo (SQLite) runs one worker: nothing else moves these rows.
            Message.objects.bulk_update(self.messages, fields)
            written = {message.pk for message in self.messages}
        MessageEvent.objects.bulk_create(e for e in self.events if e.message.pk in written)
        return written


def _update_from_values(
    messages: list[Message], names: list[str], starts: dict[int, str]
) -> set[int]:
    """One `UPDATE … FROM (VALUES …)` for the whole chunk, for the rows still in their
    starting state. Django's bulk_update builds a CASE expression per field per row, which
    cost two thirds of a chunk's time when measured."""
    fields = [Message._meta.get_field(name) for name in names]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    assignments = ", ".join(
        f"{connection.ops.quote_name(f.column)} = v.{connection.ops.quote_name(f.column)}"
        for f in fields
    )
    # Casts give the VALUES list the table's column types.
    template = (
        "("
        + ", ".join(
            ["%s::bigint", "%s::varchar", *(f"%s::{f.db_type(connection)}" for f in fields)]
        )
        + ")"
    )
    rows = [
        (
            m.pk,
            starts[m.pk],
            *(f.get_db_prep_save(getattr(m, f.attname), connection) for f in fields),
        )
        for m in messages
    ]
    table = connection.ops.quote_name(Message._meta.db_table)
    sql = (
        f"UPDATE {table} AS m SET {assignments} "  # noqa: S608 - identifiers from the model
        f"FROM (VALUES %s) AS v(id, start, {columns}) "
        "WHERE m.id = v.id AND m.status = v.start RETURNING m.id"
    )
    with connection.cursor() as cursor:
        found = execute_values(
            cursor.cursor, sql, rows, template=template, page_size=len(rows), fetch=True
        )
    return {row[0] for row in found}


def _moot_reason(message: Message, now: datetime, hold: Hold | None = None) -> str:
    """Why a queued message must not go out after all, or "" when it still should. A message
    that must wait (`hold`) until past its expiry is moot already: it is never sent late."""
    if message.expires_at and now >= message.expires_at:
        return "too late to be useful"
    if hold and message.expires_at and hold.until >= message.expires_at:
        return f"too late to be useful by the time it may go out ({hold.note})"
    if message.order_id and message.order.status == OrderStatus.CANCELLED:
        return "the order was cancelled"
    if message.customer_id and message.customer.redacted_at:
        return "the customer's data was erased"
    return ""


def _blocked(messages: list[Message]) -> dict[int, str]:
    """Why each message must not reach its recipient at all: one query for the chunk's
    suppressions and one for its customers' consents, which may have changed since the
    message was scheduled (see `compliance.consent_refusal` for the rules)."""
    if not messages:
        return {}
    wanted = Q()
    for m in messages:
        wanted |= Q(shop_id=m.shop_id, channel=m.channel, address=suppression_key(m.recipient))
    suppressed = {
        (s.shop_id, s.channel, s.address): s.get_reason_display().lower()
        for s in Suppression.objects.filter(wanted)
    }
    consents = consents_by_customer({m.customer_id for m in messages if m.customer_id})
    reasons = {}
    for m in messages:
        reason = suppressed.get((m.shop_id, m.channel, suppression_key(m.recipient)))
        if reason:
            reasons[m.pk] = f"recipient suppressed: {reason}"
        elif refusal := consent_refusal(
            consents.get(m.customer_id, {}), channel=m.channel, purpose=m.purpose
        ):
            reasons[m.pk] = refusal
    return reasons


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
        headers=email_headers(message) if message.channel == Channel.EMAIL else {},
        tags=(message.kind,),
        metadata={"message_id": str(message.pk), "shop_id": str(message.shop_id)},
        # Set by `_prepare` when WhatsApp must use the shop's approved content template.
        whatsapp_content_sid=getattr(message, "whatsapp_content_sid", ""),
        whatsapp_content_variables=getattr(message, "whatsapp_content_variables", {}),
    )


def _commit_without_waiting() -> None:
    """Let the current transaction commit without waiting for the disk: one flush per message
    is already the claim's (about as long as the rest of the message's work on this machine),
    so the commits that can afford to be lost do not add theirs."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _render(message: Message, changes: _Changes) -> bool:
    """Render a claimable message onto the instance; False when it failed to render."""
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
    return True


@transaction.atomic
def _prepare(message_ids: list[int]) -> list[Message]:
    """Lock the chunk's queued messages (skipping any another worker holds), settle the ones
    that must not go out (moot, blocked, over the weekly marketing cap), put back the ones that
    must wait (quiet hours, a marketing pause), and render the rest. Those stay `queued` until
    each is claimed (`_claim`) just before its own provider call."""
    # Lost in a crash of PostgreSQL, these changes would leave the chunk queued, prepared
    # again by the next sweep.
    _commit_without_waiting()
    messages = list(
        Message.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("shop", "order", "customer")
        .filter(pk__in=message_ids, status=MessageStatus.QUEUED)
        .order_by("pk")
    )
    now, changes, ready = timezone.now(), _Changes(), []
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
        elif _render(message, changes):
            cap.count(message)
            ready.append(message)
    changes.write()
    return ready


# One round trip marks the message sending (only if it is still queued: another worker, or
# staff, may have moved it since the chunk was prepared), stores what is about to be sent and
# writes the history. It commits before the provider call, durably: were the claim lost, the
# message would look unsent and could go out twice. An email keeps the Message-ID of its first
# attempt, so a copy that did arrive is recognised by that header whatever retries followed.
_CLAIM_SQL = """
WITH claimed AS (
    UPDATE notifications_message
    SET status = 'sending', status_reason = 'attempt ' || (attempt_count + 1),
        attempt_count = attempt_count + 1, sending_at = %(now)s, updated_at = %(now)s,
        subject = %(subject)s, body_text = %(body_text)s, body_html = %(body_html)s,
        email_message_id = COALESCE(NULLIF(email_message_id, ''), %(email_message_id)s)
    WHERE id = %(id)s AND status = 'queued'
    RETURNING id, attempt_count, email_message_id
), history AS (
    INSERT INTO notifications_messageevent (message_id, from_status, to_status, note, at)
    SELECT id, 'queued', 'sending', 'attempt ' || attempt_count, %(now)s FROM claimed
)
SELECT attempt_count, email_message_id FROM claimed
"""


def _claim(message: Message) -> bool:
    """Mark one prepared message `sending`, just before its provider call; False when it was
    no longer queued, so that it is not ours to send."""
    now = timezone.now()
    values = {
        "id": message.pk,
        "now": now,
        "subject": message.subject,
        "body_text": message.body_text,
        "body_html": message.body_html,
        "email_message_id": email_message_id_new() if message.channel == Channel.EMAIL else "",
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_SQL, values)
            claimed = cursor.fetchone()
    else:
        claimed = _claim_portable(message, values)
    if claimed is None:
        return False
    message.attempt_count, message.email_message_id = claimed
    message.status, message.status_reason = MessageStatus.SENDING, f"attempt {claimed[0]}"
    message.sending_at = now
    return True


@transaction.atomic
def _claim_portable(message: Message, values: dict) -> tuple[int, str] | None:
    row = (
        Message.objects.select_for_update()
        .filter(pk=message.pk, status=MessageStatus.QUEUED)
        .values_list("attempt_count", "email_message_id")
        .first()
    )
    if row is None:
        return None
    attempt, email_message_id = row[0] + 1, row[1] or values["email_message_id"]
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING,
        status_reason=f"attempt {attempt}",
        attempt_count=attempt,
        sending_at=values["now"],
        updated_at=values["now"],
        subject=values["subject"],
        body_text=values["body_text"],
        body_html=values["body_html"],
        email_message_id=email_message_id,
    )
    MessageEvent.objects.create(
        message_id=message.pk,
        from_status=MessageStatus.QUEUED,
        to_status=MessageStatus.SENDING,
        note=f"attempt {attempt}",
    )
    return attempt, email_message_id


@dataclass(frozen=True)
class _Outcome:
    message: Message
    started_at: datetime
    finished_at: datetime
    result: SendResult | None = None
    error: SendError | None = None


def _connections(messages: list[Message]) -> ExitStack:
    """One provider connection per channel that can batch (email: one SMTP or HTTP session)
    for the whole chunk; each message still succeeds or fails on its own."""
    batches = ExitStack()
    for name in sorted({message.channel for message in messages}):
        channel = channel_for(name)
        if hasattr(channel, "batch"):
            batches.enter_context(channel.batch())
    return batches


def _send_one(message: Message) -> _Outcome:
    rendered = _rendered_message(message)
    if message.email_message_id:
        headers = {**rendered.headers, "Message-ID": message.email_message_id}
        rendered = replace(rendered, headers=headers)
    started_at = timezone.now()
    try:
        result = channel_for(message.channel).send(rendered)
    except SendError as exc:
        return _Outcome(message, started_at, timezone.now(), error=exc)
    return _Outcome(message, started_at, timezone.now(), result=result)


def _retry_at(attempt: int, now: datetime) -> datetime:
    """When a message that failed for now is due again: the delay doubles with each attempt up
    to a cap, and is drawn from its upper half, so that retries spread out and a greylisting
    server's minimum wait is never undercut by a near-zero draw."""
    base = settings.NOTIFICATIONS_RETRY_BACKOFF.total_seconds()
    ceiling = settings.NOTIFICATIONS_RETRY_BACKOFF_MAX.total_seconds()
    delay = min(ceiling, base * 2 ** (attempt - 1))
    return now + timedelta(seconds=random.uniform(delay / 2, delay))  # noqa: S311 - jitter


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
            reason = f"gave up after {message.attempt_count} attempts: {error}"
            changes.move(message, MessageStatus.FAILED, reason, "last_error")
        else:
            # Back to the schedule: the dispatcher claims it again once due, so a retry waits
            # in the database, not in the broker, and survives a flush of Redis.
            message.send_at = _retry_at(message.attempt_count, outcome.finished_at)
            reason = f"will retry after {message.send_at:%H:%M:%S} UTC: {error}"
            changes.move(message, MessageStatus.SCHEDULED, reason, "last_error", "send_at")
        return attempt
    attempt.outcome, attempt.error = AttemptOutcome.PERMANENT, str(error)
    changes.move(message, MessageStatus.FAILED, str(error), "last_error")
    return attempt


@transaction.atomic
def _record(outcome: _Outcome) -> None:
    # Lost in a crash of PostgreSQL, the result would leave the message `sending`: held for
    # review, never resent. The next claim's durable commit flushes it anyway.
    _commit_without_waiting()
    message, error = outcome.message, outcome.error
    changes = _Changes()
    attempt = _apply(outcome, changes)
    attempt.save()
    if message.pk not in changes.write():
        _record_late(outcome)
    if isinstance(error, PermanentSendError) and error.suppress_recipient:
        suppression_add(
            shop_id=message.shop_id,
            channel=message.channel,
            address=message.recipient,
            reason=SuppressionReason.INVALID,
            source=message.provider or message.channel,
            detail=f"{error.code}: {error}",
        )


def _record_late(outcome: _Outcome) -> None:
    """The sweep held this message while its call was still running (the call outlived
    `NOTIFICATIONS_SENDING_TIMEOUT`). A provider that accepted it settles it as sent; any other
    answer leaves it held, the attempt on record for whoever reviews it."""
    message = Message.objects.select_for_update().get(pk=outcome.message.pk)
    outcome.message.status = message.status  # what the caller reports
    if outcome.result is None or message.status != MessageStatus.HELD:
        return
    message.provider = outcome.result.provider
    message.provider_message_id = outcome.result.provider_message_id
    message.sent_at = outcome.finished_at
    message.status_reason = "the provider accepted it after it was held"
    transition(
        message,
        to=MessageStatus.SENT,
        table=MESSAGE_TRANSITIONS,
        note=message.status_reason,
        extra_fields=("provider", "provider_message_id", "sent_at", "status_reason"),
    )
    outcome.message.status = message.status


def _send_chunk(message_ids: list[int]) -> dict[int, str]:
    ready = _prepare(message_ids)
    statuses: dict[int, str] = {}
    with _connections(ready):
        for message in ready:
            if _claim(message):
                _record(_send_one(message))
                statuses[message.pk] = message.status
    return statuses


def messages_send(*, message_ids: list[int]) -> dict[int, str]:
    """Send queued messages, `NOTIFICATIONS_SEND_CHUNK` at a time, each claimed just before its
    own provider call and recorded right after it. A worker that dies mid-batch leaves at most
    the message it was sending in doubt (`sending`, then held for review, never resent) and the
    rest `queued` (enqueued again by `messages_recover_stuck`). Must be called outside any
    transaction, so that each claim commits before its call. Returns each handled message's
    status afterwards (`scheduled`: the provider asked us to try again later, and it is due
    again after its backoff); ids not returned were not ours to send (already handled, or in
    another worker's hands)."""
    size = settings.NOTIFICATIONS_SEND_CHUNK
    statuses: dict[int, str] = {}
    for start in range(0, len(message_ids), size):
        statuses.update(_send_chunk(message_ids[start : start + size]))
    return statuses


def message_send(*, message_id: int) -> str:
    """Send one queued message: the one-message case of `messages_send`. Returns its status
    afterwards, or "skipped" when it was not ours to send."""
    return messages_send(message_ids=[message_id]).get(message_id, "skipped")
