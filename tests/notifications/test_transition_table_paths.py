"""Every path that moves messages in batches asks the transition table: the dispatcher's claim,
the recovery sweep, the batch send's preparation, claim and answer, and the cancels. A table
that forbids a move leaves the message where it is, with no history written, whatever path
would have moved it; and no path writes a status into its SQL by hand."""

import ast
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from notifications.engine import sending
from notifications.models import (
    MESSAGE_TRANSITIONS,
    DeliveryAttempt,
    Message,
    MessageEvent,
    MessageStatus,
)
from notifications.services import (
    message_schedule,
    messages_cancel,
    messages_claim_due,
    messages_recover_stuck,
    messages_send,
)
from notifications.tasks import messages_send_batch_task
from orders.models import OrderStatus
from tests.factories import OrderFactory
from tests.notifications.test_outbox import confirmation, queued

pytestmark = pytest.mark.django_db

_M = MessageStatus


@pytest.fixture
def forbid(monkeypatch):
    """Take one move out of the message table for the test."""

    def forbid(from_status: str, to_status: str) -> None:
        monkeypatch.setitem(
            MESSAGE_TRANSITIONS, from_status, MESSAGE_TRANSITIONS[from_status] - {to_status}
        )

    return forbid


@pytest.fixture
def sent_chunks(monkeypatch) -> list[list[int]]:
    chunks: list[list[int]] = []
    monkeypatch.setattr(messages_send_batch_task, "delay", chunks.append)
    return chunks


def _history(message: Message) -> list[tuple[str, str]]:
    return list(
        MessageEvent.objects.filter(message=message).values_list("from_status", "to_status")
    )


def _status(message: Message) -> str:
    return Message.objects.values_list("status", flat=True).get(pk=message.pk)


# --- The dispatcher's claim ------------------------------------------------------------------


def test_the_claim_takes_its_from_state_from_the_table(forbid):
    due, _ = message_schedule(request=confirmation(OrderFactory()))
    forbid(_M.SCHEDULED, _M.QUEUED)

    assert messages_claim_due() == []

    assert _status(due) == _M.SCHEDULED
    assert _history(due) == []


def test_the_claim_records_the_state_each_message_left(sent_chunks):
    due, _ = message_schedule(request=confirmation(OrderFactory()))

    assert messages_claim_due() == [due.pk]

    assert _history(due) == [("scheduled", "queued")]


def test_the_claim_never_takes_a_failed_message_whose_time_has_passed(sent_chunks):
    """The table lets staff move a failed message back to `queued`; a passing `send_at` does
    not: the claim looks only at scheduled messages."""
    failed = queued(OrderFactory())
    Message.objects.filter(pk=failed.pk).update(status=_M.FAILED)

    assert messages_claim_due() == []
    assert _status(failed) == _M.FAILED


# --- The recovery sweep ----------------------------------------------------------------------


def _stuck(status: str) -> Message:
    message = queued(OrderFactory())
    long_ago = timezone.now() - timedelta(hours=1)
    Message.objects.filter(pk=message.pk).update(
        status=status, queued_at=long_ago, sending_at=long_ago
    )
    return message


def _recover() -> tuple[list[int], list[int]]:
    return messages_recover_stuck(
        queued_for=timedelta(minutes=15), sending_for=timedelta(minutes=10)
    )


def test_the_sweep_holds_a_stuck_send_only_where_the_table_allows(forbid):
    interrupted = _stuck(_M.SENDING)
    forbid(_M.SENDING, _M.HELD)

    assert _recover() == ([], [])

    assert _status(interrupted) == _M.SENDING
    assert _history(interrupted) == []


def test_the_sweep_enqueues_again_only_what_the_send_may_claim(forbid, sent_chunks):
    lost = _stuck(_M.QUEUED)
    forbid(_M.QUEUED, _M.SENDING)

    assert _recover() == ([], [])
    assert sent_chunks == []
    assert _status(lost) == _M.QUEUED


def test_the_sweep_leaves_a_message_sent_long_ago_alone(sent_chunks):
    """A `sending_at` left from an earlier attempt says nothing about a message that has
    since been retried or settled: only a message still `sending` is held."""
    retried = _stuck(_M.FAILED)

    assert _recover() == ([], [])
    assert _status(retried) == _M.FAILED


# --- The batch send --------------------------------------------------------------------------


def test_the_batch_send_refuses_to_send_when_the_table_forbids_queued_to_sending(forbid):
    message = queued(OrderFactory())
    forbid(_M.QUEUED, _M.SENDING)

    assert messages_send(message_ids=[message.pk]) == {}

    assert _status(message) == _M.QUEUED
    assert _history(message) == []
    assert not DeliveryAttempt.objects.filter(message=message).exists()
    assert mail.outbox == []


def test_the_send_claim_itself_asks_the_table(forbid, monkeypatch):
    """Forbidden after the chunk was prepared: the claim just before the call refuses too."""
    message = queued(OrderFactory())
    prepare = sending._prepare

    def prepare_then_forbid(message_ids: list[int]) -> list[sending._Ready]:
        ready = prepare(message_ids)
        forbid(_M.QUEUED, _M.SENDING)
        return ready

    monkeypatch.setattr(sending, "_prepare", prepare_then_forbid)

    assert messages_send(message_ids=[message.pk]) == {}

    assert _status(message) == _M.QUEUED
    assert _history(message) == []
    assert not DeliveryAttempt.objects.filter(message=message).exists()
    assert mail.outbox == []


def test_the_batch_send_takes_no_message_in_a_state_the_send_may_not_leave():
    message = queued(OrderFactory())
    Message.objects.filter(pk=message.pk).update(status=_M.HELD)

    assert messages_send(message_ids=[message.pk]) == {}

    assert _status(message) == _M.HELD
    assert _history(message) == []
    assert mail.outbox == []


def test_a_moot_message_the_table_may_not_cancel_is_left_queued_and_unsent(forbid):
    order = OrderFactory()
    message = queued(order)
    order.status = OrderStatus.CANCELLED
    order.save(update_fields=["status"])
    forbid(_M.QUEUED, _M.CANCELLED)

    assert messages_send(message_ids=[message.pk]) == {}

    assert _status(message) == _M.QUEUED
    assert _history(message) == []
    assert mail.outbox == []


def test_a_message_that_cannot_render_is_left_queued_when_the_table_may_not_fail_it(forbid):
    message = queued(OrderFactory(), kind="no_such_kind")
    forbid(_M.QUEUED, _M.FAILED)

    assert messages_send(message_ids=[message.pk]) == {}

    assert _status(message) == _M.QUEUED
    assert _history(message) == []


def test_an_answer_the_table_refuses_leaves_the_message_sending_for_review(forbid):
    message = queued(OrderFactory())
    forbid(_M.SENDING, _M.SENT)

    assert messages_send(message_ids=[message.pk]) == {message.pk: _M.SENDING}

    # The call happened: the attempt is on record, and the sweep holds the message for review.
    assert len(mail.outbox) == 1
    assert DeliveryAttempt.objects.filter(message=message).count() == 1
    assert _status(message) == _M.SENDING
    assert _history(message) == [("queued", "sending")]


def test_the_batch_send_writes_each_move_with_the_state_it_left():
    message = queued(OrderFactory())

    assert messages_send(message_ids=[message.pk]) == {message.pk: _M.SENT}

    assert _history(message) == [("queued", "sending"), ("sending", "sent")]


# --- Cancels ---------------------------------------------------------------------------------


def test_cancelling_an_orders_messages_follows_the_table(forbid):
    order = OrderFactory()
    scheduled, _ = message_schedule(request=confirmation(order))
    waiting = queued(order, channel="sms", recipient="+14155550100")
    forbid(_M.QUEUED, _M.CANCELLED)

    assert messages_cancel(order_id=order.pk, reason="order cancelled") == 1

    assert _status(scheduled) == _M.CANCELLED
    assert _history(scheduled) == [("scheduled", "cancelled")]
    assert _status(waiting) == _M.QUEUED
    assert _history(waiting) == []


def test_cancelling_never_takes_a_message_from_a_provider_it_may_already_be_with():
    order = OrderFactory()
    in_flight = queued(order)
    Message.objects.filter(pk=in_flight.pk).update(status=_M.SENDING)

    assert messages_cancel(order_id=order.pk, reason="order cancelled") == 0
    assert _status(in_flight) == _M.SENDING


# --- No status written by hand ---------------------------------------------------------------

SQL_MODULES = ("notifications/engine/dispatch.py", "notifications/engine/attempts.py")
_A_STATUS = re.compile("'(" + "|".join(MessageStatus.values) + ")'")


@pytest.mark.parametrize("module", SQL_MODULES)
def test_no_statement_names_a_status_itself(module):
    """The statuses a statement moves from and to are its parameters, from the table."""
    tree = ast.parse((Path(settings.BASE_DIR) / module).read_text())
    statements = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and "notifications_message" in node.value
    ]

    assert statements  # the scan does find them
    assert [s for s in statements if _A_STATUS.search(s)] == []
