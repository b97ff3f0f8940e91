"""Domain events: declared by the app that publishes them, written with the publisher's
transaction, delivered after commit, once."""

import pytest
from django.db import transaction

from orders.events import OrderEventName
from orders.models import Order
from orders.services import order_ingest
from postpurchase import events
from postpurchase.models import DomainEvent
from postpurchase.tasks import domain_event_deliver_task, domain_events_redeliver_task
from returns.events import ReturnEventName
from tests.conftest import event_enqueues
from tests.log_privacy import personal_data_in
from tests.orders.test_flow import an_order

pytestmark = pytest.mark.django_db


def test_event_is_enqueued_only_after_commit(shop, subscribed, django_capture_on_commit_callbacks):
    got = subscribed(OrderEventName.ORDER_PLACED)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order_ingest(shop=shop, data=an_order())
        assert got == []  # nothing is delivered inside the transaction

    assert len(event_enqueues(callbacks)) == 1
    event = DomainEvent.objects.get(name=OrderEventName.ORDER_PLACED)
    domain_event_deliver_task(event.pk)
    assert [e.payload["order_id"] for e in got] == [Order.objects.get().pk]


def test_rolled_back_transaction_publishes_nothing(
    shop, subscribed, django_capture_on_commit_callbacks
):
    subscribed(OrderEventName.ORDER_PLACED)

    def ingest_then_fail():
        with transaction.atomic():
            order_ingest(shop=shop, data=an_order())
            raise RuntimeError("the caller failed after publishing")

    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(RuntimeError),
    ):
        ingest_then_fail()

    assert event_enqueues(callbacks) == []
    assert not DomainEvent.objects.exists()
    assert not Order.objects.exists()


def test_delivering_twice_calls_each_subscriber_once(shop, subscribed):
    got = subscribed(OrderEventName.ORDER_PLACED)
    order_ingest(shop=shop, data=an_order())
    event = DomainEvent.objects.get(name=OrderEventName.ORDER_PLACED)

    first = events.domain_event_deliver(event_id=event.pk)
    second = events.domain_event_deliver(event_id=event.pk)

    assert first == ["tests.recorder.order_placed"]
    assert second == []
    assert len(got) == 1
    event.refresh_from_db()
    assert event.is_fully_delivered


def test_failing_subscriber_is_retried_without_repeating_the_others(shop, subscribed):
    got = subscribed(OrderEventName.ORDER_PLACED)
    calls = {"n": 0}

    def flaky(event):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("downstream unavailable")

    events.subscribe(OrderEventName.ORDER_PLACED, flaky, key="tests.flaky")
    try:
        order_ingest(shop=shop, data=an_order())
        event = DomainEvent.objects.get(name=OrderEventName.ORDER_PLACED)

        with pytest.raises(events.DeliveryFailed):
            events.domain_event_deliver(event_id=event.pk)
        event.refresh_from_db()
        assert not event.is_fully_delivered
        assert event.attempts == 1
        assert "downstream unavailable" in event.last_error

        events.domain_event_deliver(event_id=event.pk)
    finally:
        events.unsubscribe(OrderEventName.ORDER_PLACED, "tests.flaky")

    event.refresh_from_db()
    assert event.is_fully_delivered
    assert len(got) == 1  # the recorder handled it once, before the flaky one failed
    assert calls["n"] == 2


def test_repeated_ingest_publishes_one_event(shop, subscribed):
    subscribed(OrderEventName.ORDER_PLACED, OrderEventName.ORDER_PAID)
    data = an_order(is_paid=True)

    order_ingest(shop=shop, data=data)
    order_ingest(shop=shop, data=data)

    names = sorted(DomainEvent.objects.values_list("name", flat=True))
    assert names == ["order_paid", "order_placed"]


def test_event_without_subscribers_is_recorded_as_delivered(shop, monkeypatch):
    monkeypatch.setattr(events, "_subscribers", {})

    order_ingest(shop=shop, data=an_order())

    event = DomainEvent.objects.get(name=OrderEventName.ORDER_PLACED)
    assert event.is_fully_delivered


def test_redeliver_sweep_picks_up_events_whose_task_was_lost(shop, subscribed, monkeypatch):
    subscribed(OrderEventName.ORDER_PLACED)
    order_ingest(shop=shop, data=an_order())
    DomainEvent.objects.update(occurred_at=DomainEvent.objects.get().occurred_at.replace(year=2020))
    sent = []
    monkeypatch.setattr(domain_event_deliver_task, "delay", sent.append)

    assert domain_events_redeliver_task() == 1
    assert sent == [DomainEvent.objects.get().pk]


def test_subscribing_to_an_unknown_event_is_an_error():
    with pytest.raises(ValueError, match="unknown domain event"):
        events.subscribe("order_teleported", lambda event: None)


def test_an_event_out_of_attempts_waits_for_ops_then_is_delivered_again(
    shop, subscribed, django_capture_on_commit_callbacks, monkeypatch
):
    got = subscribed(OrderEventName.ORDER_PLACED)
    order_ingest(shop=shop, data=an_order())
    event = DomainEvent.objects.get()
    long_ago = event.occurred_at.replace(year=2020)
    DomainEvent.objects.update(occurred_at=long_ago, attempts=events.MAX_DELIVERY_ATTEMPTS)
    sent: list[int] = []
    monkeypatch.setattr(domain_event_deliver_task, "delay", sent.append)

    assert domain_events_redeliver_task() == 0  # the sweep has given up on it

    with django_capture_on_commit_callbacks(execute=True):
        events.domain_event_redeliver(event_id=event.pk)

    assert sent == [event.pk]
    events.domain_event_deliver(event_id=event.pk)
    assert len(got) == 1


def test_a_failing_subscriber_is_logged_with_its_stack_but_no_personal_data(
    shop, subscribed, caplog
):
    subscribed(OrderEventName.ORDER_PLACED)

    def refuses(event):
        raise ValueError("'+14155554567' is not a valid phone number for ada@example.org")

    events.subscribe(OrderEventName.ORDER_PLACED, refuses, key="tests.refuses")
    try:
        order_ingest(shop=shop, data=an_order())
        event = DomainEvent.objects.get(name=OrderEventName.ORDER_PLACED)
        with pytest.raises(events.DeliveryFailed) as raised:
            events.domain_event_deliver(event_id=event.pk)
    finally:
        events.unsubscribe(OrderEventName.ORDER_PLACED, "tests.refuses")

    [record] = [r for r in caplog.records if r.name == "postpurchase.events"]
    logged = record.getMessage()
    assert logged.startswith(f"subscriber tests.refuses failed on event {event.pk}\n")
    assert "in refuses" in logged  # the stack is there
    assert "'+1******4567' is not a valid phone number for a***@example.org" in logged
    assert record.exc_info is None
    assert personal_data_in(logged) == []
    # What Celery logs when it retries: masked, with no cause that would repeat the data.
    assert str(raised.value) == "'+1******4567' is not a valid phone number for a***@example.org"
    assert raised.value.__cause__ is None
    event.refresh_from_db()
    assert "+14155554567" in event.last_error  # ops see it whole, on the row


def test_publishing_an_undeclared_event_is_an_error_and_records_nothing(shop, subscribed):
    with pytest.raises(events.UnknownEvent, match="unknown domain event 'order_teleported'"):
        events.publish(name="order_teleported", shop_id=shop.pk, order_id=1)

    assert not DomainEvent.objects.exists()


def test_each_app_declares_its_own_events():
    declared = events.declared_events()

    assert {name for name, app in declared.items() if app == "orders"} == set(OrderEventName.values)
    assert {name for name, app in declared.items() if app == "returns"} == set(
        ReturnEventName.values
    )


def test_two_apps_may_not_declare_one_event():
    events.declare([OrderEventName.ORDER_PLACED], app="orders")  # its own again: no change

    with pytest.raises(ValueError, match="declared by both orders and returns"):
        events.declare([OrderEventName.ORDER_PLACED], app="returns")

    assert events.declared_events()[OrderEventName.ORDER_PLACED] == "orders"
