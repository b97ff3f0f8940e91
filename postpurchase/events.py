"""The domain-event bus: apps publish what happened, other apps subscribe, and neither imports
the other.

Each app declares the names of the events it publishes in its own `events.py` module
(`declare`), which the kernel imports when the apps are ready, before any app subscribes: an
event is known by name, never by an import of its publisher. Publishing or subscribing to a
name nobody declared is an error.

`publish` writes a DomainEvent row inside the caller's transaction (an outbox); after commit a
Celery task delivers it to each subscriber in turn. A rolled-back transaction publishes nothing,
a lost task is re-delivered by the beat sweep, and a subscriber that already handled an event is
never called for it again. Subscribers receive plain ids and values, never model instances.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from postpurchase.models import DomainEvent
from postpurchase.queue import enqueue_on_commit
from postpurchase.redact import redact, redacted_traceback

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    id: int
    name: str
    shop_id: int
    payload: dict[str, Any]


# What a handler returns (a count, the rows it made) is for its own callers: delivery ignores it.
Handler = Callable[[Event], object]
# Failed deliveries of one event before the beat sweep stops retrying it on its own.
MAX_DELIVERY_ATTEMPTS = 20
# Event name → the app that declared it.
_declared: dict[str, str] = {}
# Event name → {subscriber key: handler}.
_subscribers: dict[str, dict[str, Handler]] = {}


class UnknownEvent(ValueError):
    """A name no app declared: a typo, or an app that is not installed."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown domain event '{name}': no app declares it")


def declare(names: Iterable[str], *, app: str) -> None:
    """Make `names` events that `app` publishes. Call at the top level of the app's
    `events.py`; two apps may not declare the same name."""
    for name in names:
        owner = _declared.setdefault(name, app)
        if owner != app:
            raise ValueError(f"domain event '{name}' is declared by both {owner} and {app}")


def declared_events() -> dict[str, str]:
    """Every declared event name and the app that publishes it."""
    return dict(_declared)


def is_declared(name: str) -> bool:
    return name in _declared


def _require_declared(name: str) -> None:
    if name not in _declared:
        raise UnknownEvent(name)


def subscribe(name: str, handler: Handler, *, key: str | None = None) -> None:
    """Register `handler` for events called `name`. Call from an app's `ready()`.

    `key` names the subscriber in the delivery record; it defaults to the handler's dotted path
    and must stay stable across releases."""
    _require_declared(name)
    key = key or f"{handler.__module__}.{handler.__qualname__}"
    _subscribers.setdefault(name, {})[key] = handler


def unsubscribe(name: str, key: str) -> None:
    _subscribers.get(name, {}).pop(key, None)


def subscribers_of(name: str) -> dict[str, Handler]:
    return dict(_subscribers.get(name, {}))


def publish(*, name: str, shop_id: int, **payload: Any) -> DomainEvent:
    """Record the event in the current transaction and deliver it after commit."""
    _require_declared(name)
    event = DomainEvent.objects.create(
        shop_id=shop_id,
        name=name,
        payload=payload,
        is_fully_delivered=not _subscribers.get(name),
    )
    if _subscribers.get(name):
        enqueue_on_commit("postpurchase.tasks.domain_event_deliver_task", event.pk)
    return event


class DeliveryFailed(Exception):
    """A subscriber raised; the event stays owed to it and the task retries."""


def domain_event_deliver(*, event_id: int) -> list[str]:
    """Hand the event to every subscriber that has not handled it yet; returns their keys.

    The event row is locked for the round, so two deliveries of one event never overlap, and
    each handler's writes commit together with the record that it has handled the event."""
    done: list[str] = []
    failure: Exception | None = None
    with transaction.atomic():
        row = (
            DomainEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=event_id, is_fully_delivered=False)
            .first()
        )
        if row is None:
            return done
        event = Event(id=row.pk, name=row.name, shop_id=row.shop_id, payload=row.payload)
        for key, handler in subscribers_of(row.name).items():
            if key in row.delivered_to:
                continue
            try:
                with transaction.atomic():
                    handler(event)
            except Exception as exc:
                # The error may quote personal data (an address refused, a row's values): the
                # log gets it masked, the row (for ops) whole.
                logger.error(
                    "subscriber %s failed on event %s\n%s", key, row.pk, redacted_traceback(exc)
                )
                failure = exc
                row.attempts += 1
                row.last_error = f"{key}: {exc!r}"[:2000]
                break
            row.delivered_to = [*row.delivered_to, key]
            done.append(key)
        row.is_fully_delivered = failure is None
        row.save(update_fields=["delivered_to", "is_fully_delivered", "attempts", "last_error"])
    if failure is not None:
        # Celery logs what it retries, with its causes: only the masked error goes with it (the
        # whole one was logged masked above and is kept on the row).
        raise DeliveryFailed(redact(str(failure))) from None
    return done


def domain_events_pending(*, older_than: timedelta, limit: int = 500) -> list[int]:
    """Events still owed to a subscriber whose task was lost or ran out of retries; an event
    that has failed MAX_DELIVERY_ATTEMPTS times waits for ops (admin: deliver again)."""
    cutoff = timezone.now() - older_than
    return list(
        DomainEvent.objects.filter(
            is_fully_delivered=False,
            occurred_at__lt=cutoff,
            attempts__lt=MAX_DELIVERY_ATTEMPTS,
        )
        .order_by("occurred_at")
        .values_list("pk", flat=True)[:limit]
    )


def domain_event_redeliver(*, event_id: int) -> None:
    """Give a stuck event a fresh set of attempts and deliver it again after commit."""
    DomainEvent.objects.filter(pk=event_id, is_fully_delivered=False).update(attempts=0)
    enqueue_on_commit("postpurchase.tasks.domain_event_deliver_task", event_id)
