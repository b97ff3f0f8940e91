"""The loyalty ledger's numbers: what booking an order's points costs the ingest path, a
balance read for a customer with 10,000 entries, and the nightly drift check over 1,000,000
entries.

1. Earning: one shop with an active programme (one tier with a 1.25x multiplier), N paid
   orders of three lines each made by the tests' factories (half from customers who are
   members already, half from new ones; half of the customers accept marketing, so their
   "points earned" message is scheduled), then `order_points_earn` (what the `order_paid`
   subscriber runs) timed per order in one process: median, p99 and the SQL statements.
2. Balance: one member's 10,000 entries booked by SQL (below), then the read the product
   uses for a balance, the member row by customer, timed over many reads; its plan and its
   statement count.
3. Drift check: 1,000,000 entries over 50,000 members booked by SQL, then `ledger_check`
   (the nightly task's service) timed over every member in the database.

The entries are booked in bulk (`INSERT … SELECT` over `generate_series`), not through
`entry_book`: pairs of an EARN (pending +n) and its CONFIRM (pending -n, available +n, with
its lot), so every member's pending sum is 0 and available sum is n x pairs; each member row
holds its entries' sums and each lot its points, as `entry_book` would have left them
(`ledger_fill`; tests/loyalty/test_bench_fill.py checks the drift check finds nothing).

    python bench/loyalty.py                    # its own database, created and dropped
    python bench/loyalty.py --entries 100000   # a smaller drift check
    python bench/loyalty.py --database-url postgres://…/db   # an existing migrated database

`bench/run.py` calls `measure` on its own database; its figures are targets of the report.
The probe runs with the test settings (the factories make the orders), on the real
database and its indexes.
"""

import argparse
import gzip
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import stack
from bench.tracking_probe import percentile

EARN_TARGET_MS = 2.0
BALANCE_TARGET_MS = 1.0
CHECK_TARGET_S = 30.0
ORDERS = 400
LINES = 3
BALANCE_ENTRIES = 10_000
BALANCE_READS = 2_000
ENTRIES = 1_000_000
MEMBERS = 50_000
STANDALONE_DB = "pp_bench_loyalty"
# The customer's loyalty page in the interleaved wrk rounds, against the one-row read.
PAGE = "loyalty_page"
PAGE_LABEL = "`GET /loyalty/<token>/` (customer's loyalty page, cached)"
PAGE_RATIO_TARGET = 1.0
PAGE_ENTRIES = 40
PAGE_READS = 1_000


@dataclass
class LoyaltyBench:
    orders: int = ORDERS
    lines: int = LINES
    earn_ms: list[float] = field(default_factory=list)  # median, p99, mean
    earn_cpu_ms: float | None = None  # median CPU time of this process per order
    earn_queries: list[int] = field(default_factory=list)  # new member, returning member
    # Median per order of the returning members' orders and of the new members' (who join,
    # and get their first tier, in the same transaction): the p50 above mixes the two halves.
    earn_ms_split: list[float] = field(default_factory=list)  # returning, new
    earn_entries: int = 0
    balance_entries: int = 0
    balance_reads: int = BALANCE_READS
    balance_ms: list[float] = field(default_factory=list)  # median, p99
    balance_db_ms: float | None = None  # median server execution time (EXPLAIN ANALYZE)
    balance_statements: int = 0
    balance_plan: str = ""
    check_entries: int = 0
    check_members: int = 0
    fill_members: int = 0
    fill_seconds: float = 0.0
    check_seconds: float | None = None
    check_drift: int = 0
    # Whether the database's demo shop (the flash sale's) runs an active programme; None: no
    # demo shop (the bench's own database).
    demo_programme: bool | None = None
    # The machine's 1-minute load average before and after the probe: the cores are shared.
    load_before: float | None = None
    load_after: float | None = None
    # The loyalty page in this one process (`_page`): the cached view's SQL statements and
    # Redis round trips, the rendering view's statements, its size (bytes, gzipped), and
    # median wall times of the cached view, the rendering view and the one-row read.
    page_queries: int | None = None
    page_redis_round_trips: int | None = None
    page_render_queries: int | None = None
    page_bytes: int = 0
    page_gzip_bytes: int = 0
    page_ms: float | None = None
    page_render_ms: float | None = None
    one_row_ms: float | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def page_ratio(self) -> float | None:
        """The cached page's throughput against the one-row read's in one process (the
        inverse of their median times)."""
        if not self.page_ms or not self.one_row_ms:
            return None
        return self.one_row_ms / self.page_ms

    @property
    def balance_index_scan(self) -> bool:
        return "Index Scan" in self.balance_plan or "Index Only Scan" in self.balance_plan


# --- filling the ledger by SQL ---------------------------------------------------------------


def ledger_fill(*, shop_id: int, customers: int, entries_per_member: int) -> int:
    """`customers` new customers of the shop, each a member with `entries_per_member` entries
    (rounded down to pairs), their lots, and member rows equal to the sums. Bench only: the
    product books through `loyalty.ledger.entry_book`. Returns the entries inserted.

    Each step is one statement, and the tables it reads are analysed first. Postgres checks
    a foreign key row by row with a plan it keeps per connection, made from the statistics of
    the moment: in a database analysed while the loyalty tables were empty (the feedback
    dashboard's fill analyses everything), a check planned as a scan of a "small" table
    repeats that scan for each of a million rows, and the fill ran for many minutes.
    ANALYZE renews the statistics and drops the kept plans. The members are inserted with
    their balances (their entries' sums are known in advance), and the entries and their lots
    in one statement, so no step reads back the million rows another one wrote."""
    from django.db import connection
    from django.utils import timezone

    from orders.models import Customer

    pairs = max(entries_per_member // 2, 1)
    stamp = int(time.time() * 1000)
    template = Customer.objects.create(
        shop_id=shop_id, external_id=f"bench-fill-{stamp}", email=f"fill-{stamp}@example.org"
    )
    tag = f"bf{stamp}"
    now = timezone.now()
    # Points per entry of a member (the same for its row and its entries); `%%`: a parameter
    # marker would be `%s`.
    points = "(10 + {}.customer_id %% 40)"
    with connection.cursor() as c:
        _clone(
            c,
            "orders_customer",
            template.pk,
            f"SELECT g FROM generate_series(1, {customers - 1}) g",
            {
                "external_id": f"'{tag}-' || s.g",
                "email": f"'{tag}-' || s.g || '@example.org'",
            },
        )
        c.execute("ANALYZE orders_customer")
        # The member rows, as entry_book leaves them: available is the sum of n per pair,
        # pending the sum of +n and -n.
        balance = f"{points.format('c')} * {pairs}"
        c.execute(
            "INSERT INTO loyalty_member (shop_id, customer_id, available, pending, reserved, "
            "lifetime_earned, lifetime_redeemed, lifetime_expired, referral_code, created_at, "
            f"updated_at) SELECT c.shop_id, c.id, {balance}, 0, 0, {balance}, 0, 0, "
            "upper(substr(md5('r' || c.id), 1, 12)), %s, %s "
            "FROM (SELECT shop_id, id, id AS customer_id FROM orders_customer "
            "WHERE shop_id = %s AND (external_id LIKE %s OR id = %s)) c",
            [now, now, shop_id, f"{tag}-%", template.pk],
        )
        c.execute("ANALYZE loyalty_member")
        members = (
            "SELECT m.id, m.customer_id FROM loyalty_member m "
            "JOIN orders_customer c ON c.id = m.customer_id "
            f"WHERE m.shop_id = {int(shop_id)} AND (c.external_id LIKE '{tag}-%%' "
            f"OR c.id = {int(template.pk)})"
        )
        # Entry i of a member: pair j = i / 2, an EARN (even i) then its CONFIRM (odd i), n
        # points each, an hour apart, the newest an hour ago; each CONFIRM opens its lot.
        c.execute(
            "WITH e AS (INSERT INTO loyalty_ledgerentry (shop_id, member_id, kind, "
            "available_delta, pending_delta, available_after, pending_after, subject, "
            "subject_id, reason, written_off, tier_name, idempotency_key, created_at) "
            "SELECT %s, m.id, CASE WHEN i %% 2 = 0 THEN 'earn' ELSE 'confirm' END, "
            "CASE WHEN i %% 2 = 0 THEN 0 ELSE n END, CASE WHEN i %% 2 = 0 THEN n ELSE -n END, "
            "(i / 2 + i %% 2) * n, CASE WHEN i %% 2 = 0 THEN n ELSE 0 END, 'order', i / 2, "
            "'order bench', 0, '', %s || ':' || m.id || ':' || i, "
            "%s - ((%s - i) || ' hours')::interval "
            f"FROM ({members}) m, LATERAL (SELECT {points.format('m')} AS n) p, "
            "generate_series(0, %s) i "
            "RETURNING id, shop_id, member_id, available_delta, created_at), "
            "l AS (INSERT INTO loyalty_pointlot (shop_id, member_id, entry_id, points, "
            "remaining, available_at) SELECT shop_id, member_id, id, available_delta, "
            "available_delta, created_at FROM e WHERE available_delta > 0 RETURNING 1) "
            "SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM l)",
            [shop_id, tag, now, 2 * pairs, 2 * pairs - 1],
        )
        inserted = c.fetchone()[0]
        c.execute("ANALYZE loyalty_ledgerentry")
        c.execute("ANALYZE loyalty_pointlot")
    return int(inserted)


def _clone(cursor: Any, table: str, template_id: int, source: str, overrides: dict) -> int:
    from bench.feedback_dashboard import _clone as clone

    return clone(cursor, table, template_id, source, overrides)


# --- the probe: one process with Django, on a migrated database -------------------------


def _shop(factories: Any, name: str) -> Any:
    # Named outright: the factories' sequences start again in every process, and other
    # probes have used them on this database.
    slug = f"{name}-{time.time_ns()}"
    return factories.ShopFactory(slug=slug, domain=f"{slug}.myshopify.com")


def _earning(result: LoyaltyBench, factories: Any) -> None:
    from decimal import Decimal

    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from loyalty.earning.orders import order_points_earn
    from loyalty.ledger import member_for
    from loyalty.models import LedgerEntry, Member, Programme, Tier

    shop = _shop(factories, "bench-loyalty")
    Programme.objects.create(shop=shop, points_per_unit=Decimal("1.00"), expiry_months=12)
    tier = Tier.objects.create(shop=shop, name="Silver", rank=1, earn_multiplier=Decimal("1.25"))
    orders = []
    warm, counted = 20, 40
    for i in range(warm + result.orders + counted):
        customer = factories.CustomerFactory(shop=shop)
        if i % 2 == 0:
            factories.ConsentFactory(customer=customer, purpose="marketing")
        if i % 4 < 2:
            # A returning customer: already a member, in a tier.
            Member.objects.filter(pk=member_for(customer).pk).update(tier=tier)
        order = factories.OrderFactory(shop=shop, customer=customer)
        for _ in range(result.lines):
            factories.LineItemFactory(order=order, unit_price=Decimal("19.99"), quantity=2)
        orders.append(order.pk)
    for order_id in orders[:warm]:
        order_points_earn(order_id=order_id)
    timings = []
    cpu = []
    by_member: dict[bool, list[float]] = {True: [], False: []}
    timed = orders[warm : warm + result.orders]
    for i, order_id in enumerate(timed):
        started, cpu_started = time.perf_counter(), time.process_time()
        order_points_earn(order_id=order_id)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        by_member[(warm + i) % 4 < 2].append(timings[-1])
    result.earn_ms_split = [
        round(statistics.median(by_member[returning]), 2) for returning in (True, False)
    ]
    result.earn_cpu_ms = round(statistics.median(cpu), 2)
    # Counted apart from the timed ones: capturing the statements slows each one down.
    counts: dict[bool, list[int]] = {True: [], False: []}
    for i, order_id in enumerate(orders[warm + result.orders :]):
        returning = (warm + result.orders + i) % 4 < 2
        # The log keeps the last 9,000 statements only, and a full log counts none.
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            order_points_earn(order_id=order_id)
        counts[returning].append(len(queries))
    result.earn_ms = [
        round(statistics.median(timings), 2),
        round(percentile(timings, 0.99), 2),
        round(statistics.fmean(timings), 2),
    ]
    result.earn_queries = [
        int(statistics.median(counts[False])),
        int(statistics.median(counts[True])),
    ]
    result.earn_entries = LedgerEntry.objects.filter(order_id__in=timed).count()


def _balance(result: LoyaltyBench, factories: Any) -> None:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from loyalty.models import Member

    shop = _shop(factories, "bench-balance")
    result.balance_entries = ledger_fill(
        shop_id=shop.pk, customers=1, entries_per_member=BALANCE_ENTRIES
    )
    member = Member.objects.get(shop=shop)
    customer_id = member.customer_id

    def read() -> Member | None:
        # What member_for and the pages read for a balance: the member row by its customer.
        return Member.objects.filter(customer_id=customer_id).first()

    read()
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        read()
    result.balance_statements = len(queries)
    with connection.cursor() as c:
        sql, params = (
            Member.objects.filter(customer_id=customer_id)
            .order_by("pk")[:1]
            .query.sql_with_params()
        )
        c.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql, params)
        result.balance_plan = "\n".join(row[0] for row in c.fetchall())
        executions = []
        for _ in range(200):
            c.execute("EXPLAIN (ANALYZE, SUMMARY ON, FORMAT JSON) " + sql, params)
            plan = c.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            executions.append(plan[0]["Execution Time"])
        result.balance_db_ms = round(statistics.median(executions), 3)
    timings = []
    for _ in range(result.balance_reads):
        started = time.perf_counter()
        read()
        timings.append((time.perf_counter() - started) * 1000)
    result.balance_ms = [round(statistics.median(timings), 3), round(percentile(timings, 0.99), 3)]


def _drift_check(result: LoyaltyBench, entries: int, members: int, factories: Any) -> None:
    from loyalty.earning.ledger_check import ledger_check
    from loyalty.models import LedgerEntry, Member

    shop = _shop(factories, "bench-check")
    started = time.perf_counter()
    ledger_fill(shop_id=shop.pk, customers=members, entries_per_member=entries // members)
    result.fill_members = members
    result.fill_seconds = round(time.perf_counter() - started, 1)
    result.check_entries = LedgerEntry.objects.count()
    started = time.perf_counter()
    run = ledger_check()
    result.check_seconds = round(time.perf_counter() - started, 2)
    result.check_members = run.members_checked
    result.check_drift = len(run.drift)
    if Member.objects.count() != run.members_checked:
        result.errors.append("the check did not read every member")


def _page(result: LoyaltyBench, factories: Any) -> None:
    """The customer's loyalty page through Django's whole request handling, in this process:
    one view that renders it (and stores it), then the cached view, against the one-row read
    (`/bench/order/<pk>`, the reference of the wrk rounds)."""
    from django.test import Client

    from bench.tracking_probe import statements_of, timed
    from loyalty.models import Member
    from loyalty.pages.cache import member_page_stale
    from orders.models import Order

    path, customer_id = _page_member()
    member_id = Member.objects.get(customer_id=customer_id).pk
    client = Client(HTTP_HOST="127.0.0.1")
    order = Order.objects.order_by("pk").values_list("pk", flat=True).first()
    if order is None:
        order = factories.OrderFactory().pk

    def get(url: str) -> Any:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        return response

    def rendered() -> Any:
        member_page_stale(member_id)
        return get(path)

    result.page_render_queries = statements_of(rendered)["queries"]
    cached = statements_of(lambda: get(path))
    result.page_queries = cached["queries"]
    result.page_redis_round_trips = cached["redis_round_trips"]
    body = get(path).content
    result.page_bytes = len(body)
    result.page_gzip_bytes = len(gzip.compress(body))
    result.page_ms = round(timed(lambda: get(path), PAGE_READS)["median"], 3)
    result.one_row_ms = round(timed(lambda: get(f"/bench/order/{order}"), PAGE_READS)["median"], 3)
    result.page_render_ms = round(
        timed(lambda: get(path), PAGE_READS // 4, before=lambda: member_page_stale(member_id))[
            "median"
        ],
        3,
    )


def _probe(orders: int, entries: int, members: int) -> dict:
    import django

    django.setup()
    from loyalty.models import Programme
    from orders.models import Shop

    factories: Any = importlib.import_module("tests.factories")
    result = LoyaltyBench(orders=orders, load_before=os.getloadavg()[0])
    if Shop.objects.filter(slug="demo").exists():
        result.demo_programme = Programme.objects.filter(shop__slug="demo", is_active=True).exists()
    if orders > 0:
        _earning(result, factories)
    if entries > 0:
        _drift_check(result, entries, members, factories)
    # After the drift check's fill: the member table at its size, as the planner sees it.
    _balance(result, factories)
    _page(result, factories)
    result.load_after = os.getloadavg()[0]
    return asdict(result)


# --- running it -----------------------------------------------------------------------------


def measure(
    *,
    orders: int = ORDERS,
    entries: int = ENTRIES,
    members: int = MEMBERS,
    database_url: str = stack.DATABASE_URL,
    redis_url: str = stack.REDIS_URL,
) -> LoyaltyBench:
    """The probe in its own process, on `database_url`."""
    print(f"loyalty: {orders} orders earning, {entries:,} entries checked ...", flush=True)
    env = {
        **stack.postgres_env(),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "postpurchase.settings.test",
        # The one-row read the page is measured against.
        "BENCH_ENDPOINTS": "1",
    }
    command = [sys.executable, __file__, "--probe", "--orders", str(orders)]
    command += ["--entries", str(entries), "--members", str(members)]
    done = subprocess.run(
        command, cwd=stack.ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    if done.returncode != 0:
        return LoyaltyBench(orders=orders, errors=[(done.stderr or done.stdout)[-2000:]])
    return LoyaltyBench(**json.loads(done.stdout.strip().splitlines()[-1]))


# --- the report's parts ---------------------------------------------------------------------


def _failed(r: LoyaltyBench) -> str:
    return "not measured: " + "; ".join(e[-200:] for e in r.errors)


def targets(r: LoyaltyBench) -> list[tuple[str, str, str, str]]:
    found = []
    what = f"loyalty: booking an order's points ({r.lines} lines), per order, in one process (p50)"
    goal = f"< {EARN_TARGET_MS:.0f} ms"
    if r.earn_ms:
        ok = r.earn_ms[0] < EARN_TARGET_MS
        measured = f"{r.earn_ms[0]:.2f} ms (p99 {r.earn_ms[1]:.2f} ms)"
        found.append((what, goal, measured, "PASS" if ok else "FALL SHORT"))
    elif r.orders:
        found.append((what, goal, _failed(r), "FALL SHORT"))
    what = f"loyalty: balance of a customer with {BALANCE_ENTRIES:,} entries (p50, one read)"
    goal = f"< {BALANCE_TARGET_MS:.0f} ms, 1 statement, index scan"
    if r.balance_ms:
        ok = (
            r.balance_ms[0] < BALANCE_TARGET_MS
            and r.balance_statements == 1
            and r.balance_index_scan
        )
        measured = (
            f"{r.balance_ms[0]:.3f} ms (p99 {r.balance_ms[1]:.3f} ms), "
            f"{r.balance_statements} statement, "
            f"{'index scan' if r.balance_index_scan else 'NO index scan'}"
        )
        found.append((what, goal, measured, "PASS" if ok else "FALL SHORT"))
    else:
        found.append((what, goal, _failed(r), "FALL SHORT"))
    what = f"loyalty: nightly drift check over {r.check_entries:,} entries"
    goal = f"< {CHECK_TARGET_S:.0f} s"
    if r.check_seconds is not None:
        ok = r.check_seconds < CHECK_TARGET_S and r.check_drift == 0 and not r.errors
        measured = f"{r.check_seconds:.1f} s, {r.check_drift} drifted"
        found.append((what, goal, measured, "PASS" if ok else "FALL SHORT"))
    elif r.check_entries or r.errors:
        found.append((what, goal, _failed(r), "FALL SHORT"))
    if r.page_ratio is not None:
        what = "loyalty page, cached, in one process: throughput / one-row read's"
        goal = f"≥ {PAGE_RATIO_TARGET:.1f}, 0 SQL statements"
        ok = r.page_ratio >= PAGE_RATIO_TARGET and r.page_queries == 0
        measured = (
            f"{r.page_ratio:.2f} ({r.page_ms:.3f} ms against {r.one_row_ms:.3f} ms){_page_facts(r)}"
        )
        found.append((what, goal, measured, "PASS" if ok else "FALL SHORT"))
    return found


def console(r: LoyaltyBench) -> list[str]:
    if r.errors and not r.balance_ms:
        return [f"loyalty: failed: {r.errors[:1]}"]
    lines = []
    if r.earn_ms:
        lines.append(
            f"loyalty earning: {r.orders} orders x {r.lines} lines: median {r.earn_ms[0]:.2f} ms, "
            f"p99 {r.earn_ms[1]:.2f} ms, mean {r.earn_ms[2]:.2f} ms per order "
            f"(CPU of the process {r.earn_cpu_ms} ms); "
            f"{r.earn_queries[0]} statements (new member) / {r.earn_queries[1]} (returning)"
        )
        if r.earn_ms_split:
            lines.append(
                f"loyalty earning by member: median {r.earn_ms_split[0]:.2f} ms (returning), "
                f"{r.earn_ms_split[1]:.2f} ms (new: joins and gets a tier)"
            )
    if r.balance_ms:
        lines.append(
            f"loyalty balance ({r.balance_entries:,} entries): median {r.balance_ms[0]:.3f} ms, "
            f"p99 {r.balance_ms[1]:.3f} ms over {r.balance_reads:,} reads "
            f"(in Postgres {r.balance_db_ms} ms); "
            f"{r.balance_statements} statement; "
            f"{'index scan' if r.balance_index_scan else 'no index scan'}"
        )
    if r.check_seconds is not None:
        lines.append(
            f"loyalty drift check: {r.check_entries:,} entries, {r.check_members:,} members in "
            f"{r.check_seconds:.1f} s ({r.check_drift} drifted; filled in {r.fill_seconds:.1f} s)"
        )
    if r.page_ratio is not None:
        lines.append(
            f"loyalty page, cached: median {r.page_ms:.3f} ms against the one-row read's "
            f"{r.one_row_ms:.3f} ms in one process ({r.page_ratio:.2f}x); rendered: "
            f"{r.page_render_ms:.3f} ms{_page_facts(r)}"
        )
    return lines


def section(r: LoyaltyBench, drain: Any = None) -> list[str]:
    """The results; `drain` the run's flash sale (bench.flash_sale.Drain), if measured."""
    if r.errors and not r.balance_ms:
        return ["### Loyalty ledger", "", "Not measured: " + "; ".join(r.errors)[:500]]
    lines = ["### Loyalty ledger", ""]
    lines += ["| measurement | median | p99 | statements | goal |", "|---|---:|---:|---:|---|"]
    if r.earn_ms:
        lines.append(
            f"| `order_points_earn`, {r.lines} lines, per order (in one process) | "
            f"**{r.earn_ms[0]:.2f} ms** | {r.earn_ms[1]:.2f} ms | {r.earn_queries[0]} new member, "
            f"{r.earn_queries[1]} returning | < {EARN_TARGET_MS:.0f} ms |"
        )
    if r.balance_ms:
        lines.append(
            f"| balance read, member with {r.balance_entries:,} entries | "
            f"**{r.balance_ms[0]:.3f} ms** | {r.balance_ms[1]:.3f} ms | {r.balance_statements} | "
            f"< {BALANCE_TARGET_MS:.0f} ms, one indexed read |"
        )
    if r.check_seconds is not None:
        lines.append(
            f"| nightly drift check, {r.check_entries:,} entries, {r.check_members:,} members | "
            f"**{r.check_seconds:.1f} s** | - | - | < {CHECK_TARGET_S:.0f} s |"
        )
    if r.page_ratio is not None:
        lines.append(
            f"| loyalty page, cached (in one process; one-row read {r.one_row_ms:.3f} ms) | "
            f"**{r.page_ms:.3f} ms** | - | {r.page_queries} SQL, "
            f"{r.page_redis_round_trips} Redis round trip | ≥ {PAGE_RATIO_TARGET:.1f}x the "
            "one-row read |"
        )
        lines.append(
            f"| loyalty page, rendered and stored (a view after a change) | "
            f"{r.page_render_ms:.3f} ms | - | {r.page_render_queries} | - |"
        )
    lines.append("")
    per_order = getattr(drain, "per_order_ms", None)
    if r.earn_ms and per_order:
        events = getattr(drain, "domain_events", 0)
        owed = getattr(drain, "domain_events_pending", 0)
        if r.demo_programme is False:
            programme = "no loyalty programme for the demo shop, so booking points is not in it"
        elif events and owed == events:
            programme = (
                "none of its domain events, `order_paid` among them, had been delivered when it "
                "ended, so booking points is not in it"
            )
        elif owed:
            programme = f"{owed:,} of its {events:,} domain events were still to be delivered"
        else:
            programme = "every domain event delivered, so booking points is in it"
        lines += [
            f"The flash sale above took {per_order:.1f} ms of wall time per order with its whole "
            f"worker busy ({programme}); booking an order's points costs {r.earn_ms[2]:.2f} ms "
            "on average in one process, in the task that delivers `order_paid` after the "
            "order's commit.",
            "",
        ]
    if r.earn_cpu_ms is not None:
        lines += [
            f"Of an order's booking, this process's own CPU time (Django, the driver) was "
            f"{r.earn_cpu_ms:.2f} ms at the median; the rest of the wall time is Postgres and "
            "waiting for a core.",
            "",
        ]
    if r.balance_plan:
        lines += [
            f"The balance read's plan (Postgres executes it in {r.balance_db_ms} ms at the "
            "median; the rest of the figure above is Django, the driver and the round trip):",
            "",
            "```",
            r.balance_plan,
            "```",
            "",
        ]
    if r.check_seconds is not None:
        lines.append(
            f"The drift check found {r.check_drift} drifted members; filling the ledger took "
            f"{r.fill_seconds:.1f} s (not timed)."
        )
    if r.load_before is not None:
        lines.append(
            f"Load average (1 min) when the probe started: {r.load_before:.2f}, when it ended: "
            f"{r.load_after or 0:.2f} ({os.cpu_count()} cores)."
        )
    return lines


def method(r: LoyaltyBench) -> list[str]:
    return [
        "- **Loyalty ledger.** `bench/loyalty.py`, one process with the test settings on the "
        f"real database. *Earning:* a shop with an active programme and a 1.25x tier; "
        f"{r.orders} paid orders of {r.lines} lines by the tests' factories, half from members "
        "already in the tier, half from new customers (membership created), half of the "
        "customers accepting marketing (their pending-points message is scheduled); "
        "`order_points_earn`, what the `order_paid` subscriber runs, timed per order after 20 "
        "warm-up orders (its SQL statements counted over 40 more, apart). This is the "
        "in-process cost loyalty adds to an order; in the flash sale it runs in the Celery "
        "task that delivers `order_paid` after the order's commit, not in the order's own "
        "transaction. This in-process figure "
        "is the primary one: the flash sale was not run twice, with and without a programme, "
        "as a difference of a millisecond or two per order would be within the spread of two "
        "runs on a shared two-core machine. *Balance:* "
        f"{r.balance_entries:,} entries for one member inserted by `INSERT … SELECT` over "
        "`generate_series` (pairs of a pending EARN and its CONFIRM with a lot, the member row "
        "set to the sums), then the member row read by customer (`Member.objects.filter("
        f"customer_id=…).first()`, what `member_for` and the page read) {r.balance_reads:,} "
        "times; its plan by `EXPLAIN ANALYZE`. *Drift check:* "
        f"{r.fill_members:,} members' entries inserted the same way "
        f"(in all {r.check_entries:,} entries "
        "in the database), then `ledger_check`, the nightly task's service, timed over every "
        "member. *Page:* the customer's loyalty page (`/loyalty/<token>/`) of a member with "
        f"{PAGE_ENTRIES} entries, in a shop of its own with a programme, two tiers and two "
        "rewards, is loaded by wrk in the interleaved rounds beside the one-row read; a view "
        "with nothing changed is served from Redis (one Lua script, no SQL), so after the "
        "first request every one is a cached view. The probe also views it in one process "
        f"after the rounds: its SQL statements and Redis round trips, its size, and "
        f"{PAGE_READS:,} cached views against as many one-row reads (medians), and rendered "
        "views with the member's version renewed before each.",
    ]


# --- the loyalty page in the wrk rounds ---------------------------------------------------


def _page_member() -> tuple[str, int]:
    """A shop of its own with an active programme, a tier and two rewards, and a member with
    a history of `PAGE_ENTRIES` entries booked through the ledger; returns the page's path and
    the customer's id. Not the demo shop: the flash sale after the rounds measures the demo
    shop as it is."""
    from decimal import Decimal

    from loyalty.ledger import Booking, entry_book, member_for
    from loyalty.models import EntryKind, Programme, Reward, Subject, Tier
    from loyalty.tokens import loyalty_path
    from orders.models import Customer, Shop

    slug = f"bench-loyalty-page-{time.time_ns()}"
    shop = Shop.objects.create(name="Bench loyalty", slug=slug, domain=f"{slug}.myshopify.com")
    Programme.objects.create(shop=shop, points_per_unit=Decimal("1.00"), expiry_months=12)
    Tier.objects.create(shop=shop, name="Bronze", rank=0, earn_multiplier=Decimal("1.00"))
    Tier.objects.create(
        shop=shop, name="Silver", rank=1, threshold=Decimal("500"), earn_multiplier=Decimal("1.25")
    )
    for points, value in ((500, "5.00"), (1000, "12.00")):
        Reward.objects.create(
            shop=shop,
            name=f"{value} off",
            kind="amount_off",
            value=Decimal(value),
            points_price=points,
        )
    customer = Customer.objects.create(
        shop=shop, external_id=f"{slug}-1", email=f"{slug}@example.org", first_name="Ada"
    )
    member = member_for(customer)
    for n in range(PAGE_ENTRIES):
        entry_book(
            member.pk,
            Booking(EntryKind.EARN, f"review:{n}", Subject.REVIEW, subject_id=n, available=25),
        )
    return loyalty_path(customer), customer.pk


def _page_prepare() -> dict:
    import django

    django.setup()
    path, _customer_id = _page_member()
    return {"path": path}


def page_prepare() -> str:
    """Before the server starts: the loyalty page's path (production settings, the run's key)."""
    return str(stack.django_script(Path(__file__), ["--page-prepare"])["path"])


def _page_facts(r: LoyaltyBench | None) -> str:
    """The cached page's SQL statements, Redis round trips and size, as the probe found them."""
    if r is None or r.page_queries is None:
        return ""
    return (
        f"; {r.page_queries} SQL statements and {r.page_redis_round_trips} Redis round trip "
        f"per view (rendering: {r.page_render_queries} statements), "
        f"{r.page_bytes / 1024:.1f} KB ({r.page_gzip_bytes / 1024:.1f} KB gzipped)"
    )


def page_target(summary: Any, r: LoyaltyBench | None = None) -> tuple[str, str, str, str]:
    """The cached page's rps against the one-row read's in the same rounds (`summary`: the
    run's per-endpoint summaries), with its statements and size from the probe (`r`)."""
    from bench.report import ONE_ROW

    what = "loyalty page: rps / one-row rps"
    goal = f"≥ {PAGE_RATIO_TARGET:.1f}, cached: 0 SQL statements"
    page, row = summary.get(PAGE), summary.get(ONE_ROW)
    if page is None or row is None or not row.rps:
        return what, goal, "no valid run", "NOT MEASURED"
    value = page.rps / row.rps
    measured = f"{value:.2f} ({page.rps:,.0f} against {row.rps:,.0f} requests/s){_page_facts(r)}"
    ok = value >= PAGE_RATIO_TARGET and (r is None or not r.page_queries)
    return what, goal, measured, "PASS" if ok else "FALL SHORT"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=ORDERS)
    parser.add_argument("--entries", type=int, default=ENTRIES)
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--database-url", default="", help="an existing migrated database")
    parser.add_argument("--redis-url", default=stack.REDIS_URL)
    parser.add_argument("--keep-db", action="store_true", help=f"keep {STANDALONE_DB}")
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--page-prepare", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.page_prepare:
        print(json.dumps(_page_prepare()))
        return 0
    if args.probe:
        print(json.dumps(_probe(args.orders, args.entries, args.members)))
        return 0
    with stack.standalone_database(
        STANDALONE_DB, args.database_url, keep=args.keep_db
    ) as database_url:
        result = measure(
            orders=args.orders,
            entries=args.entries,
            members=args.members,
            database_url=database_url,
            redis_url=args.redis_url,
        )
    print("\n".join(console(result)))
    passed = True
    for what, goal, measured, verdict in targets(result):
        print(f"{what}: goal {goal}, measured {measured}: {verdict}")
        passed = passed and verdict == "PASS"
    for error in result.errors:
        print(error)
    return 0 if passed else 1


if __name__ == "__main__":
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.exit(main())
