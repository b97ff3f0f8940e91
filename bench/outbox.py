"""The outbox: how fast a real Celery worker turns due email messages into provider calls,
compared in the same run with django-post_office and with a no-op Celery task drain; what the
dispatcher's claim costs with 1,000,000 rows; what scheduling one message costs in queries.

Runs after gunicorn and the flash sale have stopped, so the worker and Postgres get the cores.
Email goes through anymail's test backend (anymail's real sending path, no network).
"""

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from bench import stack

DISPATCH_TASK = "notifications.tasks.messages_dispatch_due_task"
# Celery's own built-in task that returns its arguments: a task with no work, registered in
# every worker, so the drain measures the broker and the pool alone.
NOOP_TASK = "celery.accumulate"
TEST_BACKEND = {"EMAIL_BACKEND": "anymail.backends.test.EmailBackend"}
PROBE = Path(__file__).with_name("outbox_probe.py")
POSTOFFICE_VENV = Path(__file__).with_name(".venv-postoffice")
_POLL_S = 0.2


@dataclass
class Outbox:
    messages: int
    concurrency: int
    timeout_s: int
    seed_seconds: float = 0.0
    orders_used: int = 0
    seconds: float | None = None  # first dispatch tick → last sent_at
    ticks: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    messages_with_attempts: int = 0
    noop_tasks: int = 0
    noop_seconds: float | None = None
    postoffice: dict = field(default_factory=dict)
    postoffice_error: str = ""
    profile: dict = field(default_factory=dict)
    schedule: dict = field(default_factory=dict)
    claim: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return self.statuses.get("sent", 0)

    @property
    def is_complete(self) -> bool:
        """All sent, one provider call each, nothing else."""
        return (
            self.seconds is not None
            and self.sent == self.messages
            and self.attempts == self.messages
            and self.messages_with_attempts == self.messages
        )

    @property
    def rate(self) -> float | None:
        return self.sent / self.seconds if self.seconds else None

    @property
    def noop_rate(self) -> float | None:
        return self.noop_tasks / self.noop_seconds if self.noop_seconds else None

    @property
    def postoffice_rate(self) -> float | None:
        po = self.postoffice
        return po["sent"] / po["seconds"] if po.get("seconds") else None


def _probe(*args: str, timeout_s: int = 300) -> dict:
    done = subprocess.run(
        [sys.executable, str(PROBE), *args],
        cwd=stack.ROOT,
        env={**stack.production_env(), **TEST_BACKEND},
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"outbox_probe {args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _progress(prefix: str) -> tuple[dict[str, int], float | None]:
    rows = stack.query(
        "SELECT status, count(*) AS n, extract(epoch FROM max(sent_at)) AS last "
        "FROM notifications_message WHERE dedupe_key LIKE %s GROUP BY status",
        (f"{prefix}:%",),
    )
    lasts = [float(r["last"]) for r in rows if r["last"] is not None]
    return {r["status"]: r["n"] for r in rows}, max(lasts, default=None)


def _dispatch(outbox: Outbox, prefix: str) -> None:
    """Tick every second through the broker, as beat would (faster than its 5 s default), until
    every message has left `scheduled`/`queued`/`sending`, or the timeout."""
    app = stack.celery_app()
    try:
        started = time.time()
        next_tick = 0.0
        deadline = time.monotonic() + outbox.timeout_s
        while time.monotonic() < deadline:
            if time.monotonic() >= next_tick:
                app.send_task(DISPATCH_TASK)
                outbox.ticks += 1
                next_tick = time.monotonic() + 1.0
            time.sleep(_POLL_S)
            statuses, last = _progress(prefix)
            pending = sum(statuses.get(s, 0) for s in ("scheduled", "queued", "sending"))
            if pending == 0:
                outbox.seconds = last - started if last is not None else None
                break
    finally:
        app.close()


def _noop_drain(outbox: Outbox, tasks: int) -> None:
    """The same worker with no-op tasks: consumption is paused while they are published, so
    the clock covers the drain alone."""
    app = stack.celery_app()
    client = redis.Redis.from_url(stack.REDIS_URL, socket_timeout=5)
    try:
        app.control.cancel_consumer("celery", reply=True, timeout=5)
        with app.producer_or_acquire() as producer:
            for _ in range(tasks):
                app.send_task(NOOP_TASK, producer=producer)
        started = time.monotonic()
        app.control.add_consumer("celery", reply=True, timeout=5)
        deadline = started + 120
        # acks_late: a task leaves `unacked` only once it has run.
        while time.monotonic() < deadline:
            if client.llen("celery") == 0 and client.hlen("unacked") == 0:
                outbox.noop_tasks = tasks
                outbox.noop_seconds = time.monotonic() - started
                return
            time.sleep(0.02)
        outbox.errors.append(f"no-op drain not finished within 120 s ({client.llen('celery')})")
    finally:
        app.close()
        client.close()


def _verify(outbox: Outbox, prefix: str) -> None:
    outbox.statuses, _ = _progress(prefix)
    counts = stack.query(
        "SELECT count(*) AS attempts, count(DISTINCT a.message_id) AS messages "
        "FROM notifications_deliveryattempt a JOIN notifications_message m "
        "ON m.id = a.message_id WHERE m.dedupe_key LIKE %s",
        (f"{prefix}:%",),
    )[0]
    outbox.attempts, outbox.messages_with_attempts = counts["attempts"], counts["messages"]
    outbox.errors += [
        f"{r['status']}: {r['status_reason'] or r['last_error']}"
        for r in stack.query(
            "SELECT status, status_reason, last_error FROM notifications_message "
            "WHERE dedupe_key LIKE %s AND status <> 'sent' LIMIT 3",
            (f"{prefix}:%",),
        )
    ]


def postoffice_ready() -> Path:
    """post_office's own venv: the project's packages (through a .pth file) plus post_office,
    installed with pip here and nowhere else."""
    python = POSTOFFICE_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run(["python3", "-m", "venv", str(POSTOFFICE_VENV)], check=True)
    site = next((POSTOFFICE_VENV / "lib").glob("python3*/site-packages"))
    project_site = next((stack.BIN.parent / "lib").glob("python3*/site-packages"))
    (site / "project.pth").write_text(f"{project_site}\n")
    check = subprocess.run([str(python), "-c", "import post_office"], capture_output=True)
    if check.returncode != 0:
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "django-post-office"],
            check=True,
            timeout=300,
        )
    return python


def _postoffice(outbox: Outbox, prefix: str) -> None:
    try:
        python = postoffice_ready()
        done = subprocess.run(
            [
                str(python),
                str(Path(__file__).parent / "postoffice" / "send.py"),
                "--prefix",
                prefix,
            ],
            cwd=stack.ROOT,
            env={**stack.django_env(), "BENCH_DB_NAME": stack.DB_NAME},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{done.stdout}\n{done.stderr}"[-1500:])
        outbox.postoffice = json.loads(done.stdout.strip().splitlines()[-1])
    except (RuntimeError, OSError, subprocess.SubprocessError, StopIteration) as exc:
        outbox.postoffice_error = str(exc)[-600:]


def measure(
    *,
    messages: int,
    concurrency: int,
    timeout_s: int,
    folder: Path,
    noop_tasks: int = 5000,
    claim_rows: int = 1_000_000,
    skip_postoffice: bool = False,
) -> Outbox:
    outbox = Outbox(messages=messages, concurrency=concurrency, timeout_s=timeout_s)
    prefix = f"bench-outbox-{int(time.time())}"
    stack.redis_purge()
    print(f"outbox: storing {messages:,} due email messages ...", flush=True)
    seeded = _probe("seed", "--count", str(messages), "--prefix", prefix)
    outbox.seed_seconds, outbox.orders_used = seeded["seconds"], seeded["orders"]
    stack.execute("VACUUM ANALYZE notifications_message")
    print("  sending them with celery and a dispatch tick a second ...", flush=True)
    with stack.celery_worker(
        concurrency=concurrency, log=folder / "celery-outbox.log", extra_env=TEST_BACKEND
    ):
        _dispatch(outbox, prefix)
        print(f"  no-op drain of {noop_tasks:,} tasks on the same worker ...", flush=True)
        _noop_drain(outbox, noop_tasks)
    _verify(outbox, prefix)
    stack.redis_purge()
    if not skip_postoffice:
        print("  django-post_office send_queued_mail on the same emails ...", flush=True)
        _postoffice(outbox, prefix)
    print("  profiling one process, scheduling queries ...", flush=True)
    outbox.profile = _probe("profile", "--count", "300", "--prefix", f"{prefix}-profile")
    outbox.schedule = _probe("schedule")
    if claim_rows:
        print(f"  claim cost with {claim_rows:,} scheduled rows ...", flush=True)
        outbox.claim = _probe(
            "claim", "--rows", str(claim_rows), "--prefix", f"{prefix}-scale", timeout_s=400
        )
        stack.redis_purge()  # the timed claims enqueued send tasks no worker was there to take
    return outbox
