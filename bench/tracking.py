"""The customer's tracking page under load: which seeded order to load, the tokens of every
demo order for the uncached run, emptying the page cache, and the in-process probe.

The page is cached in Redis (`orders.tracking.cache`), so a repeated view of one order is the
steady state: no SQL statement, one Redis round trip (a Lua script finds the token's order,
its generations and the stored page, and counts the view). An entry lives 60 s at most, so
the steady state includes a render about once a minute. The first view of an order (or the
first after a change) reads the order with its version, then the rest of the page, renders
it and stores it."""

from dataclasses import dataclass, field
from pathlib import Path

import redis

from bench import stack

PROBE = Path(__file__).with_name("tracking_probe.py")
# The page cache's keys (see `orders.tracking.cache`): which order a token opens, the order's
# and the shop's generations, and the stored pages. The view tallies (`pp:track:views:*`) are
# not the page's cache and stay.
TOKEN_KEY = "pp:track:tok:{}"
PAGE_KEY = "pp:track:page:{}:{}:{}:{}"  # order id, part, order generation, shop generation
CACHE_KEYS = ("pp:track:tok:*", "pp:track:gen:*", "pp:track:page:*")

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
    paths_file: Path  # their pages' paths, one a line (`bench/wrk/paths.lua`)
    probe: dict = field(default_factory=dict)
    probe_error: str = ""
    pages_purged: int = 0  # stored pages deleted before the uncached runs
    keys_purged: int = 0  # all the cache's keys deleted (tokens, generations, pages)


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
    paths_file = folder / "tracking_paths.txt"
    paths_file.write_text("".join(f"/track/{r['token']}/\n" for r in rows))
    return Tracking(order=typical_order(), tokens=len(rows), paths_file=paths_file)


def page_cache_purge() -> tuple[int, int]:
    """The whole tracking page cache on the benchmark's Redis db: every token's entry, every
    generation and every stored page (and partial), so that the next view of any order is its
    first. Returns (pages, all keys) deleted."""
    client = redis.Redis.from_url(stack.REDIS_URL, socket_timeout=5)
    try:
        keys = [key for match in CACHE_KEYS for key in client.scan_iter(match=match, count=1000)]
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
        pages = sum(1 for key in keys if key.startswith(b"pp:track:page:"))
        return pages, len(keys)
    finally:
        client.close()


def probe(tracking: Tracking, repeat: int = 300) -> None:
    """The in-process measurements, run with no server (see tracking_probe.py)."""
    args = ["measure", "--token", tracking.order.token, "--repeat", str(repeat)]
    try:
        tracking.probe = stack.django_script(PROBE, args)
    except RuntimeError as exc:
        tracking.probe_error = str(exc)
