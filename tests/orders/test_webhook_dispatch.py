"""Stored webhook deliveries reach Celery through dispatch rounds run by workers, never twice,
and none is left behind."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from orders.ingest import webhooks
from orders.models import WebhookEvent, WebhookStatus
from orders.tasks import webhook_event_process_task, webhook_events_dispatch_task
from postpurchase.exceptions import DomainError
from tests.factories import WebhookEventFactory


@pytest.fixture
def processing_queue(monkeypatch) -> list[int]:
    sent: list[int] = []
    monkeypatch.setattr(webhook_event_process_task, "delay", sent.append)
    return sent


@pytest.fixture
def dispatch_requests(monkeypatch) -> list[dict]:
    requested: list[dict] = []
    monkeypatch.setattr(
        webhook_events_dispatch_task, "apply_async", lambda **o: requested.append(o)
    )
    monkeypatch.setattr(webhooks, "_last_dispatch_request", 0.0)
    return requested


def store(shop, event_id: str) -> WebhookEvent:
    event, _ = webhooks.webhook_event_store(
        provider="shopify",
        event_id=event_id,
        topic="orders/create",
        headers={},
        body="{}",
        shop=shop,
    )
    return event


@pytest.mark.django_db
def test_a_round_claims_each_waiting_delivery_once(
    shop, processing_queue, django_capture_on_commit_callbacks
):
    first, second = WebhookEventFactory(shop=shop), WebhookEventFactory(shop=shop)
    WebhookEventFactory(shop=shop, status=WebhookStatus.PROCESSED)

    with django_capture_on_commit_callbacks(execute=True):
        claimed = webhooks.webhook_events_dispatch()
        again = webhooks.webhook_events_dispatch()

    assert claimed == [first.pk, second.pk]
    assert again == []
    assert processing_queue == [first.pk, second.pk]
    first.refresh_from_db()
    assert first.dispatched_at is not None


@pytest.mark.django_db
def test_deliveries_in_quick_succession_ask_for_one_delayed_round(
    shop, settings, dispatch_requests, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISPATCH_DELAY = timedelta(milliseconds=250)

    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            store(shop, f"evt-{n}")

    # The one round runs after the interval, so it sees all three.
    assert dispatch_requests == [{"countdown": 0.25}]


@pytest.mark.django_db
def test_nothing_is_asked_for_before_the_delivery_commits(
    shop, dispatch_requests, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        store(shop, "evt-1")

    assert dispatch_requests == []
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_resume_enqueues_deliveries_left_waiting_and_nothing_else(
    shop, processing_queue, django_capture_on_commit_callbacks
):
    never_dispatched = WebhookEventFactory(shop=shop)
    task_lost = WebhookEventFactory(shop=shop, dispatched_at=timezone.now())
    fresh = WebhookEventFactory(shop=shop)
    failed = WebhookEventFactory(shop=shop, status=WebhookStatus.FAILED)
    long_ago = timezone.now() - timedelta(minutes=10)
    WebhookEvent.objects.exclude(pk=fresh.pk).update(updated_at=long_ago)

    with django_capture_on_commit_callbacks(execute=True):
        resumed = webhooks.webhook_events_resume(older_than=timedelta(minutes=2))

    assert sorted(resumed) == sorted([never_dispatched.pk, task_lost.pk])
    assert sorted(processing_queue) == sorted(resumed)
    assert failed.pk not in resumed
    # Resumed deliveries count their wait from now: the next sweep leaves them alone.
    assert webhooks.webhook_events_resume(older_than=timedelta(minutes=2)) == []


@pytest.mark.django_db(transaction=True)
def test_rounds_running_at_once_never_claim_the_same_delivery(shop, processing_queue):
    ids = [WebhookEventFactory(shop=shop).pk for _ in range(6)]
    other_round: list[int] = []

    def run_other_round() -> None:
        try:
            other_round.extend(webhooks.webhook_events_dispatch())
        finally:
            connection.close()

    with transaction.atomic():
        # This round holds its claim (its transaction is still open) while the other runs.
        this_round = webhooks.webhook_events_dispatch(limit=4)
        thread = threading.Thread(target=run_other_round)
        thread.start()
        thread.join(timeout=10)

    assert this_round == ids[:4]
    assert other_round == ids[4:]


@pytest.fixture
def flaky_provider():
    """A processor that fails as a database hiccup would, until told otherwise."""
    state = {"fail": True}

    def process(event):
        if state["fail"]:
            raise ConnectionError("database went away")
        return WebhookStatus.PROCESSED

    webhooks.register_processor("test-flaky", process)
    yield state
    webhooks._processors.pop("test-flaky")


@pytest.mark.django_db
def test_a_transient_failure_is_recorded_and_raised_for_a_retry(shop, flaky_provider):
    event = WebhookEventFactory(shop=shop, provider="test-flaky")

    with pytest.raises(ConnectionError):
        webhooks.webhook_event_process(event_id=event.pk)

    event.refresh_from_db()
    assert event.status == WebhookStatus.RECEIVED
    assert event.attempts == 1
    assert "will retry" in event.error
    flaky_provider["fail"] = False
    assert webhooks.webhook_event_process(event_id=event.pk) == WebhookStatus.PROCESSED


@pytest.mark.django_db
def test_a_delivery_that_keeps_failing_is_failed_for_ops_after_the_last_attempt(
    shop, settings, flaky_provider
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    event = WebhookEventFactory(shop=shop, provider="test-flaky")

    for _ in range(2):
        with pytest.raises(ConnectionError):
            webhooks.webhook_event_process(event_id=event.pk)
    final = webhooks.webhook_event_process(event_id=event.pk)

    event.refresh_from_db()
    assert final == WebhookStatus.FAILED
    assert event.status == WebhookStatus.FAILED
    assert event.error == "gave up after 3 attempts: database went away"
    # Nothing picks it up again on its own; ops replay it from admin.
    assert webhooks.webhook_events_resume(older_than=timedelta(0)) == []


@pytest.mark.django_db
def test_a_failed_delivery_is_logged_without_the_data_its_error_quotes(shop, caplog):
    def refuse(event):
        raise DomainError("customer.phone: '+14155554567' is not valid (ada@example.org)")

    webhooks.register_processor("test-refusing", refuse)
    try:
        event = WebhookEventFactory(shop=shop, provider="test-refusing")
        assert webhooks.webhook_event_process(event_id=event.pk) == WebhookStatus.FAILED
    finally:
        webhooks._processors.pop("test-refusing")

    [record] = [r for r in caplog.records if r.name == "orders.ingest.webhooks"]
    assert record.getMessage() == (
        f"webhook {event.pk} ({event.topic}) failed: "
        "customer.phone: '+1******4567' is not valid (a***@example.org)"
    )
    event.refresh_from_db()
    assert "+14155554567" in event.error  # ops see it whole, on the row
