"""Webhook deliveries from every provider: stored first, processed in Celery, replayable.

The request that receives a delivery only inserts its row. Handing it to Celery happens in a
worker: after commit the request asks for a dispatch round (at most one per
WEBHOOK_DISPATCH_DELAY per process, so a flash sale costs the request path one broker message
per interval instead of one per delivery), and the round claims every delivery not yet
dispatched and enqueues one processing task each. Beat resumes anything left waiting.

A provider module registers a processor for its provider name; the processor receives the
stored WebhookEvent and returns the outcome (processed or ignored) or raises PayloadError /
DomainError for a permanent failure. Any other exception is transient: the task retries.
A processor that leaves a delivery alone for a reason worth keeping raises WebhookIgnored.
"""

import logging
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from orders.models import Shop, WebhookEvent, WebhookRefusal, WebhookStatus
from postpurchase.exceptions import DomainError
from postpurchase.queue import enqueue_on_commit
from postpurchase.redact import redact

logger = logging.getLogger(__name__)

Processor = Callable[[WebhookEvent], str]
_processors: dict[str, Processor] = {}


class WebhookIgnored(Exception):
    """The delivery is deliberately left alone; the message, kept on the event, says why."""


def register_processor(provider: str, processor: Processor) -> None:
    _processors[provider] = processor


def webhook_event_store(
    *,
    provider: str,
    event_id: str,
    topic: str,
    headers: dict[str, str],
    body: str,
    shop: Shop | None,
    status: str = WebhookStatus.RECEIVED,
    error: str = "",
) -> tuple[WebhookEvent, bool]:
    """Store a delivery; returns (event, created). A known event id is a redelivery: the
    stored event is returned untouched. A new RECEIVED event is queued for processing after
    commit."""
    # Outside a transaction the insert commits on its own: a wrapping one would add BEGIN and
    # COMMIT round trips to every webhook request. Inside one, the savepoint keeps it usable.
    guard = transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
    try:
        with guard:
            event = WebhookEvent.objects.create(
                provider=provider,
                event_id=event_id,
                topic=topic,
                headers=headers,
                body=body,
                shop=shop,
                status=status,
                error=error,
            )
    except IntegrityError:
        return WebhookEvent.objects.get(provider=provider, event_id=event_id), False
    if status == WebhookStatus.RECEIVED:
        transaction.on_commit(_dispatch_soon)
    return event, True


def webhook_refusal_record(*, shop_id: int, provider: str, topic: str, reason: str) -> None:
    """Note that a delivery naming this shop was refused (a bad or missing signature): its one
    row per shop and provider is overwritten, so staff see the last refusal beside the last
    verified delivery, and forged deliveries cannot grow the table."""
    values = {"topic": topic[:64], "reason": reason[:100], "refused_at": timezone.now()}
    refusals = WebhookRefusal.objects.filter(shop_id=shop_id, provider=provider)
    if refusals.update(**values, count=F("count") + 1):
        return
    guard = transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
    try:
        with guard:
            WebhookRefusal.objects.create(shop_id=shop_id, provider=provider, **values)
    except IntegrityError:  # written by a simultaneous refusal a moment ago
        refusals.update(**values, count=F("count") + 1)


_last_dispatch_request = 0.0
_dispatch_lock = threading.Lock()


def _dispatch_soon() -> None:
    """Ask for a dispatch round unless this process asked within the last interval.

    The round runs one interval after it was asked for, so every delivery committed while
    later requests were skipping their own ask is already visible to it."""
    global _last_dispatch_request
    delay = settings.WEBHOOK_DISPATCH_DELAY.total_seconds()
    now = time.monotonic()
    with _dispatch_lock:
        if delay and now - _last_dispatch_request < delay:
            return
        _last_dispatch_request = now
    # Already after the commit: this sends at once.
    enqueue_on_commit("orders.tasks.webhook_events_dispatch_task", countdown=delay)


def _enqueue_after_commit(event_pk: int) -> None:
    enqueue_on_commit("orders.tasks.webhook_event_process_task", event_pk)


def _claim_and_enqueue(waiting: QuerySet[WebhookEvent], limit: int) -> list[int]:
    """Lock up to `limit` of the `waiting` deliveries (skipping any another round holds),
    stamp them as handed over, and enqueue one processing task each after commit."""
    with transaction.atomic():
        claimed = list(
            waiting.select_for_update(skip_locked=True)
            .order_by("created_at")
            .values_list("pk", flat=True)[:limit]
        )
        now = timezone.now()
        WebhookEvent.objects.filter(pk__in=claimed).update(dispatched_at=now, updated_at=now)
        for event_pk in claimed:
            _enqueue_after_commit(event_pk)
    return claimed


def webhook_events_dispatch(*, limit: int = 500) -> list[int]:
    """Hand the deliveries not yet given to Celery to processing tasks, each exactly once."""
    waiting = WebhookEvent.objects.filter(status=WebhookStatus.RECEIVED, dispatched_at__isnull=True)
    return _claim_and_enqueue(waiting, limit)


def webhook_event_process(*, event_id: int) -> str:
    """Process a stored delivery once. Returns its final status.

    The row is locked for the duration so two workers never process the same delivery, and a
    delivery already processed, ignored or failed is left alone (replay resets it first).
    A transient error is recorded and re-raised for the task to retry; after
    WEBHOOK_MAX_ATTEMPTS the delivery fails for good, visible and replayable in admin."""
    transient: Exception | None = None
    with transaction.atomic():
        event = (
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=event_id, status=WebhookStatus.RECEIVED)
            .first()
        )
        if event is None:
            return "skipped"
        event.attempts += 1
        try:
            event.status, event.error = _run_processor(event), ""
        except WebhookIgnored as exc:
            event.status, event.error = WebhookStatus.IGNORED, str(exc)
        except DomainError as exc:
            event.status, event.error = WebhookStatus.FAILED, str(exc)
        except Exception as exc:
            if event.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
                event.status = WebhookStatus.FAILED
                event.error = f"gave up after {event.attempts} attempts: {exc}"
            else:
                event.error = f"attempt {event.attempts} failed, will retry: {exc}"
                transient = exc
        if transient is None:
            event.processed_at = timezone.now()
        event.save(update_fields=["status", "error", "attempts", "processed_at", "updated_at"])
    if transient is not None:
        raise transient
    if event.status == WebhookStatus.FAILED:
        # The error may quote the payload (an address it refused); the row keeps it whole.
        logger.warning("webhook %s (%s) failed: %s", event.pk, event.topic, redact(event.error))
    return event.status


def _run_processor(event: WebhookEvent) -> str:
    processor = _processors.get(event.provider)
    if processor is None:
        raise DomainError(f"no processor for provider '{event.provider}'")
    # A savepoint: whatever the processor wrote is undone if it fails, the attempt is kept.
    with transaction.atomic():
        return processor(event)


def webhook_event_replay(*, event_id: int) -> WebhookEvent:
    """Put a failed (or any) delivery back in the queue, as ops do from admin."""
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_id)
        event.status = WebhookStatus.RECEIVED
        event.error = ""
        event.dispatched_at = timezone.now()
        event.save(update_fields=["status", "error", "dispatched_at", "updated_at"])
        _enqueue_after_commit(event.pk)
    return event


def webhook_events_resume(*, older_than: timedelta, limit: int = 500) -> list[int]:
    """Enqueue again the deliveries still waiting long after they arrived or were handed to
    Celery: their dispatch round or their task was lost (a restart, a flushed Redis)."""
    cutoff = timezone.now() - older_than
    waiting = WebhookEvent.objects.filter(status=WebhookStatus.RECEIVED, updated_at__lt=cutoff)
    return _claim_and_enqueue(waiting, limit)
