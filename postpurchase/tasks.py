"""The kernel's Celery entry points: delivering domain events. Thin, and safe to run twice."""

from datetime import timedelta

from celery import shared_task

from postpurchase import events


@shared_task(
    autoretry_for=(events.DeliveryFailed,),
    soft_time_limit=60,
    time_limit=90,
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def domain_event_deliver_task(event_id: int) -> list[str]:
    return events.domain_event_deliver(event_id=event_id)


@shared_task(soft_time_limit=60, time_limit=90)
def domain_events_redeliver_task() -> int:
    pending = events.domain_events_pending(older_than=timedelta(minutes=2))
    for event_id in pending:
        domain_event_deliver_task.delay(event_id)
    return len(pending)
