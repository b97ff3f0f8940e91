"""The outbox's hand-off in batches: one enqueue per claimed batch, one commit per chunk, one
email connection per chunk, and still nothing lost and nothing sent twice."""

import json
import socket
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

from notifications.channels.email import EmailChannel
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


def test_a_worker_dying_mid_batch_loses_nothing_and_sends_nothing_twice(settings, monkeypatch):
    settings.NOTIFICATIONS_SEND_CHUNK = 2
    ids = queued_messages(6)
    real_send = EmailChannel.send
    calls = []

    def dies_on_the_third(self, msg):
        calls.append(msg.message_id)
        if len(calls) == 3:
            raise SystemExit("worker killed")
        return real_send(self, msg)

    monkeypatch.setattr(EmailChannel, "send", dies_on_the_third)

    with pytest.raises(SystemExit):
        messages_send(message_ids=ids)

    statuses = dict(Message.objects.filter(pk__in=ids).values_list("pk", "status"))
    # The first chunk was recorded, the second was in the provider's hands, the third untouched.
    assert [statuses[pk] for pk in ids] == [
        "sent",
        "sent",
        "sending",
        "sending",
        "queued",
        "queued",
    ]
    monkeypatch.setattr(EmailChannel, "send", real_send)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Message.objects.filter(pk__in=ids).update(queued_at=an_hour_ago, sending_at=an_hour_ago)
    requeued, held = messages_recover_stuck(
        queued_for=timedelta(minutes=15), sending_for=timedelta(minutes=10)
    )
    assert sorted(requeued) == ids[4:]
    assert sorted(held) == ids[2:4]
    assert messages_send(message_ids=requeued) == dict.fromkeys(ids[4:], MessageStatus.SENT)
    assert len(mail.outbox) == 4  # the two whose outcome is unknown are never resent
    assert Message.objects.get(pk=ids[2]).status == MessageStatus.HELD


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


def test_an_unreachable_mail_server_puts_the_whole_chunk_back_at_once(settings):
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.NOTIFICATIONS_SEND_CHUNK = 10
    ids = queued_messages(3)

    statuses = messages_send(message_ids=ids)

    assert statuses == dict.fromkeys(ids, MessageStatus.QUEUED)  # each retried on its own later
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
