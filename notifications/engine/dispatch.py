"""Claiming due messages for sending, and recovering the ones a crash left behind."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from notifications.models import MESSAGE_TRANSITIONS, Message, MessageStatus
from postpurchase.queue import enqueue_on_commit
from postpurchase.states import allowed_from, transition_rows


def enqueue_after_commit(ids: list[int]) -> None:
    """Hand claimed messages to send tasks once the claim commits, up to
    `NOTIFICATIONS_DISPATCH_BATCH` per task (each task sends its messages in chunks, see
    `messages_send`). One enqueue per claimed batch, not per chunk: each costs about a
    millisecond of Celery's own work inside the dispatcher's tick."""
    size = settings.NOTIFICATIONS_DISPATCH_BATCH
    for start in range(0, len(ids), size):
        enqueue_on_commit("notifications.tasks.messages_send_batch_task", ids[start : start + size])


def messages_claim_due(*, batch_size: int | None = None) -> list[int]:
    """Move up to `batch_size` due `scheduled` messages to `queued` and hand them to a worker
    after commit. SKIP LOCKED lets several ticks run at once without claiming a message twice;
    the partial index keeps the claim's cost with the due rows, not the table. Should the task
    be lost, `messages_recover_stuck` enqueues the still-`queued` rows again."""
    now = timezone.now()
    batch_size = batch_size or settings.NOTIFICATIONS_DISPATCH_BATCH
    with transaction.atomic():
        ids = _claim(now, batch_size)
        enqueue_after_commit(ids)
    return ids


# One round trip claims the batch, marks it queued and writes its history: the tick runs every
# few seconds under load, and per-row ORM work, then each extra round trip, was its cost. The
# states it claims from come from the transition table (`_claim_values`); each history row
# takes the status its message left, read under the row's lock.
_CLAIM_SQL = """
WITH due AS (
    SELECT id, status FROM notifications_message
    WHERE status = ANY(%(from)s) AND send_at <= %(now)s
    ORDER BY send_at LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE notifications_message AS m
    SET status = %(to)s, queued_at = %(now)s, updated_at = %(now)s
    FROM due WHERE m.id = due.id
    RETURNING m.id, due.status AS from_status
), history AS (
    INSERT INTO notifications_messageevent (message_id, from_status, to_status, note, at)
    SELECT id, from_status, %(to)s, 'due', %(now)s FROM claimed
)
SELECT id FROM claimed ORDER BY id
"""
# The claim's commit does not wait for the disk (a fifth of the claim's time when measured): a
# crash could only lose the claim itself, and the rows would then still be `scheduled`, claimed
# again by the next tick, while a send task handed this batch skips anything not `queued`. The
# send's own claim (`queued → sending`, before any provider call) keeps the durable commit.
# Sent with the claim, in the same round trip.
_CLAIM_WITHOUT_WAITING_SQL = "SET LOCAL synchronous_commit TO OFF;" + _CLAIM_SQL


def _claim_values(now: datetime, batch_size: int) -> dict[str, Any]:
    """The claim's parameters. A due message is a `scheduled` one whose time has come; staff
    may also move a failed or held one to `queued`, but a passing `send_at` never does. Of
    those, the table says which may be claimed."""
    due_from = allowed_from(
        MessageStatus.QUEUED, MESSAGE_TRANSITIONS, among=(MessageStatus.SCHEDULED,)
    )
    return {"now": now, "limit": batch_size, "from": sorted(due_from), "to": MessageStatus.QUEUED}


def _claim(now: datetime, batch_size: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_WITHOUT_WAITING_SQL, _claim_values(now, batch_size))
        return [row[0] for row in cursor.fetchall()]


def messages_dispatch_due(*, batch_size: int | None = None, max_batches: int = 100) -> int:
    """One dispatcher tick: claim batches until nothing is due (or the tick's budget is spent)."""
    batch_size = batch_size or settings.NOTIFICATIONS_DISPATCH_BATCH
    claimed = 0
    for _ in range(max_batches):
        batch = messages_claim_due(batch_size=batch_size)
        claimed += len(batch)
        if len(batch) < batch_size:
            break
    return claimed


def messages_recover_stuck(
    *, queued_for: timedelta, sending_for: timedelta, limit: int = 1000
) -> tuple[list[int], list[int]]:
    """Re-enqueue messages stuck in `queued` (their task was lost before any provider call, so
    sending them is safe) and hold for review those stuck in `sending` (a worker died mid-call:
    the customer may have it already, so it is never resent on its own).

    Returns (requeued ids, held ids)."""
    now = timezone.now()
    # Stuck in `queued`: enqueued again for the send's claim, so only from where the table
    # lets that claim take a message to `sending`.
    sendable = allowed_from(
        MessageStatus.SENDING, MESSAGE_TRANSITIONS, among=(MessageStatus.QUEUED,)
    )
    reason = "outcome unknown: the send was interrupted; held for review, not resent"
    with transaction.atomic():
        requeued = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(status__in=sorted(sendable), queued_at__lt=now - queued_for)
            .values_list("pk", flat=True)[:limit]
        )
        Message.objects.filter(pk__in=requeued).update(queued_at=now, updated_at=now)
        enqueue_after_commit(requeued)
        # Stuck in `sending`: a `sending_at` left from an earlier attempt of a message now in
        # another state says nothing about it.
        held = transition_rows(
            Message.objects.filter(sending_at__lt=now - sending_for),
            to=MessageStatus.HELD,
            table=MESSAGE_TRANSITIONS,
            among=(MessageStatus.SENDING,),
            note=reason,
            values={"status_reason": reason[:255], "updated_at": now},
            limit=limit,
            skip_locked=True,
        )
    return requeued, [row.pk for row in held]
