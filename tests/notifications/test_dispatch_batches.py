"""The outbox's hand-off in batches: one enqueue per claimed batch, one preparation and one
email connection per chunk, each message claimed on its own just before its call, and still
nothing lost, nothing sent twice and nothing held for review that was not in flight."""

import json
import threading
from datetime import timedelta

import pytest
import requests
from anymail.backends import base_requests
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from notifications.engine.channels.email import EmailChannel
from notifications.models import DeliveryAttempt, Message, MessageEvent, MessageStatus
from notifications.services import (
    message_schedule,
    messages_claim_due,
    messages_dispatch_due,
    messages_recover_stuck,
    messages_send,
)
from notifications.tasks import messages_dispatch_due_task, messages_send_batch_task
from tests.factories import OrderFactory
from tests.notifications.smtp_server import free_port
from tests.notifications.test_outbox import confirmation, queued
from tests.orders.test_worker_integration import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch) -> list[list[int]]:
    batches: list[list[int]] = []
    monkeypatch.setattr(messages_send_batch_task, "delay", batches.append)
    return batches


def due_messages(count: int) -> list[int]:
    order = OrderFactory()
    return [
        message_schedule(request=confirmation(order, kind="order_confirmation", about_id=n))[0].pk
        for n in range(count)
    ]


def queued_messages(count: int, **overrides) -> list[int]:
    first = OrderFactory()
    return [queued(OrderFactory(shop=first.shop), **overrides).pk for _ in range(count)]


# --- Claim and hand-off ----------------------------------------------------------------------


def test_a_claimed_batch_goes_to_one_task_after_commit(
    settings, enqueued, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS_DISPATCH_BATCH = 4
    ids = due_messages(6)

    with django_capture_on_commit_callbacks(execute=True):
        claimed = messages_dispatch_due()
        assert enqueued == []  # nothing reaches the broker before its claim commits

    assert claimed == 6
    assert enqueued == [ids[:4], ids[4:]]
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.QUEUED}
    history = MessageEvent.objects.filter(message_id__in=ids)
    assert sorted(history.values_list("message_id", flat=True)) == ids
    assert set(history.values_list("from_status", "to_status", "note")) == {
        ("scheduled", "queued", "due")
    }


def test_the_claim_is_one_statement(enqueued, django_capture_on_commit_callbacks):
    due_messages(3)

    with CaptureQueriesContext(connection) as captured:
        messages_claim_due(batch_size=100)

    statements = [q["sql"] for q in captured.captured_queries if "notifications_" in q["sql"]]
    assert len(statements) == 1  # claim, mark queued and write the history in one round trip
    assert "SKIP LOCKED" in statements[0]
    assert "INSERT INTO notifications_messageevent" in statements[0]


def test_a_lost_batch_task_is_enqueued_again_in_batches(
    settings, enqueued, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS_DISPATCH_BATCH = 2
    ids = due_messages(5)
    with django_capture_on_commit_callbacks(execute=True):
        messages_dispatch_due()
    enqueued.clear()  # the broker lost them: Redis flushed before any worker took them

    with django_capture_on_commit_callbacks(execute=True):
        requeued, held = messages_recover_stuck(
            queued_for=timedelta(0), sending_for=timedelta(minutes=10)
        )

    assert sorted(requeued) == ids
    assert held == []
    assert sorted(pk for batch in enqueued for pk in batch) == ids
    assert [len(batch) for batch in enqueued] == [2, 2, 1]


# --- Chunks inside a batch -------------------------------------------------------------------


def test_a_batch_is_sent_in_chunks_each_claimed_on_its_own(settings):
    settings.NOTIFICATIONS_SEND_CHUNK = 2
    ids = queued_messages(5)

    with CaptureQueriesContext(connection) as captured:
        statuses = messages_send(message_ids=ids)

    assert statuses == dict.fromkeys(ids, MessageStatus.SENT)
    claims = [q for q in captured.captured_queries if "SKIP LOCKED" in q["sql"]]
    assert len(claims) == 3
    assert len(mail.outbox) == 5
    assert DeliveryAttempt.objects.filter(message_id__in=ids).count() == 5


def test_a_worker_dying_mid_chunk_leaves_only_the_message_in_flight_in_doubt(settings, monkeypatch):
    settings.NOTIFICATIONS_SEND_CHUNK = 3
    ids = queued_messages(6)
    real_send = EmailChannel.send
    calls = []

    def dies_on_the_second(self, msg):
        calls.append(msg.message_id)
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return real_send(self, msg)

    monkeypatch.setattr(EmailChannel, "send", dies_on_the_second)

    with pytest.raises(SystemExit):
        messages_send(message_ids=ids)

    statuses = dict(Message.objects.filter(pk__in=ids).values_list("pk", "status"))
    # The first was recorded, the second was in the provider's hands; the rest of its chunk
    # was never marked, like the next chunk.
    assert [statuses[pk] for pk in ids] == ["sent", "sending", *["queued"] * 4]
    monkeypatch.setattr(EmailChannel, "send", real_send)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Message.objects.filter(pk__in=ids).update(queued_at=an_hour_ago, sending_at=an_hour_ago)
    requeued, held = messages_recover_stuck(
        queued_for=timedelta(minutes=15), sending_for=timedelta(minutes=10)
    )
    assert sorted(requeued) == ids[2:]
    assert held == [ids[1]]
    assert messages_send(message_ids=requeued) == dict.fromkeys(ids[2:], MessageStatus.SENT)
    assert len(mail.outbox) == 5  # the one whose outcome is unknown is never resent
    assert Message.objects.get(pk=ids[1]).status == MessageStatus.HELD


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_chunk_send_each_message_once(smtp_server):
    """A sweep re-enqueued a chunk whose first task is still running: both workers prepare it,
    but only one claim finds each message still queued. The server keeps the first worker in
    its second call until the other worker's first email arrives, so they really overlap."""
    ids = queued_messages(6)
    recipients = dict(Message.objects.filter(pk__in=ids).values_list("pk", "recipient"))
    smtp_server.gate(recipients[ids[1]])
    results: dict[str, dict[int, str]] = {}

    def worker(name: str) -> None:
        try:
            results[name] = messages_send(message_ids=ids)
        finally:
            connection.close()

    first = threading.Thread(target=worker, args=("first",))
    first.start()
    assert wait_for(lambda: len(smtp_server.received) == 1)  # now inside its second call
    second = threading.Thread(target=worker, args=("second",))
    second.start()
    first.join(timeout=20)
    second.join(timeout=20)

    assert results["second"], "the second worker sent nothing: the workers never overlapped"
    assert not set(results["first"]) & set(results["second"])
    assert {**results["first"], **results["second"]} == dict.fromkeys(ids, MessageStatus.SENT)
    assert sorted(smtp_server.recipients()) == sorted(recipients.values())  # each once
    assert DeliveryAttempt.objects.filter(message_id__in=ids).count() == 6


@pytest.mark.django_db(transaction=True)
def test_a_send_held_by_the_sweep_while_still_running_is_settled_by_its_own_answer(
    settings, smtp_server
):
    """The call outlived the sending timeout, so the sweep held the message; the provider's
    answer, when it comes, says it was sent after all."""
    settings.NOTIFICATIONS_EMAIL_TIMEOUT = 5
    smtp_server.data_delay = 1.0
    [pk] = queued_messages(1)

    def sweep_once_the_server_has_it() -> None:
        try:
            assert wait_for(lambda: smtp_server.received)
            messages_recover_stuck(queued_for=timedelta(hours=1), sending_for=timedelta(0))
        finally:
            connection.close()

    sweep = threading.Thread(target=sweep_once_the_server_has_it)
    sweep.start()
    statuses = messages_send(message_ids=[pk])
    sweep.join(timeout=10)

    assert statuses == {pk: MessageStatus.SENT}
    message = Message.objects.get(pk=pk)
    assert message.status == MessageStatus.SENT
    assert message.provider_message_id == message.email_message_id
    assert list(message.events.values_list("from_status", "to_status"))[-2:] == [
        ("sending", "held"),
        ("held", "sent"),
    ]
    assert DeliveryAttempt.objects.filter(message_id=pk).count() == 1


# --- One email connection per chunk ----------------------------------------------------------


@pytest.fixture
def fake_postmark(settings, httpserver: HTTPServer) -> HTTPServer:
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": "fake-server-token",
        "POSTMARK_API_URL": httpserver.url_for("/"),
    }
    return httpserver


def postmark_answer(request: Request) -> Response:
    """Postmark's answers: accepted, or refused for an inactive recipient (addresses "gone@")."""
    to = request.get_json()["To"]
    if to.startswith("gone"):
        refused = {
            "ErrorCode": 406,
            "Message": "You tried to send to recipient(s) that have been marked as inactive.\n"
            f"Found inactive addresses: {to}.\n"
            "Inactive recipients are ones that have generated a hard bounce, a spam "
            "complaint, or a manual suppression.",
        }
        return Response(json.dumps(refused), status=422, content_type="application/json")
    accepted = {"ErrorCode": 0, "Message": "OK", "MessageID": f"pm-{to}", "To": to}
    return Response(json.dumps(accepted), status=200, content_type="application/json")


@pytest.fixture
def sessions(monkeypatch) -> list[requests.Session]:
    opened: list[requests.Session] = []

    class CountedSession(requests.Session):
        def __init__(self) -> None:
            super().__init__()
            opened.append(self)

    monkeypatch.setattr(base_requests.requests, "Session", CountedSession)
    return opened


def test_a_chunk_of_emails_shares_one_http_session(settings, fake_postmark, sessions):
    settings.NOTIFICATIONS_SEND_CHUNK = 3
    fake_postmark.expect_request("/email").respond_with_handler(postmark_answer)
    ids = queued_messages(6)

    statuses = messages_send(message_ids=ids)

    assert statuses == dict.fromkeys(ids, MessageStatus.SENT)
    assert len(fake_postmark.log) == 6
    assert len(sessions) == 2  # one per chunk, not one per email


def test_a_refused_email_in_a_chunk_fails_alone(settings, fake_postmark, sessions):
    fake_postmark.expect_request("/email").respond_with_handler(postmark_answer)
    good = queued_messages(2)
    gone = queued(OrderFactory(email="gone@example.org")).pk
    more = queued_messages(1)

    statuses = messages_send(message_ids=[*good, gone, *more])

    assert statuses == {
        **dict.fromkeys([*good, *more], MessageStatus.SENT),
        gone: MessageStatus.FAILED,
    }
    assert len(sessions) == 1
    attempt = DeliveryAttempt.objects.get(message_id=gone)
    assert attempt.outcome == "permanent"


def test_an_unreachable_mail_server_puts_the_whole_chunk_back_on_the_schedule_at_once(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens
    settings.NOTIFICATIONS_SEND_CHUNK = 10
    ids = queued_messages(3)

    statuses = messages_send(message_ids=ids)

    # Each is retried on its own after its backoff; nothing was sent, nothing is in doubt.
    assert statuses == dict.fromkeys(ids, MessageStatus.SCHEDULED)
    assert Message.objects.filter(pk__in=ids, send_at__gt=timezone.now()).count() == 3
    attempts = DeliveryAttempt.objects.filter(message_id__in=ids)
    assert sorted(attempts.values_list("outcome", flat=True)) == ["transient"] * 3


# --- With a real worker ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_worker_sends_every_due_message_once_across_batches_and_chunks(
    settings, celery_worker_live
):
    settings.NOTIFICATIONS_DISPATCH_BATCH = 7
    settings.NOTIFICATIONS_SEND_CHUNK = 3
    ids = due_messages(30)

    messages_dispatch_due_task.delay()
    messages_dispatch_due_task.delay()

    assert wait_for(
        lambda: Message.objects.filter(pk__in=ids, status=MessageStatus.SENT).count() == 30
    ), dict(Message.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert len(mail.outbox) == 30
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        Message.objects.filter(pk__in=ids).values_list("recipient", flat=True)
    )
    assert DeliveryAttempt.objects.filter(message_id__in=ids).count() == 30


def test_the_claim_commits_without_waiting_for_the_disk(enqueued):
    due_messages(1)

    with transaction.atomic():
        messages_claim_due()
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            during_claim = cursor.fetchone()[0]

    assert during_claim == "off"  # losing the claim in a crash only claims it again


def test_a_batch_is_enqueued_without_a_readable_copy_of_its_ids(monkeypatch):
    calls = []

    def publish(*args, **kwargs) -> None:
        calls.append((args, kwargs))

    monkeypatch.setattr(messages_send_batch_task, "apply_async", publish)

    messages_send_batch_task.delay([4, 5, 6])

    assert calls == [((([4, 5, 6],),), {"argsrepr": "(3 message ids)"})]
