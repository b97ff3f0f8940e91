"""The two writes around each provider call: the claim just before it, and the answer right
after it.

The claim moves one message `queued → sending` only if it is still queued (another worker, or
staff, may have moved it since its chunk was prepared) and the transition table allows the
move, stores what is about to be sent (the rendered text, the email's Message-ID) and writes
the history. It commits durably before the call: were it lost, the message would look unsent
and could go out twice.

The answer writes the message's new state where it is still `sending` (the sweep may have held
a call that outlived its timeout) and the table allows the move, its history and the attempt.

Each statement's guard is the status the worker saw and whether the table allows the move from
it, both parameters: no status is written into the SQL. (An equality rather than `status =
ANY(…)`, which measured a tenth of a millisecond slower per message: the planner chose
differently for it.) A worker writes the answer of one message together with the claim of the
next, in one round trip and one commit, so that each message costs one of each; the answer of
a chunk's last message is written alone, without waiting for the disk (lost in a crash of
PostgreSQL, it would leave the message `sending`: held for review, never resent)."""

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from notifications.engine.channels.email import email_message_id_new
from notifications.models import (
    MESSAGE_TRANSITIONS,
    DeliveryAttempt,
    Message,
    MessageStatus,
)
from orders.models import Channel
from postpurchase.states import can_transition, transition


@dataclass(frozen=True)
class Answer:
    """What a provider call came to: the message, already moved (in memory) to the state the
    answer means, the attempt to record, and why it moved."""

    message: Message
    attempt: DeliveryAttempt
    note: str
    from_status: str  # what the message was when its call was made


_ANSWERED = """
answered AS (
    UPDATE notifications_message
    SET status = %(a_status)s, status_reason = %(a_status_reason)s, updated_at = %(now)s,
        provider = %(a_provider)s, provider_message_id = %(a_provider_message_id)s,
        sent_at = %(a_sent_at)s, send_at = %(a_send_at)s, last_error = %(a_last_error)s
    WHERE id = %(a_id)s AND status = %(a_from)s AND %(a_allowed)s
    RETURNING id
), answered_history AS (
    INSERT INTO notifications_messageevent (message_id, from_status, to_status, note, at)
    SELECT id, %(a_from)s, %(a_status)s, %(a_note)s, %(now)s FROM answered
), answered_attempt AS (
    INSERT INTO notifications_deliveryattempt
        (message_id, started_at, finished_at, outcome, provider_message_id, error)
    VALUES (%(a_id)s, %(a_started_at)s, %(a_finished_at)s, %(a_outcome)s,
            %(a_attempt_provider_message_id)s, %(a_error)s)
)"""

# An email keeps the Message-ID of its first attempt, so a copy that did arrive is recognised
# by that header whatever retries followed.
_CLAIMED = """
claimed AS (
    UPDATE notifications_message
    SET status = %(c_status)s, status_reason = 'attempt ' || (attempt_count + 1),
        attempt_count = attempt_count + 1, sending_at = %(now)s, updated_at = %(now)s,
        subject = %(c_subject)s, body_text = %(c_body_text)s, body_html = %(c_body_html)s,
        email_message_id = COALESCE(NULLIF(email_message_id, ''), %(c_email_message_id)s)
    WHERE id = %(c_id)s AND status = %(c_from)s AND %(c_allowed)s
    RETURNING id, attempt_count, email_message_id
), claimed_history AS (
    INSERT INTO notifications_messageevent (message_id, from_status, to_status, note, at)
    SELECT id, %(c_from)s, %(c_status)s, 'attempt ' || attempt_count, %(now)s FROM claimed
)"""


@cache
def _statement(*, answer: bool, claim: bool) -> str:
    """One statement for the writes asked for. It returns whether the answer was written, and
    the claimed message's attempt count and Message-ID (NULLs when it was not claimed)."""
    ctes = ", ".join(part for part, wanted in ((_ANSWERED, answer), (_CLAIMED, claim)) if wanted)
    written = "(SELECT count(*) = 1 FROM answered)" if answer else "false"
    if claim:
        return (
            f"WITH {ctes} SELECT {written}, c.attempt_count, c.email_message_id "  # noqa: S608 - our own parts
            "FROM (VALUES (1)) AS one LEFT JOIN claimed AS c ON true"
        )
    # Only an answer on its own commits without waiting for the disk; the statements of one
    # query string run as one transaction, so SET LOCAL covers it.
    return (
        "SET LOCAL synchronous_commit TO OFF; "
        f"WITH {ctes} SELECT {written}, NULL::integer, NULL::varchar"
    )


def _answer_values(answer: Answer) -> dict[str, Any]:
    message, attempt = answer.message, answer.attempt
    return {
        "a_id": message.pk,
        "a_from": answer.from_status,
        "a_allowed": can_transition(answer.from_status, message.status, MESSAGE_TRANSITIONS),
        "a_status": message.status,
        "a_status_reason": message.status_reason,
        "a_note": answer.note,
        "a_provider": message.provider,
        "a_provider_message_id": message.provider_message_id,
        "a_sent_at": message.sent_at,
        "a_send_at": message.send_at,
        "a_last_error": message.last_error,
        "a_started_at": attempt.started_at,
        "a_finished_at": attempt.finished_at,
        "a_outcome": attempt.outcome,
        "a_attempt_provider_message_id": attempt.provider_message_id,
        "a_error": attempt.error,
    }


def _claim_values(message: Message) -> dict[str, Any]:
    return {
        "c_id": message.pk,
        "c_from": message.status,
        "c_allowed": can_transition(message.status, MessageStatus.SENDING, MESSAGE_TRANSITIONS),
        "c_status": MessageStatus.SENDING,
        "c_subject": message.subject,
        "c_body_text": message.body_text,
        "c_body_html": message.body_html,
        "c_email_message_id": email_message_id_new() if message.channel == Channel.EMAIL else "",
    }


def attempt_write(*, answer: Answer | None, claim: Message | None) -> bool:
    """Write the answer of one call and claim the next message, in one round trip; either may
    be missing. Returns whether `claim` was claimed: it is then `sending` (in memory too), with
    its attempt count and Message-ID; if not, it is not ours to send. An answer that found its
    message no longer `sending` is settled by `_answer_late`; one the table refuses leaves the
    message `sending`, held for review by the sweep, with the attempt on record."""
    if answer is None and claim is None:
        return False
    now = timezone.now()
    values: dict[str, Any] = {"now": now}
    values.update(_answer_values(answer) if answer else {})
    values.update(_claim_values(claim) if claim else {})
    with connection.cursor() as cursor:
        cursor.execute(_statement(answer=answer is not None, claim=claim is not None), values)
        written, attempt_count, email_message_id = cursor.fetchone()
    if answer is not None and not written:
        _answer_late(answer)
    if claim is None or attempt_count is None:
        return False
    claim.attempt_count, claim.email_message_id = attempt_count, email_message_id
    claim.status, claim.status_reason = MessageStatus.SENDING, f"attempt {attempt_count}"
    claim.sending_at = now
    return True


@transaction.atomic
def _answer_late(answer: Answer) -> None:
    """The sweep held this message while its call was still running (the call outlived
    `NOTIFICATIONS_SENDING_TIMEOUT`). A provider that accepted it settles it as sent; any other
    answer leaves it held, the attempt on record for whoever reviews it."""
    sent = answer.message.status == MessageStatus.SENT
    message = Message.objects.select_for_update().get(pk=answer.message.pk)
    answer.message.status = message.status  # what the caller reports
    if not sent or message.status != MessageStatus.HELD:
        return
    message.provider = answer.message.provider
    message.provider_message_id = answer.message.provider_message_id
    message.sent_at = answer.message.sent_at
    message.status_reason = "the provider accepted it after it was held"
    transition(
        message,
        to=MessageStatus.SENT,
        table=MESSAGE_TRANSITIONS,
        note=message.status_reason,
        extra_fields=("provider", "provider_message_id", "sent_at", "status_reason"),
    )
    answer.message.status = message.status
