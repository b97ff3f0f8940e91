"""Claiming due messages for sending, and recovering the ones a crash left behind."""

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from notifications.models import Message, MessageEvent, MessageStatus
from postpurchase.queue import enqueue_on_commit


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
# few seconds under load, and per-row ORM work, then each extra round trip, was its cost.
_CLAIM_SQL = """
WITH claimed AS (
    UPDATE notifications_message
    SET status = 'queued', queued_at = %(now)s, updated_at = %(now)s
    WHERE id IN (
        SELECT id FROM notifications_message
        WHERE status = 'scheduled' AND send_at <= %(now)s
        ORDER BY send_at LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id
), history AS (
    INSERT INTO notifications_messageevent (message_id, from_status, to_status, note, at)
    SELECT id, 'scheduled', 'queued', 'due', %(now)s FROM claimed
)
SELECT id FROM claimed ORDER BY id
"""
# The claim's commit does not wait for the disk (a fifth of the claim's time when measured): a
# crash could only lose the claim itself, and the rows would then still be `scheduled`, claimed
# again by the next tick, while a send task handed this batch skips anything not `queued`. The
# send's own claim (`queued → sending`, before any provider call) keeps the durable commit.
# Sent with the claim, in the same round trip.
_CLAIM_WITHOUT_WAITING_SQL = "SET LOCAL synchronous_commit TO OFF;" + _CLAIM_SQL


def _claim(now, batch_size: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_WITHOUT_WAITING_SQL, {"now": now, "limit": batch_size})
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
    with transaction.atomic():
        requeued = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.QUEUED, queued_at__lt=now - queued_for)
            .values_list("pk", flat=True)[:limit]
        )
        Message.objects.filter(pk__in=requeued).update(queued_at=now, updated_at=now)
        enqueue_after_commit(requeued)
        held = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.SENDING, sending_at__lt=now - sending_for)
            .values_list("pk", flat=True)[:limit]
        )
        reason = "outcome unknown: the send was interrupted; held for review, not resent"
        Message.objects.filter(pk__in=held).update(
            status=MessageStatus.HELD, status_reason=reason[:255], updated_at=now
        )
        MessageEvent.objects.bulk_create(
            MessageEvent(
                message_id=pk,
                from_status=MessageStatus.SENDING,
                to_status=MessageStatus.HELD,
                note=reason,
            )
            for pk in held
        )
    return requeued, held
