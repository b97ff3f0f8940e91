import os
from datetime import datetime

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker

from postpurchase import events
from postpurchase.celery import app as celery_app
from postpurchase.queue import Enqueue
from postpurchase.tasks import domain_event_deliver_task
from tests.factories import ShopFactory, StaffMembershipFactory
from tests.log_privacy import customers_personal_data, log_records


@pytest.fixture(autouse=True)
def anymail_test_backend(settings):
    """Django's test setup swaps EMAIL_BACKEND for locmem; put anymail's test backend back so
    email goes through anymail's real sending path (it still records into mail.outbox)."""
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"


@pytest.fixture(autouse=True)
def tests_clock():
    """`TESTS_CLOCK=2026-12-07T03:00:00+00:00 make test` runs every test as if it were that
    moment (the clock ticking on): quiet hours and local dates make some code depend on the
    hour, and a test must pass whenever it runs."""
    at = os.environ.get("TESTS_CLOCK")
    if not at:
        yield
        return
    with time_machine.travel(datetime.fromisoformat(at), tick=True):
        yield


@pytest.fixture
def shop(db):
    return ShopFactory()


@pytest.fixture
def other_shop(db):
    return ShopFactory()


@pytest.fixture
def staff(db, shop):
    return StaffMembershipFactory(shop=shop).user


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def subscribed(monkeypatch):
    """Subscribe a recording handler to domain events, as the only subscriber (the apps'
    own subscribers are set aside); yields the list it records into."""
    monkeypatch.setattr(events, "_subscribers", {})
    received: list[events.Event] = []
    keys: list[tuple[str, str]] = []

    def subscribe(*names: str) -> list[events.Event]:
        for name in names:
            key = f"tests.recorder.{name}"
            events.subscribe(name, received.append, key=key)
            keys.append((name, key))
        return received

    yield subscribe
    for name, key in keys:
        events.unsubscribe(name, key)


@pytest.fixture
def celery_worker_live(transactional_db):
    """A real Celery worker (threads, in this process) consuming from Redis.

    While it runs, every log record at INFO or above from any logger (the worker's, the
    tasks', the web requests') is captured; the test fails if one carries an email address, a
    phone number or a street address (`tests.log_privacy`), above all its customers' own."""
    celery_app.control.purge()
    # The worker logs at INFO from its start (it decides then whether it logs each task), and
    # the capture starts once the worker has started: starting resets the root's handlers.
    with (
        start_worker(
            celery_app,
            pool="threads",
            concurrency=2,
            perform_ping_check=False,
            shutdown_timeout=10,
            loglevel="INFO",
        ) as worker,
        log_records() as logs,
    ):
        yield worker
    leaks = logs.leaks(known=customers_personal_data())
    assert leaks == [], "personal data in the logs:\n" + "\n".join(leaks)


def event_enqueues(callbacks: list) -> list[Enqueue]:
    """Of the after-commit callbacks captured, those that enqueue a domain event (the cached
    tracking pages are also dropped after commit, by their own callbacks)."""
    return [
        callback
        for callback in callbacks
        if isinstance(callback, Enqueue) and callback.name == domain_event_deliver_task.name
    ]
