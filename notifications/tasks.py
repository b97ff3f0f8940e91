"""Thin Celery entry points for the outbox; each is safe to run twice."""

from celery import Task, shared_task
from celery.result import AsyncResult
from django.conf import settings

from notifications.flows.delays import shipments_delayed_schedule
from notifications.flows.occasions import occasions_schedule_due
from notifications.services import (
    messages_dispatch_due,
    messages_recover_stuck,
    messages_send,
)


@shared_task(soft_time_limit=50, time_limit=60)
def messages_dispatch_due_task() -> int:
    return messages_dispatch_due()


class _MessageIdsTask(Task):
    """A task whose one argument is a list of message ids. Celery writes a readable copy of
    every task's arguments into the message; for a hundred ids that copy was a third of the
    enqueue's cost inside the dispatcher's claim, so it says how many ids instead."""

    def delay(self, message_ids: list[int]) -> AsyncResult:
        # celery's stubs leave out the options apply_async passes on to the message (argsrepr).
        count = f"({len(message_ids)} message ids)"
        return self.apply_async((message_ids,), argsrepr=count)  # type: ignore[call-arg]


@shared_task(base=_MessageIdsTask, soft_time_limit=120, time_limit=150)
def messages_send_batch_task(message_ids: list[int]) -> None:
    """Send a batch of claimed messages in one task, chunk by chunk (one task per message would
    cap throughput at the broker's task rate). A message the provider wants retried goes back
    to the schedule with its backoff (see `messages_send`): no retry waits in the broker."""
    messages_send(message_ids=message_ids)


@shared_task(soft_time_limit=60, time_limit=90)
def messages_recover_stuck_task() -> tuple[int, int]:
    requeued, held = messages_recover_stuck(
        queued_for=settings.NOTIFICATIONS_QUEUED_TIMEOUT,
        sending_for=settings.NOTIFICATIONS_SENDING_TIMEOUT,
    )
    return len(requeued), len(held)


@shared_task(soft_time_limit=300, time_limit=360)
def occasions_schedule_due_task() -> int:
    return len(occasions_schedule_due())


@shared_task(soft_time_limit=300, time_limit=360)
def shipments_delayed_schedule_task() -> int:
    return len(shipments_delayed_schedule())
