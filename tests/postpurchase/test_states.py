"""The transition table, asked row by row (`transition`) or for a set of rows at once
(`allowed_from`, `transition_rows`): both answer from the same table."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import MESSAGE_TRANSITIONS, Message, MessageEvent, MessageStatus
from postpurchase.states import Moved, allowed_from, transition_rows
from tests.factories import OrderFactory
from tests.notifications.test_outbox import queued

TABLE = {
    "new": {"open", "dropped"},
    "open": {"done", "dropped"},
    "parked": {"open"},
    "done": set(),
    "dropped": set(),
}


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ("open", {"new", "parked"}),
        ("dropped", {"new", "open"}),
        ("done", {"open"}),
        ("new", set()),
        ("unknown", set()),
    ],
)
def test_allowed_from_is_every_state_whose_moves_include_the_target(to, expected):
    assert allowed_from(to, TABLE) == frozenset(expected)


def test_allowed_from_among_keeps_only_the_states_named_that_the_table_allows():
    assert allowed_from("open", TABLE, among=("parked", "done")) == {"parked"}
    assert allowed_from("open", TABLE, among=("done",)) == frozenset()


@pytest.mark.parametrize("to", MessageStatus.values)
def test_allowed_from_agrees_with_the_table_row_by_row(to):
    expected = {state for state in MessageStatus.values if to in MESSAGE_TRANSITIONS[state]}

    assert allowed_from(to, MESSAGE_TRANSITIONS) == expected


def _with_status(status: str) -> Message:
    message = queued(OrderFactory())
    Message.objects.filter(pk=message.pk).update(status=status)
    return message


@pytest.mark.django_db
def test_transition_rows_moves_the_rows_the_table_allows_and_records_where_each_came_from():
    scheduled = _with_status(MessageStatus.SCHEDULED)
    waiting = _with_status(MessageStatus.QUEUED)
    sent = _with_status(MessageStatus.SENT)  # the table has no way from sent to cancelled

    moved = transition_rows(
        Message.objects.order_by("pk"),
        to=MessageStatus.CANCELLED,
        table=MESSAGE_TRANSITIONS,
        note="made moot",
        values={"status_reason": "made moot"},
    )

    assert moved == [
        Moved(scheduled.pk, MessageStatus.SCHEDULED),
        Moved(waiting.pk, MessageStatus.QUEUED),
    ]
    statuses = dict(Message.objects.values_list("pk", "status"))
    assert statuses == {
        scheduled.pk: MessageStatus.CANCELLED,
        waiting.pk: MessageStatus.CANCELLED,
        sent.pk: MessageStatus.SENT,
    }
    assert Message.objects.get(pk=waiting.pk).status_reason == "made moot"
    history = MessageEvent.objects.order_by("message_id").values_list(
        "message_id", "from_status", "to_status", "note"
    )
    assert list(history) == [
        (scheduled.pk, "scheduled", "cancelled", "made moot"),
        (waiting.pk, "queued", "cancelled", "made moot"),
    ]


@pytest.mark.django_db
def test_transition_rows_among_leaves_states_the_caller_did_not_name():
    waiting = _with_status(MessageStatus.QUEUED)
    in_flight = _with_status(MessageStatus.SENDING)  # the table allows it, the caller did not ask

    moved = transition_rows(
        Message.objects.all(),
        to=MessageStatus.CANCELLED,
        table=MESSAGE_TRANSITIONS,
        among=(MessageStatus.SCHEDULED, MessageStatus.QUEUED),
    )

    assert [row.pk for row in moved] == [waiting.pk]
    assert Message.objects.get(pk=in_flight.pk).status == MessageStatus.SENDING


@pytest.mark.django_db
def test_transition_rows_follows_the_table_as_it_is_when_called(monkeypatch):
    waiting = _with_status(MessageStatus.QUEUED)
    monkeypatch.setitem(MESSAGE_TRANSITIONS, MessageStatus.QUEUED, {MessageStatus.SENDING})

    with CaptureQueriesContext(connection) as captured:
        moved = transition_rows(
            Message.objects.all(), to=MessageStatus.CANCELLED, table=MESSAGE_TRANSITIONS
        )

    assert moved == []
    assert Message.objects.get(pk=waiting.pk).status == MessageStatus.QUEUED
    assert not MessageEvent.objects.exists()
    # Only the states the table still lets go to cancelled were looked for.
    (select,) = captured.captured_queries
    assert "'sending'" in select["sql"]
    assert "'queued'" not in select["sql"]


@pytest.mark.django_db
def test_transition_rows_takes_at_most_the_limit_and_locks_what_it_reads():
    for _ in range(3):
        _with_status(MessageStatus.QUEUED)

    with CaptureQueriesContext(connection) as captured:
        moved = transition_rows(
            Message.objects.order_by("pk"),
            to=MessageStatus.CANCELLED,
            table=MESSAGE_TRANSITIONS,
            limit=2,
            skip_locked=True,
        )

    assert len(moved) == 2
    assert Message.objects.filter(status=MessageStatus.CANCELLED).count() == 2
    assert "FOR UPDATE SKIP LOCKED" in captured.captured_queries[0]["sql"]
    assert len(captured.captured_queries) == 3  # lock and read, update, history
