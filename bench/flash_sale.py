"""Flash-sale processing: how fast real Celery workers turn stored orders/create deliveries
into orders.

Runs after gunicorn has stopped, so the machine's cores go to the worker and Postgres. A
backlog of distinct deliveries is stored as `received` (bench/flash_sale_store.py), a worker
is started as deployed, dispatch rounds are asked for through the broker exactly as the
webhook view asks for them, and the clock runs from the first ask to the last delivery the
database records as processed.
"""

import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import stack
from bench.shopify_payload import ORDER_ID_BASE

# A dispatch round claims at most this many deliveries (webhook_events_dispatch's limit).
ROUND_LIMIT = 500
# Order numbers well above the demo shop's and the intake body's, so none is an update.
FIRST_NUMBER = 500_001
DISPATCH_TASK = "orders.tasks.webhook_events_dispatch_task"
_POLL_S = 0.25
# A round asked for that many seconds ago should have run; if deliveries are still
# unclaimed, ask again (the periodic resume sweep does this in production, every minute).
_REASK_S = 5.0


@dataclass
class Drain:
    orders: int
    concurrency: int
    timeout_s: int
    store_seconds: float = 0.0
    line_items_expected: int = 0
    returning_customers: int = 0
    body_bytes: int = 0
    seconds: float | None = None  # first dispatch ask → last delivery processed
    processed: int = 0
    failed: int = 0
    ignored: int = 0
    waiting: int = 0
    orders_created: int = 0
    line_items_created: int = 0
    dispatch_rounds: int = 0
    domain_events: int = 0
    domain_events_pending: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def is_complete(self) -> bool:
        """Every delivery processed into its order, nothing failed, nothing left waiting."""
        return (
            self.seconds is not None
            and self.processed == self.orders
            and self.orders_created == self.orders
            and self.line_items_created == self.line_items_expected
        )

    @property
    def rate(self) -> float | None:
        return self.processed / self.seconds if self.seconds else None

    @property
    def per_order_ms(self) -> float | None:
        """Wall time per order with the whole worker busy: elapsed / orders."""
        return self.seconds * 1000 / self.processed if self.seconds and self.processed else None


def _store(drain: Drain, event_prefix: str) -> None:
    command = [sys.executable, str(Path(__file__).with_name("flash_sale_store.py"))]
    command += ["--count", str(drain.orders), "--first-number", str(FIRST_NUMBER)]
    command += ["--event-prefix", event_prefix]
    done = subprocess.run(
        command,
        cwd=stack.ROOT,
        env=stack.postgres_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"storing the flash sale failed:\n{done.stdout}\n{done.stderr}")
    stored = json.loads(done.stdout.strip().splitlines()[-1])
    if stored["stored"] != drain.orders:
        raise RuntimeError(f"stored {stored['stored']} deliveries, wanted {drain.orders}")
    drain.store_seconds = stored["seconds"]
    drain.line_items_expected = stored["line_items"]
    drain.returning_customers = stored["returning_customers"]
    drain.body_bytes = stored["body_bytes"]


def _clear_intake() -> int:
    """Delete the intake's deliveries (copies of one order, already counted): a dispatch round
    claims every waiting delivery, and only the flash sale's may be waiting."""
    removed = stack.execute(
        "DELETE FROM orders_webhookevent WHERE provider = 'shopify' AND event_id LIKE 'bench-%%'"
    )
    waiting = stack.query(
        "SELECT count(*) AS n FROM orders_webhookevent "
        "WHERE status = 'received' AND dispatched_at IS NULL"
    )[0]["n"]
    if waiting:
        raise RuntimeError(f"{waiting} deliveries other than the flash sale's are waiting")
    return removed


def _statuses(pattern: str) -> tuple[dict[str, int], int, float | None]:
    """Deliveries by status, how many are not yet claimed, and the last processing time."""
    rows = stack.query(
        "SELECT status, count(*) AS n, count(*) FILTER (WHERE dispatched_at IS NULL) AS todo, "
        "extract(epoch FROM max(processed_at)) AS last "
        "FROM orders_webhookevent WHERE event_id LIKE %s GROUP BY status",
        (pattern,),
    )
    lasts = [float(r["last"]) for r in rows if r["last"] is not None]
    return (
        {r["status"]: r["n"] for r in rows},
        sum(r["todo"] for r in rows),
        max(lasts, default=None),
    )


def _run(drain: Drain, pattern: str, folder: Path) -> float:
    """Start the worker, ask for dispatch, wait for the backlog; returns the start (epoch)."""
    with stack.celery_worker(concurrency=drain.concurrency, log=folder / "celery.log"):
        app = stack.celery_app()
        try:
            # Enough rounds up front for the whole backlog: they claim disjoint batches
            # (SKIP LOCKED), so the worker never waits for the next batch to be claimed.
            started = time.time()
            for _ in range(math.ceil(drain.orders / ROUND_LIMIT)):
                app.send_task(DISPATCH_TASK)
                drain.dispatch_rounds += 1
            asked = time.monotonic()
            deadline = asked + drain.timeout_s
            while time.monotonic() < deadline:
                time.sleep(_POLL_S)
                statuses, unclaimed, _ = _statuses(pattern)
                if statuses.get("received", 0) == 0:
                    return started
                if unclaimed and time.monotonic() - asked > _REASK_S:
                    app.send_task(DISPATCH_TASK)
                    drain.dispatch_rounds += 1
                    asked = time.monotonic()
            return started
        finally:
            app.close()


def _count(drain: Drain, pattern: str, started: float) -> None:
    statuses, _, last = _statuses(pattern)
    drain.processed = statuses.get("processed", 0)
    drain.failed = statuses.get("failed", 0)
    drain.ignored = statuses.get("ignored", 0)
    drain.waiting = statuses.get("received", 0)
    if drain.waiting == 0 and last is not None:
        drain.seconds = last - started
    external_ids = [str(ORDER_ID_BASE + FIRST_NUMBER + n) for n in range(drain.orders)]
    created = stack.query(
        "SELECT count(DISTINCT o.id) AS orders, count(li.id) AS items FROM orders_order o "
        "LEFT JOIN orders_lineitem li ON li.order_id = o.id WHERE o.external_id = ANY(%s)",
        (external_ids,),
    )[0]
    drain.orders_created, drain.line_items_created = created["orders"], created["items"]
    events = stack.query(
        "SELECT count(*) AS n, count(*) FILTER (WHERE NOT is_fully_delivered) AS pending "
        "FROM postpurchase_domainevent WHERE occurred_at >= to_timestamp(%s)",
        (started,),
    )[0]
    drain.domain_events, drain.domain_events_pending = events["n"], events["pending"]
    drain.errors = [
        f"{r['status']}: {r['error']}"
        for r in stack.query(
            "SELECT status, error FROM orders_webhookevent WHERE event_id LIKE %s "
            "AND status <> 'processed' AND error <> '' GROUP BY status, error LIMIT 3",
            (pattern,),
        )
    ]


def measure(*, orders: int, concurrency: int, timeout_s: int, folder: Path) -> Drain:
    """Store `orders` deliveries, process them with a real worker, count what came out."""
    drain = Drain(orders=orders, concurrency=concurrency, timeout_s=timeout_s)
    prefix = f"flash-{int(time.time())}"
    pattern = f"{prefix}-%"
    # The intake's dispatch asks are still in Redis, with countdowns: they would start rounds
    # before the clock does.
    stack.redis_purge()
    _clear_intake()
    print(f"storing {orders:,} flash-sale deliveries ...", flush=True)
    _store(drain, prefix)
    # Fresh statistics and no dead rows from the intake's deletion, as a database at rest.
    stack.execute("VACUUM ANALYZE orders_webhookevent")
    print(f"  {drain.store_seconds:.1f} s; processing with celery ...", flush=True)
    started = _run(drain, pattern, folder)
    _count(drain, pattern, started)
    stack.redis_purge()
    return drain
