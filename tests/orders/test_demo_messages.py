"""The demo shop's messages: weeks of history in final states (backfilled, never sent), and a
handful scheduled through the outbox to fall due in the next minutes, for the worker to send."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from notifications.demo import HISTORY, UPCOMING_WITHIN
from notifications.models import (
    DeliveryAttempt,
    Message,
    MessageEvent,
    MessageStatus,
    Suppression,
)
from notifications.services import messages_claim_due, messages_send
from orders.demo import demo_reference_now
from orders.models import Order
from tests.orders.test_seed_demo import delete_demo_shop

pytestmark = pytest.mark.django_db

SCALE = 0.1
SEEDED_AT = datetime(2025, 3, 12, 15, 30, tzinfo=UTC)
FINAL = {"delivered", "bounced", "suppressed", "failed"}


@pytest.fixture(autouse=True)
def fixed_day():
    with time_machine.travel(SEEDED_AT, tick=True):
        yield


def seed(**options) -> None:
    call_command("seed_demo", scale=SCALE, stdout=None, **options)


def history() -> list[Message]:
    return list(Message.objects.exclude(status=MessageStatus.SCHEDULED).order_by("pk"))


def test_seed_demo_backfills_weeks_of_messages_in_final_states_without_sending():
    seed()

    messages = history()
    statuses = Counter(m.status for m in messages)
    assert set(statuses) == FINAL
    assert statuses["delivered"] > 0.6 * len(messages)  # a small shop: one bounce weighs
    emails = [m for m in messages if m.channel == "email" and m.status == "delivered"]
    assert 0.4 < sum(1 for m in emails if m.opened_at) / len(emails) < 0.75
    assert any(m.clicked_at for m in emails)
    assert "email" in {m.channel for m in messages} <= {"email", "sms"}  # texts need consent
    assert {"order_confirmation", "shipment_shipped", "shipment_delivered"} <= {
        m.kind for m in messages
    }
    reference = demo_reference_now(SEEDED_AT.date())
    assert all(reference - HISTORY <= m.send_at < reference for m in messages)
    assert min(m.send_at for m in messages) < reference - HISTORY + timedelta(days=5)
    assert all(m.subject or m.channel != "email" for m in messages)
    assert all(m.body_text for m in messages)
    assert mail.outbox == []


def test_seed_demo_history_rows_tell_each_message_story():
    seed()

    for message in history():
        steps = list(message.events.values_list("from_status", "to_status", "at"))
        assert steps[0][:2] == ("scheduled", "queued"), message
        assert steps[-1][1] == message.status, message
        assert [at for *_, at in steps] == sorted(at for *_, at in steps)
        assert message.created_at <= steps[0][2] <= message.updated_at
        attempts = list(message.attempts.values_list("outcome", flat=True))
        expected = {"suppressed": [], "failed": ["permanent"]}.get(message.status, ["sent"])
        assert attempts == expected, message
        if message.status in ("delivered", "bounced"):
            assert message.sent_at
            assert message.provider_message_id
        if message.opened_at:
            assert message.delivered_at < message.opened_at
        if message.clicked_at:
            assert message.opened_at < message.clicked_at


def test_seed_demo_a_bounced_address_is_suppressed_and_never_mailed_again():
    seed()

    bounced = Message.objects.filter(status=MessageStatus.BOUNCED)
    assert bounced.exists()
    for message in bounced:
        suppression = Suppression.objects.get(
            shop_id=message.shop_id, channel="email", address=message.recipient.lower()
        )
        assert suppression.reason == "hard_bounce"
        later = Message.objects.filter(recipient=message.recipient, send_at__gt=message.send_at)
        assert set(later.exclude(status="scheduled").values_list("status", flat=True)) <= {
            "suppressed"
        }
    assert Message.objects.filter(status=MessageStatus.SUPPRESSED).exists()


def test_seed_demo_schedules_messages_due_in_the_next_minutes_for_the_newest_orders():
    seed()

    scheduled = list(Message.objects.filter(status=MessageStatus.SCHEDULED))
    assert 15 <= len(scheduled) <= 40
    emails = [m for m in scheduled if m.channel == "email"]
    assert emails
    # Emails are due within the next minutes; a text may wait for the recipient's quiet hours.
    assert all(m.send_at <= SEEDED_AT + UPCOMING_WITHIN + timedelta(minutes=1) for m in emails)
    assert len({m.send_at for m in emails}) > len(emails) // 2  # spread out, not all at once
    assert all(m.timezone for m in scheduled)  # resolved by message_schedule
    assert all(not m.events.exists() for m in scheduled)
    orders = {m.order_id for m in scheduled}
    assert not Message.objects.filter(order_id__in=orders).exclude(status="scheduled").exists()
    newest = Order.objects.order_by("-placed_at").values_list("pk", flat=True)[:30]
    assert orders <= set(newest)


def test_seed_demo_scheduled_messages_go_out_when_the_worker_gets_to_them(
    django_capture_on_commit_callbacks,
):
    seed()
    emails = Message.objects.filter(status=MessageStatus.SCHEDULED, channel="email")
    count = emails.count()

    with time_machine.travel(SEEDED_AT + UPCOMING_WITHIN + timedelta(minutes=2), tick=False):
        with django_capture_on_commit_callbacks():
            claimed = messages_claim_due()
        statuses = messages_send(message_ids=claimed)

    assert sum(1 for s in statuses.values() if s == MessageStatus.SENT) >= count
    assert len(mail.outbox) == count
    assert not Message.objects.filter(status=MessageStatus.SCHEDULED, channel="email").exists()


def test_seed_demo_messages_are_the_same_for_the_same_seed():
    seed(seed=3)
    first = Counter(history_summary())
    Message.objects.all().delete()
    Suppression.objects.all().delete()
    delete_demo_shop()

    seed(seed=3)

    assert Counter(history_summary()) == first


def history_summary() -> list[tuple]:
    return list(
        Message.objects.exclude(status="scheduled").values_list(
            "kind", "channel", "status", "send_at", "opened_at"
        )
    )


def test_seed_demo_if_empty_adds_no_message_the_second_time():
    seed(if_empty=True)
    messages, events, attempts = (
        Message.objects.count(),
        MessageEvent.objects.count(),
        DeliveryAttempt.objects.count(),
    )

    seed(if_empty=True)

    assert (
        Message.objects.count(),
        MessageEvent.objects.count(),
        DeliveryAttempt.objects.count(),
    ) == (messages, events, attempts)
