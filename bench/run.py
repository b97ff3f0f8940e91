"""`make bench`: seed timing, HTTP throughput (hello world, one-row read, Shopify webhook
intake, the customer's tracking page cached and uncached, the survey's one-tap link, the review
widget and JSON), then flash-sale processing by Celery workers, the outbox, the text analysis
and the feedback numbers page.

One run, on this machine, against 127.0.0.1 only: create `pp_bench`, migrate, time
`seed_demo --scale 1.0`, start gunicorn, warm up, measure each endpoint with
wrk in interleaved rounds, stop gunicorn, measure the tracking page and the feedback pages in
one process, then time a Celery worker turning a backlog of distinct orders/create deliveries
into orders, and the rest; print a table and write docs/performance.md.
Everything it started is stopped and everything it created is removed, whatever happens.
"""

import argparse
import fcntl
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (
    analysis,
    feedback_dashboard,
    feedback_pages,
    feedback_pages_report,
    flash_sale,
    outbox,
    stack,
    tracking,
    tracking_report,
)
from bench.load import Endpoint, Measurement, wrk_run, wrk_version
from bench.report import HELLO, ONE_ROW, WEBHOOK, Run, console, markdown
from bench.shopify_payload import orders_create_body, sign
from bench.tracking_report import TRACKING, TRACKING_UNCACHED

OUTPUT = stack.ROOT / "docs" / "performance.md"
LOCK = Path(tempfile.gettempdir()) / "pp-bench.lock"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--scale", type=float, default=1.0, help="seed_demo scale")
    parser.add_argument(
        "--drain-orders", type=int, default=3000, help="flash-sale deliveries to process (0: skip)"
    )
    parser.add_argument(
        "--drain-concurrency", type=int, default=2, help="celery prefork processes: one per core"
    )
    parser.add_argument(
        "--drain-timeout", type=int, default=240, help="seconds to wait for the flash sale"
    )
    parser.add_argument(
        "--skip-tracking", action="store_true", help="skip the tracking page's measurements"
    )
    parser.add_argument(
        "--skip-feedback-pages",
        action="store_true",
        help="skip the survey's one-tap link and the review widget and JSON",
    )
    parser.add_argument(
        "--skip-outbox", action="store_true", help="skip the outbox (messages) measurements"
    )
    parser.add_argument(
        "--outbox-messages", type=int, default=10_000, help="due emails the outbox sends"
    )
    parser.add_argument(
        "--outbox-timeout", type=int, default=120, help="seconds to wait for the outbox's sends"
    )
    parser.add_argument(
        "--noop-tasks", type=int, default=5000, help="no-op Celery tasks for the drain ceiling"
    )
    parser.add_argument(
        "--skip-postoffice", action="store_true", help="skip the django-post_office comparison"
    )
    parser.add_argument(
        "--claim-rows",
        type=int,
        default=1_000_000,
        help="scheduled rows for the claim-cost measurement (0: skip)",
    )
    parser.add_argument(
        "--analysis-texts",
        type=int,
        default=analysis.TEXTS,
        help="texts for the sentiment and topics round (0: skip)",
    )
    parser.add_argument(
        "--feedback-answers",
        type=int,
        default=feedback_dashboard.ANSWERS,
        help="survey answers for the feedback numbers page (0: skip)",
    )
    parser.add_argument("--keep-db", action="store_true", help="keep pp_bench afterwards")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    return parser.parse_args(argv)


def _prepare(args: argparse.Namespace, run: Run) -> None:
    """Database, migrations, demo data; fills in the seed timings."""
    print(f"creating {stack.DB_NAME} and migrating ...", flush=True)
    stack.database_recreate()
    stack.redis_purge()
    run.seconds["migrate_postgres"] = stack.manage(
        ["migrate", "--noinput", "-v", "0"], stack.postgres_env()
    )
    print(f"seed_demo --scale {args.scale} on PostgreSQL ...", flush=True)
    run.seconds["seed_postgres"] = stack.manage(
        ["seed_demo", "--scale", str(args.scale)], stack.postgres_env()
    )
    print(f"  {run.seconds['seed_postgres']:.1f} s", flush=True)
    # Statistics for the freshly seeded tables, as autovacuum gathers them within a minute or
    # so; without them the planner guesses, and the tracking page's version subqueries with it.
    stack.execute("ANALYZE")


def _targets(folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The seeded facts the load needs: which order to read, and the signed webhook body."""
    shop = stack.query(
        "SELECT id, domain, shopify_webhook_secret FROM orders_shop WHERE slug = 'demo'"
    )[0]
    order = stack.query(
        "SELECT id FROM orders_order WHERE shop_id = %s ORDER BY placed_at DESC LIMIT 1 OFFSET 500",
        (shop["id"],),
    )[0]
    customer = stack.query(
        "SELECT external_id, email, phone, first_name, last_name FROM orders_customer "
        "WHERE shop_id = %s AND phone <> '' ORDER BY id LIMIT 1",
        (shop["id"],),
    )[0]
    variants = stack.query(
        "SELECT v.external_id, v.sku, v.title, v.price, p.title AS product_title, "
        "p.external_id AS product_external_id FROM orders_variant v "
        "JOIN orders_product p ON p.id = v.product_id WHERE v.shop_id = %s ORDER BY v.id LIMIT 3",
        (shop["id"],),
    )
    total = stack.query("SELECT count(*) AS n FROM orders_order")[0]["n"]
    body = orders_create_body(customer=customer, variants=variants, number=90001)
    body_file = folder / "orders_create.json"
    body_file.write_bytes(body)
    webhook_env = {
        "BENCH_BODY_FILE": str(body_file),
        "BENCH_HMAC": sign(shop["shopify_webhook_secret"], body),
        "BENCH_SHOP_DOMAIN": shop["domain"],
    }
    facts = {"order_pk": str(order["id"]), "body_bytes": str(len(body)), "orders": f"{total:,}"}
    return facts, webhook_env


def _measure(
    args: argparse.Namespace,
    base: str,
    facts: dict[str, str],
    webhook_env: dict[str, str],
    run: Run,
) -> None:
    endpoints = [
        Endpoint(HELLO, f"{base}/bench/hello"),
        Endpoint(ONE_ROW, f"{base}/bench/order/{facts['order_pk']}"),
        Endpoint(WEBHOOK, f"{base}/webhooks/shopify/", "shopify_webhook.lua", webhook_env),
    ]
    if run.tracking is not None:
        endpoints += [
            Endpoint(TRACKING, f"{base}/track/{run.tracking.order.token}/"),
            # The path comes from the script, one order after another.
            Endpoint(
                TRACKING_UNCACHED,
                f"{base}/",
                "paths.lua",
                {
                    "BENCH_PATHS_FILE": str(run.tracking.paths_file),
                    "BENCH_WRK_THREADS": str(args.threads),
                },
            ),
        ]
    if run.feedback_pages is not None:
        endpoints += feedback_pages.endpoints(run.feedback_pages, base, args.threads)
    common = {"connections": args.connections, "threads": args.threads}

    def once(endpoint: Endpoint, seconds: int, label: str) -> Measurement:
        if endpoint.name == TRACKING_UNCACHED and run.tracking is not None:
            # The whole page cache is dropped, so each request is an order's first view.
            pages, keys = tracking.page_cache_purge()
            run.tracking.pages_purged += pages
            run.tracking.keys_purged += keys
        taps = run.feedback_pages if endpoint.name == feedback_pages.TAP_FIRST else None
        if taps is not None:
            # Every survey unanswered again, so each tap is a first tap.
            feedback_pages.answers_reset(taps)
        run_env = {**endpoint.env, "BENCH_RUN_ID": f"bench-{int(time.time())}-{label}"}
        measured = wrk_run(
            name=endpoint.name,
            url=endpoint.url,
            script=endpoint.script,
            duration_s=seconds,
            env=run_env,
            expected=endpoint.expected,
            **common,
        )
        if taps is not None:
            taps.first_tap_runs.append((measured.requests, feedback_pages.answers_recorded(taps)))
        return measured

    print("warming up ...", flush=True)
    warmup = [once(endpoint, args.warmup, "warmup") for endpoint in endpoints]
    for n in range(1, args.rounds + 1):
        print(f"round {n}/{args.rounds} ...", flush=True)
        run.rounds.append([once(endpoint, args.duration, f"r{n}") for endpoint in endpoints])
    run.config["load_after"] = f"{os.getloadavg()[0]:.2f}"
    everything = [m for ms in [warmup, *run.rounds] for m in ms]
    _check_stored(run, [m for m in everything if m.name == WEBHOOK])
    if run.tracking is not None:
        uncached = [(m.name, m.requests) for m in everything if m.name == TRACKING_UNCACHED]
        run.notes += tracking_report.notes(run.tracking, uncached)
    if run.feedback_pages is not None:
        run.notes += feedback_pages_report.notes(run.feedback_pages)


def _check_stored(run: Run, webhook_runs: list[Measurement]) -> None:
    """A 2xx from the webhook must mean a stored delivery: count them."""
    answered = sum(m.statuses.get("2xx", 0) for m in webhook_runs)
    stored = stack.query(
        "SELECT count(*) AS n FROM orders_webhookevent "
        "WHERE provider = 'shopify' AND event_id LIKE 'bench-%%' AND status = 'received'"
    )[0]["n"]
    # wrk stops counting with requests still in flight, one per connection at most; the
    # server finishes and stores those, so a few more rows than counted answers is expected.
    in_flight = int(run.config["connections"]) * len(webhook_runs)
    ok = answered <= stored <= answered + in_flight
    run.notes.append(
        f"Webhook deliveries stored during the run: {stored:,} for {answered:,} 2xx answers "
        f"counted by wrk (up to {in_flight} more requests were in flight when wrk stopped): "
        f"{'consistent' if ok else 'INCONSISTENT'}."
    )


def _describe(args: argparse.Namespace, facts: dict[str, str]) -> tuple[dict, dict]:
    config = {
        **facts,
        "duration": str(args.duration),
        "rounds": str(args.rounds),
        "warmup": str(args.warmup),
        "connections": str(args.connections),
        "threads": str(args.threads),
        "workers": str(args.workers),
        "scale": str(args.scale),
    }
    machine = stack.machine()
    machine.update(
        django=version("django"),
        gunicorn=version("gunicorn"),
        celery=version("celery"),
        wrk=wrk_version(),
    )
    return config, machine


def _bench(args: argparse.Namespace) -> Run:
    run = Run(started=datetime.now(tz=UTC), config={}, machine={}, seconds={})
    # Before the benchmark's own work: what else is keeping the machine busy.
    run.config["load_before"] = f"{os.getloadavg()[0]:.2f}"
    try:
        with tempfile.TemporaryDirectory(prefix="pp-bench-") as tmp:
            folder = Path(tmp)
            _prepare(args, run)
            facts, webhook_env = _targets(folder)
            if not args.skip_tracking:
                run.tracking = tracking.prepare(folder)
            if not args.skip_feedback_pages:
                run.feedback_pages = feedback_pages.prepare(folder)
            config, run.machine = _describe(args, facts)
            run.config.update(config)
            with stack.static_collected():
                print("starting gunicorn ...", flush=True)
                port = stack.free_port()
                with stack.gunicorn(
                    port=port,
                    workers=args.workers,
                    log=folder / "gunicorn.log",
                    extra_env=feedback_pages.SERVER_ENV,
                ) as base:
                    _measure(args, base, facts, webhook_env, run)
                # After gunicorn has stopped: the probe's one process gets a core to itself.
                if run.tracking is not None:
                    print("tracking page: one process, cached and uncached ...", flush=True)
                    tracking.probe(run.tracking)
                if run.feedback_pages is not None:
                    print("survey taps, review widget and JSON: one process ...", flush=True)
                    feedback_pages.probe(run.feedback_pages)
            # After gunicorn has stopped: the worker and Postgres get the cores.
            if args.drain_orders > 0:
                run.drain = flash_sale.measure(
                    orders=args.drain_orders,
                    concurrency=args.drain_concurrency,
                    timeout_s=args.drain_timeout,
                    folder=folder,
                )
            if not args.skip_outbox and args.outbox_messages > 0:
                run.outbox = outbox.measure(
                    messages=args.outbox_messages,
                    concurrency=args.drain_concurrency,
                    timeout_s=args.outbox_timeout,
                    folder=folder,
                    noop_tasks=args.noop_tasks,
                    claim_rows=args.claim_rows,
                    skip_postoffice=args.skip_postoffice,
                )
            # No worker or server left running: the round gets the cores, as at night.
            if args.analysis_texts > 0:
                run.analysis = analysis.measure(texts=args.analysis_texts)
            if args.feedback_answers > 0:
                run.feedback = feedback_dashboard.measure(
                    answers=args.feedback_answers,
                    reviews=args.feedback_answers // 5,
                )
    finally:
        stack.redis_purge()
        if not args.keep_db:
            stack.database_drop()
    return run


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: `apt-get install -y wrk` (make bench does this).")
        return 2
    with open(LOCK, "w") as lock:
        try:
            # Two runs would share pp_bench and Redis db 14, and each would drop the other's.
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"another benchmark is running (lock {LOCK}); try again when it is done.")
            return 3
        run = _bench(args)
    print()
    print(console(run))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(markdown(run))
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
