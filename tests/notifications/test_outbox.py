"""The outbox: scheduled once, claimed once, sent once, never sent when moot, never lost."""

import itertools
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.engine.sending import _retry_at
from notifications.models import (
    MESSAGE_TRANSITIONS,
    AttemptOutcome,
    Message,
    MessageStatus,
    Purpose,
    Suppression,
)
from notifications.services import (
    MessageRequest,
    message_schedule,
    message_send,
    messages_cancel,
    messages_claim_due,
    messages_recover_stuck,
    messages_send,
    suppression_add,
)
from notifications.tasks import messages_send_batch_task
from orders.models import OrderStatus
from postpurchase.exceptions import IllegalTransition
from postpurchase.states import transition
from tests.factories import ConsentFactory, OrderFactory
from tests.notifications.fake_twilio import MESSAGES_PATH, twilio_accepts


def confirmation(order, *, channel="email", send_at=None, **overrides) -> MessageRequest:
    values = {
        "shop_id": order.shop_id,
        "customer_id": order.customer_id,
        "order_id": order.pk,
        "kind": "order_confirmation",
        "channel": channel,
        "purpose": Purpose.TRANSACTIONAL,
        "recipient": order.email,
        "about_type": "order",
        "about_id": order.pk,
        "send_at": send_at or timezone.now() - timedelta(seconds=1),
        "context": {
            "shop_name": order.shop.name,
            "order_number": order.number,
            "customer_first_name": "Ada",
            "items": [{"quantity": 1, "title": "Tea", "total": "5.00"}],
            "total": str(order.total),
            "currency": order.currency,
            "tracking_url": "https://shop.test/track/abc/",
        },
    }
    values.update(overrides)
    return MessageRequest(**values)


@pytest.fixture
def sent_chunks(monkeypatch) -> list[list[int]]:
    chunks: list[list[int]] = []
    monkeypatch.setattr(messages_send_batch_task, "delay", chunks.append)
    return chunks


@pytest.mark.django_db
def test_scheduling_the_same_message_twice_yields_one_row(django_assert_num_queries):
    order = OrderFactory()

    first, created = message_schedule(request=confirmation(order))
    with django_assert_num_queries(1):  # the repeat is found by its key, nothing written
        again, created_again = message_schedule(request=confirmation(order))

    assert created
    assert not created_again
    assert again.pk == first.pk
    assert Message.objects.count() == 1
    assert (
        first.dedupe_key
        == f"{order.shop_id}:{order.customer_id}:order_confirmation:order:{order.pk}:email"
    )


@pytest.mark.django_db
def test_another_channel_is_another_message():
    order = OrderFactory()

    message_schedule(request=confirmation(order))
    message_schedule(request=confirmation(order, channel="sms", recipient="+14155550100"))

    assert sorted(Message.objects.values_list("channel", flat=True)) == ["email", "sms"]


@pytest.mark.django_db
def test_claim_takes_only_due_scheduled_rows_and_enqueues_after_commit(
    sent_chunks, django_capture_on_commit_callbacks
):
    order = OrderFactory()
    due, _ = message_schedule(request=confirmation(order))
    later, _ = message_schedule(
        request=confirmation(order, channel="sms", send_at=timezone.now() + timedelta(hours=1))
    )

    with django_capture_on_commit_callbacks(execute=True):
        claimed = messages_claim_due()
        assert sent_chunks == []  # nothing reaches the broker before the claim commits
        again = messages_claim_due()

    assert claimed == [due.pk]
    assert again == []
    assert sent_chunks == [[due.pk]]
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.status == MessageStatus.QUEUED
    assert later.status == MessageStatus.SCHEDULED
    assert list(due.events.values_list("from_status", "to_status")) == [("scheduled", "queued")]


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_never_claim_the_same_message(sent_chunks):
    orders = [OrderFactory() for _ in range(6)]
    ids = [message_schedule(request=confirmation(order))[0].pk for order in orders]
    other_tick: list[int] = []

    def tick() -> None:
        try:
            other_tick.extend(messages_claim_due())
        finally:
            connection.close()

    with transaction.atomic():
        this_tick = messages_claim_due(batch_size=4)  # holds its rows until commit
        thread = threading.Thread(target=tick)
        thread.start()
        thread.join(timeout=10)

    assert sorted(this_tick + other_tick) == sorted(ids)
    assert not set(this_tick) & set(other_tick)


def queued(order, **overrides) -> Message:
    message, _ = message_schedule(request=confirmation(order, **overrides))
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.QUEUED, queued_at=timezone.now()
    )
    return message


@pytest.mark.django_db
def test_send_goes_out_once_through_anymail_and_records_the_attempt():
    order = OrderFactory()
    message = queued(order)

    assert message_send(message_id=message.pk) == MessageStatus.SENT
    assert message_send(message_id=message.pk) == "skipped"

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [order.email]
    assert email.subject == f"{order.shop.name}: your order {order.number} is confirmed"
    assert email.anymail_test_params["metadata"]["message_id"] == str(message.pk)
    assert email.anymail_test_params["tags"] == ["order_confirmation"]
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.provider_message_id
    assert message.body_text.startswith("Hi Ada,")
    assert list(message.attempts.values_list("outcome", flat=True)) == [AttemptOutcome.SENT]
    assert list(message.events.values_list("to_status", flat=True)) == ["sending", "sent"]


@pytest.mark.django_db
def test_a_message_about_a_cancelled_order_is_cancelled_not_sent():
    order = OrderFactory()
    message = queued(order)
    OrderFactory._meta.model.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELLED)

    assert message_send(message_id=message.pk) == "skipped"

    message.refresh_from_db()
    assert message.status == MessageStatus.CANCELLED
    assert message.status_reason == "the order was cancelled"
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_message_past_its_usefulness_is_cancelled_not_sent_late():
    message = queued(OrderFactory(), expires_at=timezone.now() - timedelta(minutes=1))

    message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == MessageStatus.CANCELLED
    assert message.status_reason == "too late to be useful"
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_kind_without_templates_fails_with_the_reason():
    message = queued(OrderFactory(), kind="no_such_kind")

    message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "no email template for 'no_such_kind'" in message.status_reason


@pytest.mark.django_db
def test_cancelling_an_orders_messages_leaves_sent_ones_alone():
    order = OrderFactory()
    scheduled, _ = message_schedule(request=confirmation(order))
    waiting = queued(order, channel="sms", recipient="+14155550100")
    sent = queued(order, kind="order_confirmation", channel="whatsapp", recipient="+1415555")
    Message.objects.filter(pk=sent.pk).update(status=MessageStatus.SENT)

    assert messages_cancel(order_id=order.pk, reason="order cancelled") == 2

    statuses = dict(Message.objects.values_list("pk", "status"))
    assert statuses == {
        scheduled.pk: MessageStatus.CANCELLED,
        waiting.pk: MessageStatus.CANCELLED,
        sent.pk: MessageStatus.SENT,
    }


@pytest.mark.django_db
def test_stuck_queued_is_resent_and_stuck_sending_is_held_for_review(
    sent_chunks, django_capture_on_commit_callbacks
):
    lost_task = queued(OrderFactory())
    interrupted = queued(OrderFactory())
    fresh = queued(OrderFactory())
    long_ago = timezone.now() - timedelta(hours=1)
    Message.objects.filter(pk=lost_task.pk).update(queued_at=long_ago)
    Message.objects.filter(pk=interrupted.pk).update(
        status=MessageStatus.SENDING, sending_at=long_ago
    )

    with django_capture_on_commit_callbacks(execute=True):
        requeued, held = messages_recover_stuck(
            queued_for=timedelta(minutes=15), sending_for=timedelta(minutes=10)
        )

    assert requeued == [lost_task.pk]
    assert held == [interrupted.pk]
    assert sent_chunks == [[lost_task.pk]]
    interrupted.refresh_from_db()
    assert interrupted.status == MessageStatus.HELD
    assert interrupted.status_reason.startswith("outcome unknown")
    fresh.refresh_from_db()
    assert fresh.status == MessageStatus.QUEUED


@pytest.mark.parametrize(
    ("from_status", "to_status"), list(itertools.product(MessageStatus.values, repeat=2))
)
@pytest.mark.django_db
def test_message_transition_allows_exactly_the_table(from_status, to_status):
    message, _ = message_schedule(request=confirmation(OrderFactory()))
    Message.objects.filter(pk=message.pk).update(status=from_status)
    message.refresh_from_db()

    if to_status in MESSAGE_TRANSITIONS[from_status]:
        transition(message, to=to_status, table=MESSAGE_TRANSITIONS)
        message.refresh_from_db()
        assert message.status == to_status
    else:
        with pytest.raises(IllegalTransition):
            transition(message, to=to_status, table=MESSAGE_TRANSITIONS)


# --- Provider failures, through the twilio client against a local fake Twilio --------------


def queued_sms(order) -> Message:
    """A queued order update by SMS to a customer who agreed to order updates by text."""
    ConsentFactory(
        customer=order.customer, shop=order.shop, channel="sms", purpose=Purpose.TRANSACTIONAL
    )
    return queued(order, channel="sms", recipient="+14155550123")


@pytest.mark.django_db
def test_an_sms_goes_out_through_twilio_with_its_rendered_body(daytime, fake_twilio):
    twilio_accepts(fake_twilio)
    order = OrderFactory()
    message = queued_sms(order)

    assert message_send(message_id=message.pk) == MessageStatus.SENT

    request, _ = fake_twilio.log[-1]
    assert request.form["To"] == "+14155550123"
    assert request.form["Body"].startswith(f"{order.shop.name}: order {order.number} confirmed")
    message.refresh_from_db()
    assert message.provider == "twilio"
    assert message.provider_message_id.startswith("SM")


@pytest.mark.django_db
def test_a_provider_error_worth_retrying_puts_the_message_back_on_the_schedule(
    daytime, fake_twilio, sent_chunks
):
    """The retry waits in the database, due again after its backoff, not in the broker: a
    flush of Redis cannot lose it, and the dispatcher sends it when due."""
    fake_twilio.expect_request(MESSAGES_PATH, method="POST").respond_with_json(
        {"code": 20500, "message": "Internal Server Error", "status": 500}, status=500
    )
    message = queued_sms(OrderFactory())

    assert message_send(message_id=message.pk) == MessageStatus.SCHEDULED

    message.refresh_from_db()
    failed_at = message.attempts.get().finished_at
    # The first retry waits 15 to 30 seconds (the upper half of 30 s).
    assert timedelta(seconds=15) <= message.send_at - failed_at <= timedelta(seconds=30)
    assert message.status_reason.startswith("will retry after")
    assert message.attempt_count == 1
    assert list(message.attempts.values_list("outcome", flat=True)) == ["transient"]
    assert messages_claim_due() == []  # not due yet
    with time_machine.travel(message.send_at + timedelta(seconds=1)):
        assert messages_claim_due() == [message.pk]


@pytest.mark.django_db
def test_each_retry_waits_longer_up_to_the_cap(settings):
    settings.NOTIFICATIONS_RETRY_BACKOFF = timedelta(seconds=30)
    settings.NOTIFICATIONS_RETRY_BACKOFF_MAX = timedelta(minutes=10)
    now = timezone.now()

    delays = [
        [(_retry_at(attempt, now) - now).total_seconds() for _ in range(50)]
        for attempt in (1, 2, 3, 6, 10)
    ]

    for drawn, full in zip(delays, (30, 60, 120, 600, 600), strict=True):
        assert full / 2 <= min(drawn) <= max(drawn) <= full
        assert len(set(drawn)) > 1  # jittered: retries of a crowd spread out


@pytest.mark.django_db
def test_retries_stop_at_the_limit_and_the_message_fails(
    daytime, fake_twilio, settings, sent_chunks
):
    settings.NOTIFICATIONS_MAX_SEND_ATTEMPTS = 2
    fake_twilio.expect_request(MESSAGES_PATH, method="POST").respond_with_json(
        {"code": 20429, "message": "Too Many Requests", "status": 429}, status=429
    )
    message = queued_sms(OrderFactory())

    assert message_send(message_id=message.pk) == MessageStatus.SCHEDULED
    message.refresh_from_db()
    with time_machine.travel(message.send_at + timedelta(seconds=1)):
        assert messages_claim_due() == [message.pk]
        final = message_send(message_id=message.pk)

    assert final == MessageStatus.FAILED
    message.refresh_from_db()
    assert message.status_reason.startswith("gave up after 2 attempts")
    assert message.attempts.count() == 2
    assert not Suppression.objects.exists()


@pytest.mark.django_db
def test_a_permanent_provider_error_fails_at_once_without_retry(daytime, fake_twilio):
    fake_twilio.expect_request(MESSAGES_PATH, method="POST").respond_with_json(
        {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400},
        status=400,
    )
    message = queued_sms(OrderFactory())

    assert message_send(message_id=message.pk) == MessageStatus.FAILED

    message.refresh_from_db()
    assert "21610" in message.last_error or "unsubscribed" in message.last_error
    assert list(message.attempts.values_list("outcome", flat=True)) == ["permanent"]
    assert len(fake_twilio.log) == 1


# --- Chunks ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_chunk_settles_each_message_on_its_own_merits():
    shop_order = OrderFactory()
    sendable = [queued(OrderFactory(shop=shop_order.shop)) for _ in range(2)]
    cancelled_order = OrderFactory(shop=shop_order.shop, status=OrderStatus.CANCELLED)
    moot = queued(cancelled_order)
    blocked = queued(OrderFactory(shop=shop_order.shop, email="gone@example.org"))
    suppression_add(
        shop_id=shop_order.shop_id, channel="email", address="gone@example.org", reason="complaint"
    )
    ids = [m.pk for m in (*sendable, moot, blocked)]

    statuses = messages_send(message_ids=ids)

    assert statuses == {m.pk: MessageStatus.SENT for m in sendable}
    assert dict(
        Message.objects.filter(pk__in=[moot.pk, blocked.pk]).values_list("pk", "status")
    ) == {
        moot.pk: MessageStatus.CANCELLED,
        blocked.pk: MessageStatus.SUPPRESSED,
    }
    assert len(mail.outbox) == 2
    assert messages_send(message_ids=ids) == {}  # a repeated chunk sends nothing


@pytest.mark.django_db
def test_a_chunk_costs_a_fixed_number_of_queries_and_each_message_the_same_few():
    def queries_for(count: int) -> int:
        shop_order = OrderFactory()
        ids = [queued(OrderFactory(shop=shop_order.shop)).pk for _ in range(count)]
        with CaptureQueriesContext(connection) as captured:
            statuses = messages_send(message_ids=ids)
        assert set(statuses.values()) == {MessageStatus.SENT}
        return len(captured.captured_queries)

    five, twenty = queries_for(5), queries_for(20)

    # Preparing the chunk is a fixed cost; each message adds one statement, which claims it
    # and writes the answer of the message before it (the last answer has its own).
    assert twenty - five == 15
