"""The customer's tracking page under load: which seeded order to load, the tokens of every
demo order for the uncached run, emptying the page cache, and the in-process probe.

The page is cached in Redis per order and version, so a repeated view of one order is the
steady state (one SQL statement, the page from Redis, the view counted in Redis); the first
view of an order's version renders it (the order's items, shipments, scans and
recommendations, then the templates)."""

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import redis

from bench import stack

PROBE = Path(__file__).with_name("tracking_probe.py")
# Django's Redis cache keys: KEY_PREFIX "pp", version 1, then the view's "track:<pk>:<part>:...".
PAGE_KEYS = "pp:1:track:*"

# A typical order in the seeded shape, best first: several items, delivered (most demo orders
# are), and either one parcel with a usual run of scans or two parcels.
_TYPICAL = """
WITH li AS (SELECT order_id, count(*) AS n FROM orders_lineitem GROUP BY order_id),
     sh AS (SELECT order_id, count(*) AS n FROM orders_shipment GROUP BY order_id),
     ev AS (SELECT s.order_id, count(*) AS n FROM orders_trackingevent e
            JOIN orders_shipment s ON s.id = e.shipment_id GROUP BY s.order_id)
SELECT o.id, o.number, o.status, o.tracking_token, li.n AS items, sh.n AS parcels,
       ev.n AS scans
FROM orders_order o
JOIN orders_shop shop ON shop.id = o.shop_id
JOIN li ON li.order_id = o.id JOIN sh ON sh.order_id = o.id JOIN ev ON ev.order_id = o.id
WHERE shop.slug = 'demo' AND o.customer_id IS NOT NULL AND li.n >= %s
  AND o.status = ANY(%s)
  AND ((sh.n = 1 AND ev.n BETWEEN 6 AND 10) OR sh.n = 2)
ORDER BY o.placed_at DESC, o.id DESC
LIMIT 1
"""


@dataclass(frozen=True)
class TrackedOrder:
    pk: int
    number: str
    status: str
    token: str
    items: int
    parcels: int
    scans: int


@dataclass
class Tracking:
    order: TrackedOrder
    tokens: int  # orders the uncached run walks through
    tokens_file: Path
    probe: dict = field(default_factory=dict)
    probe_error: str = ""
    cache_purges: int = 0


def typical_order() -> TrackedOrder:
    """The newest demo order with three or more items (else two), delivered (else shipped)."""
    for items, statuses in ((3, ["delivered"]), (2, ["delivered"]), (2, ["delivered", "shipped"])):
        rows = stack.query(_TYPICAL, (items, statuses))
        if rows:
            r = rows[0]
            return TrackedOrder(
                pk=r["id"],
                number=r["number"],
                status=r["status"],
                token=r["tracking_token"],
                items=r["items"],
                parcels=r["parcels"],
                scans=r["scans"],
            )
    raise RuntimeError("no seeded order with several items and a shipment with scans")


def prepare(folder: Path) -> Tracking:
    """The seeded order the steady state loads, and every demo order's token, in an order
    that mixes them (fixed, so that runs are comparable), for the uncached run."""
    rows = stack.query(
        "SELECT o.tracking_token AS token FROM orders_order o "
        "JOIN orders_shop s ON s.id = o.shop_id WHERE s.slug = 'demo' ORDER BY md5(o.id::text)"
    )
    tokens_file = folder / "tracking_tokens.txt"
    tokens_file.write_text("".join(f"{r['token']}\n" for r in rows))
    return Tracking(order=typical_order(), tokens=len(rows), tokens_file=tokens_file)


def page_cache_purge() -> int:
    """Every cached tracking page (and partial) on the benchmark's Redis db; returns how many.
    The view counts (`pp:track:views:*`) stay: they are not the page's cache."""
    client = redis.Redis.from_url(stack.REDIS_URL, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=PAGE_KEYS, count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
        return len(keys)
    finally:
        client.close()


def probe(tracking: Tracking, repeat: int = 300) -> None:
    """The in-process measurements, run with no server (see tracking_probe.py)."""
    done = subprocess.run(
        [
            sys.executable,
            str(PROBE),
            "measure",
            "--token",
            tracking.order.token,
            "--repeat",
            str(repeat),
        ],
        cwd=stack.ROOT,
        env=stack.production_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        tracking.probe_error = f"{done.stdout}\n{done.stderr}"[-1500:]
        return
    tracking.probe = json.loads(done.stdout.strip().splitlines()[-1])
