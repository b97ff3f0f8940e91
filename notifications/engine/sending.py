"""Sending messages in three steps: claim, call the provider outside any transaction, record.

A batch goes a chunk at a time (`NOTIFICATIONS_SEND_CHUNK`): one transaction settles the
chunk's messages that must not go out (moot, blocked, waiting, over a cap) and renders the
rest, and one email connection serves the chunk. Then each message is claimed on its own, just
before its provider call (`queued → sending`, committed before the call), and its answer is
recorded right after, with the next message's claim (see `notifications.engine.attempts`).
So a worker killed mid-chunk leaves only the one message it was sending in doubt (held for
review by `messages_recover_stuck`, never resent on its own) and the rest `queued`, sent by the
next sweep; and two workers handed the same message never both send it: only one claim still
finds it `queued`."""

import logging
import random
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Field, Q
from django.urls import reverse
from django.utils import timezone
from psycopg2.extras import execute_values

from notifications.engine.attempts import Answer, attempt_write
from notifications.engine.channels.base import (
    PermanentSendError,
    RenderedMessage,
    SendError,
    SendResult,
    TransientSendError,
    channel_for,
)
from notifications.engine.compliance import (
    Hold,
    MarketingCap,
    consent_refusal,
    consents_by_customer,
    sending_holds,
)
from notifications.engine.links import email_headers
from notifications.engine.rendering import message_render_outbound, templates_for_batch
from notifications.engine.suppression import suppression_add, suppression_key
from notifications.engine.text_opt_outs import TEXT_CHANNELS, texts_opted_out
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
from orders.models import Channel, OrderStatus, Purpose, Shop
from postpurchase.exceptions import DomainError
from postpurchase.message_kinds import PendingMessage, message_kind_find
from postpurchase.states import allowed_from, can_transition

logger = logging.getLogger(__name__)


@dataclass
class _Changes:
    """Status changes of one step, written together."""

    messages: list[Message] = field(default_factory=list)
    events: list[MessageEvent] = field(default_factory=list)
    fields: set[str] = field(default_factory=lambda: {"status", "status_reason", "updated_at"})

    def move(self, message: Message, to: str, reason: str, *extra: str) -> bool:
        """Move the message (in memory, written by `write`) if the table allows it; a move it
        forbids leaves the message as it is, unsent, and records nothing."""
        if not can_transition(message.status, to, MESSAGE_TRANSITIONS):
            logger.warning("message %s left %s: no move to %s", message.pk, message.status, to)
            return False
        self.events.append(
            MessageEvent(
                message=message, from_status=message.status, to_status=to, note=reason[:500]
            )
        )
        message.status, message.status_reason = to, reason[:255]
        message.updated_at = timezone.now()
        self.messages.append(message)
        self.fields.update(extra)
        return True

    def write(self) -> None:
        if not self.messages:
            return
        _update_from_values(self.messages, sorted(self.fields))
        MessageEvent.objects.bulk_create(self.events)


def _update_from_values(messages: list[Message], names: list[str]) -> None:
    """One `UPDATE … FROM (VALUES …)` for the whole chunk. Django's bulk_update builds a CASE
    expression per field per row, which cost two thirds of a chunk's time when measured."""
    concrete = {f.name: f for f in Message._meta.concrete_fields}
    fields = [concrete[name] for name in names]
    quoted = [_quoted_column(f) for f in fields]
    columns = ", ".join(quoted)
    assignments = ", ".join(f"{column} = v.{column}" for column in quoted)
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


def _quoted_column(field: "Field[Any, Any]") -> str:
    # A concrete field always has its column; the stubs allow None, for the other fields.
    if field.column is None:
        raise ValueError(f"Message.{field.name} has no column")
    return connection.ops.quote_name(field.column)


def _moot_reason(message: Message, now: datetime, hold: Hold | None = None) -> str:
    """Why a queued message must not go out after all, or "" when it still should. A message
    that must wait (`hold`) until past its expiry is moot already: it is never sent late."""
    if message.expires_at and now >= message.expires_at:
        return "too late to be useful"
    if hold and message.expires_at and hold.until >= message.expires_at:
        return f"too late to be useful by the time it may go out ({hold.note})"
    # Loaded with the chunk (`select_related`); a message without one reads None, no query.
    order, customer = message.order, message.customer
    if order is not None:
        if order.status == OrderStatus.CANCELLED:
            return "the order was cancelled"
        if order.is_payment_reversed and message.purpose == Purpose.MARKETING:
            return f"the order's payment was {order.get_financial_status_display().lower()}"
    if customer is not None and customer.redacted_at:
        return "the customer's data was erased"
    return ""


def _kinds_refuse(messages: list[Message]) -> dict[int, str]:
    """Why each message its own kind's rules now make moot (`MessageKind.send_check`): each
    kind with a check is asked once for the chunk's messages of that kind."""
    by_kind: dict[str, list[PendingMessage]] = {}
    for m in messages:
        by_kind.setdefault(m.kind, []).append(
            PendingMessage(
                message_id=m.pk,
                shop_id=m.shop_id,
                customer_id=m.customer_id,
                order_id=m.order_id,
                channel=m.channel,
                about=(m.about_type, m.about_id),
            )
        )
    refused: dict[int, str] = {}
    for name, pending in by_kind.items():
        kind = message_kind_find(name)
        if kind is not None and kind.send_check is not None:
            refused.update(kind.send_check(pending))
    return refused


def message_refusal(
    *, shop: Shop, customer_id: int | None, channel: str, recipient: str, purpose: str
) -> str:
    """Why a message on this channel to this recipient would be refused now (suppressed, a
    STOP, no consent), or "": asked before staff write a reply, so the page can say why not.
    The send checks it again."""
    probe = Message(
        pk=0,
        shop=shop,
        customer_id=customer_id,
        channel=channel,
        recipient=recipient,
        purpose=purpose,
    )
    return _blocked([probe]).get(0, "")


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
            consents.get(m.customer_id, {}) if m.customer_id is not None else {},
            channel=m.channel,
            purpose=m.purpose,
        ):
            reasons[m.pk] = refusal
    return reasons


@dataclass(frozen=True)
class _Ready:
    """A prepared message, still `queued`, and what its rendering gave that its row does not
    store: the WhatsApp content template (re-rendered on a retry)."""

    message: Message
    whatsapp_content_sid: str = ""
    whatsapp_content_variables: dict[str, str] = field(default_factory=dict)


def _rendered_message(ready: _Ready) -> RenderedMessage:
    message, shop = ready.message, ready.message.shop
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
        # The shop's sender identity (settings area), else the platform's address in its name.
        from_email=shop.email_from_address or settings.DEFAULT_FROM_EMAIL,
        from_name=shop.email_from_name or shop.name,
        # A message may name its own reply address (a case's, so the customer's answer comes
        # back to the case); otherwise the shop's.
        reply_to=str(message.context.get("reply_to") or "")
        or shop.email_reply_to
        or shop.support_email,
        headers=email_headers(message) if message.channel == Channel.EMAIL else {},
        tags=(message.kind,),
        metadata={"message_id": str(message.pk), "shop_id": str(message.shop_id)},
        # Set by `_prepare` when WhatsApp must use the shop's approved content template.
        whatsapp_content_sid=ready.whatsapp_content_sid,
        whatsapp_content_variables=ready.whatsapp_content_variables,
        status_callback_url=status_callback if message.channel in TEXT_CHANNELS else "",
        # A shop's own number is an SMS number; WhatsApp keeps the platform's WhatsApp sender.
        from_number=shop.sms_number if message.channel == Channel.SMS else "",
    )


def _commit_without_waiting() -> None:
    """Let the current transaction commit without waiting for the disk: one flush per message
    is already the claim's (about as long as the rest of the message's work on this machine),
    so the commits that can afford to be lost do not add theirs."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _render(message: Message, changes: _Changes) -> _Ready | None:
    """Render a claimable message onto the instance (its text is stored with the claim); None
    when it failed to render."""
    try:
        # The chunk's messages share one read of each shop template they need.
        text = message_render_outbound(message=message, templates=templates_for_batch(changes))
    except DomainError as exc:
        changes.move(message, MessageStatus.FAILED, str(exc))
        return None
    message.subject, message.body_text, message.body_html = (
        text.subject[:255],
        text.body_text,
        text.body_html,
    )
    return _Ready(message, text.whatsapp_content_sid, text.whatsapp_content_variables)


@transaction.atomic
def _prepare(message_ids: list[int]) -> list[_Ready]:
    """Lock the chunk's queued messages (skipping any another worker holds), settle the ones
    that must not go out (moot, blocked, over the weekly marketing cap), put back the ones that
    must wait (quiet hours, a marketing pause), and render the rest. Those stay `queued` until
    each is claimed just before its own provider call. Only the states from which the table
    allows the send's claim are taken: the rest of the chunk is left as it is."""
    # Lost in a crash of PostgreSQL, these changes would leave the chunk queued, prepared
    # again by the next sweep.
    _commit_without_waiting()
    sendable = allowed_from(
        MessageStatus.SENDING, MESSAGE_TRANSITIONS, among=(MessageStatus.QUEUED,)
    )
    messages = list(
        Message.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("shop", "order", "customer")
        .filter(pk__in=message_ids, status__in=sorted(sendable))
        .order_by("pk")
    )
    now, changes = timezone.now(), _Changes()
    ready: list[_Ready] = []
    blocked, holds = _blocked(messages), sending_holds(messages, now)
    refused = _kinds_refuse(messages)
    cap = MarketingCap(messages, now)
    for message in messages:
        hold = holds.get(message.pk)
        moot = _moot_reason(message, now, hold) or refused.get(message.pk, "")
        if moot:
            changes.move(message, MessageStatus.CANCELLED, moot)
        elif message.pk in blocked:
            changes.move(message, MessageStatus.SUPPRESSED, blocked[message.pk])
        elif hold:
            message.send_at = hold.until
            changes.move(message, MessageStatus.SCHEDULED, hold.note, "send_at")
        elif over_cap := cap.refusal(message):
            changes.move(message, MessageStatus.CANCELLED, over_cap)
        elif rendered := _render(message, changes):
            cap.count(message)
            ready.append(rendered)
    changes.write()
    return ready


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


def _send_one(ready: _Ready) -> _Outcome:
    message, rendered = ready.message, _rendered_message(ready)
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


def _answer(outcome: _Outcome) -> Answer:
    """Move the message (in memory) to what the provider's answer means."""
    message, error = outcome.message, outcome.error
    was = message.status
    attempt = DeliveryAttempt(
        message=message, started_at=outcome.started_at, finished_at=outcome.finished_at
    )
    if outcome.result is not None:
        attempt.outcome = AttemptOutcome.SENT
        attempt.provider_message_id = outcome.result.provider_message_id
        message.provider = outcome.result.provider
        message.provider_message_id = outcome.result.provider_message_id
        message.sent_at = outcome.finished_at
        to, reason = MessageStatus.SENT, ""
    elif isinstance(error, TransientSendError):
        attempt.outcome = AttemptOutcome.TRANSIENT
        if error.outcome_unknown:
            # The provider may have accepted it before the timeout: a retry could send twice.
            to, reason = MessageStatus.HELD, "outcome unknown: held for review, not resent"
        elif message.attempt_count >= settings.NOTIFICATIONS_MAX_SEND_ATTEMPTS:
            to, reason = MessageStatus.FAILED, f"gave up after {message.attempt_count} attempts"
        else:
            # Back to the schedule: the dispatcher claims it again once due, so a retry waits
            # in the database, not in the broker, and survives a flush of Redis.
            message.send_at = _retry_at(message.attempt_count, outcome.finished_at)
            to, reason = MessageStatus.SCHEDULED, f"will retry after {message.send_at:%H:%M:%S} UTC"
        reason = f"{reason}: {error}"
    else:
        attempt.outcome = AttemptOutcome.PERMANENT
        to, reason = MessageStatus.FAILED, str(error)
    if error is not None:
        message.last_error = attempt.error = str(error)
    message.status, message.status_reason = to, reason[:255]
    return Answer(message, attempt, reason[:500], from_status=was)


def _suppress_if_bad(outcome: _Outcome) -> None:
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


def _send_chunk(message_ids: list[int]) -> dict[int, str]:
    """Prepare a chunk, then claim, send and record its messages one after another: each
    answer is written with the next message's claim, the last one after the loop."""
    ready = _prepare(message_ids)
    statuses: dict[int, str] = {}
    previous: _Outcome | None = None
    with _connections([r.message for r in ready]):
        for next_ready in [*ready, None]:
            answer = _answer(previous) if previous is not None else None
            claim = next_ready.message if next_ready is not None else None
            claimed = attempt_write(answer=answer, claim=claim)
            if previous is not None:
                _suppress_if_bad(previous)
                statuses[previous.message.pk] = previous.message.status
            previous = _send_one(next_ready) if next_ready is not None and claimed else None
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
