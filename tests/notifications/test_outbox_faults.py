"""Injected faults with a real worker: a Celery worker (prefork, two pool processes) sends a few
hundred due emails to a real SMTP server that takes a few milliseconds over each; its pool
processes are killed mid-dispatch, then the whole worker, then Redis is flushed. A new worker
and the recovery sweep must settle every message: sent once, or held for review only if it
really was in the provider's hands when its process died."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings

from notifications.models import Message, MessageStatus
from notifications.services import messages_dispatch_due, messages_recover_stuck
from postpurchase.celery import app as celery_app
from tests.notifications.smtp_server import SmtpServer
from tests.notifications.test_dispatch_batches import due_messages

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 300
DEADLINE_S = 45.0


def until(predicate: Callable[[], object], what: str, timeout: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.01)


def children(pid: int) -> list[int]:
    """The live child processes of `pid`: a prefork worker's pool processes."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            stat = (entry / "stat").read_text()
            # The command name is in parentheses and may hold spaces; fields follow it.
            state, parent = stat.rpartition(")")[2].split()[:2]
            if int(parent) == pid and state != "Z":
                found.append(int(entry.name))
    return found


def _database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    if socket_dir := db["OPTIONS"].get("host"):  # a unix socket: the embedded server's
        return f"postgres://{auth}@/{db['NAME']}?host={quote(socket_dir, safe='/')}"
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@contextmanager
def celery_worker(smtp_port: int, log: Path) -> Iterator[subprocess.Popen]:
    """`celery -A postpurchase worker` as deployed (prefork, two processes), on this test's
    database and Redis, its email going to the test's SMTP server by EMAIL_URL; yields once it
    answers a ping. Killed with its pool processes on the way out."""
    name = f"faults-{uuid.uuid4().hex[:8]}@localhost"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "ANYMAIL"))}
    environment.update(
        DJANGO_SETTINGS_MODULE="postpurchase.settings.base",
        DATABASE_URL=_database_url(),
        REDIS_URL=settings.REDIS_URL,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        NOTIFICATIONS_EMAIL_TIMEOUT="1",
        TWILIO_TIMEOUT_SECONDS="1",
        NOTIFICATIONS_SENDING_TIMEOUT_SECONDS="3",
        LOG_LEVEL="WARNING",
    )
    command = [sys.executable, "-m", "celery", "-A", "postpurchase", "worker", "-n", name]
    command += ["--pool", "prefork", "--concurrency", "2", "--loglevel", "warning"]
    command += ["--without-gossip", "--without-mingle"]
    with log.open("ab") as out:
        worker = subprocess.Popen(  # noqa: S603 - our own worker, fixed arguments
            command,
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        until(
            lambda: (
                worker.poll() is not None
                or celery_app.control.ping(destination=[name], timeout=0.5)
            ),
            "the worker to answer a ping",
            timeout=60,
        )
        assert worker.poll() is None, log.read_text()
        yield worker
    finally:
        with suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


def statuses(ids: list[int]) -> dict[int, str]:
    return dict(Message.objects.filter(pk__in=ids).values_list("pk", "status"))


@pytest.mark.django_db(transaction=True)
def test_two_kills_and_a_redis_flush_leave_no_unattempted_message_in_review(
    smtp_server: SmtpServer, tmp_path
):
    smtp_server.data_delay = 0.004
    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.flushdb()
    ids = due_messages(MESSAGES)  # one order, each message its own recipient
    log = tmp_path / "celery.log"
    killed_pool: list[int] = []

    with celery_worker(smtp_server.port, log) as worker:
        assert messages_dispatch_due() == MESSAGES  # queued, in three batch tasks
        until(lambda: len(smtp_server.received) >= 40, "the first sends")
        # First fault: the pool processes die mid-chunk; the parent starts new ones and the
        # batches they held come back (acks late, rejected on a lost worker).
        pool = children(worker.pid)
        assert len(pool) == 2
        for pid in pool:
            os.kill(pid, signal.SIGKILL)
        killed_pool += pool
        until(lambda: len(smtp_server.received) >= 150, "sending to go on with a new pool")
        # Second fault: the whole worker dies, pool and parent, with batches in its hands.
        pool = children(worker.pid)
        os.killpg(worker.pid, signal.SIGKILL)
        killed_pool += pool
        worker.wait(timeout=10)
    assert len(smtp_server.received) < MESSAGES, "the faults came too late to test anything"
    broker.flushdb()  # third fault: every task in the broker is lost

    with celery_worker(smtp_server.port, log):

        def settled() -> bool:
            # What beat's sweep does, with short timeouts: re-enqueue the queued, hold the
            # interrupted.
            messages_recover_stuck(
                queued_for=timedelta(seconds=1), sending_for=timedelta(seconds=3)
            )
            return set(statuses(ids).values()) <= {MessageStatus.SENT, MessageStatus.HELD}

        until(settled, "every message to be sent or held")

    final = statuses(ids)
    received = smtp_server.message_ids()
    assert len(received) == len(set(received)), "a Message-ID reached the server twice"
    assert sorted(smtp_server.recipients()) == sorted(
        Message.objects.filter(pk__in=ids, status=MessageStatus.SENT)
        .values_list("recipient", flat=True)
        .union(
            Message.objects.filter(pk__in=ids, status=MessageStatus.HELD)
            .filter(email_message_id__in=received)
            .values_list("recipient", flat=True),
            all=True,
        )
    ), "every email the server got is a sent message's or a held one's, once"
    held = list(
        Message.objects.filter(pk__in=ids, status=MessageStatus.HELD).values(
            "email_message_id", "attempt_count", "sending_at"
        )
    )
    # Held only what was in a provider call when its process died: at most one per killed
    # pool process, each claimed (its Message-ID chosen) before the call...
    assert len(held) <= len(killed_pool), (len(held), killed_pool)
    assert all(h["email_message_id"] and h["attempt_count"] == 1 for h in held), held
    # ...and sent messages all went out under the Message-ID stored before their call.
    sent_ids = set(
        Message.objects.filter(pk__in=ids, status=MessageStatus.SENT).values_list(
            "email_message_id", flat=True
        )
    )
    assert sent_ids <= set(received)
    assert sum(status == MessageStatus.SENT for status in final.values()) >= MESSAGES - len(
        killed_pool
    )
