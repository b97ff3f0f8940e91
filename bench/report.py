"""Summaries, targets and the two outputs: a console table and docs/performance.md."""

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench import analysis as text_analysis
from bench import feedback_dashboard, feedback_pages_report, tracking_report
from bench import loyalty as loyalty_bench
from bench.analysis import Analysis
from bench.feedback_dashboard import FeedbackDashboard
from bench.feedback_pages import FeedbackPages
from bench.flash_sale import Drain
from bench.load import Measurement
from bench.loyalty import LoyaltyBench
from bench.outbox import Outbox
from bench.tracking import Tracking

WEBHOOK, ONE_ROW, HELLO = "shopify_webhook", "one_row", "hello"
LABELS = {
    HELLO: "`GET /bench/hello` (hello world)",
    ONE_ROW: "`GET /bench/order/<pk>` (one-row read)",
    WEBHOOK: "`POST /webhooks/shopify/` (orders/create)",
    **tracking_report.LABELS,
    **feedback_pages_report.LABELS,
    loyalty_bench.PAGE: loyalty_bench.PAGE_LABEL,
}
SEED_TARGET_S = 60.0
RATIO_TARGET = 0.40
P99_TARGET_MS = 100.0
# The product brief's flash sale: 100,000 orders in an hour, sustained.
FLASH_SALE_ORDERS_PER_HOUR = 100_000
FLASH_SALE_TARGET = FLASH_SALE_ORDERS_PER_HOUR / 3600


@dataclass
class Summary:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    failures: int
    statuses: dict[str, int]

    @property
    def is_valid(self) -> bool:
        return self.failures == 0 and self.requests > 0


@dataclass
class Run:
    started: datetime
    config: dict[str, str]
    machine: dict[str, str]
    seconds: dict[str, float]
    rounds: list[list[Measurement]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    drain: Drain | None = None
    outbox: Outbox | None = None
    tracking: Tracking | None = None
    feedback_pages: FeedbackPages | None = None
    analysis: Analysis | None = None
    feedback: FeedbackDashboard | None = None
    loyalty: LoyaltyBench | None = None

    def summary(self) -> dict[str, Summary]:
        """Per endpoint: the median of the rounds' figures, all requests, all failures."""
        by_name: dict[str, list[Measurement]] = {}
        for measurements in self.rounds:
            for m in measurements:
                by_name.setdefault(m.name, []).append(m)
        result = {}
        for name, ms in by_name.items():
            statuses: dict[str, int] = {}
            for m in ms:
                for cls, n in m.statuses.items():
                    statuses[cls] = statuses.get(cls, 0) + n
            result[name] = Summary(
                name=name,
                rps=statistics.median(m.rps for m in ms),
                p50_ms=statistics.median(m.p50_ms for m in ms),
                p99_ms=statistics.median(m.p99_ms for m in ms),
                requests=sum(m.requests for m in ms),
                failures=sum(m.failures for m in ms),
                statuses=statuses,
            )
        return result


@dataclass(frozen=True)
class Target:
    what: str
    goal: str
    measured: str
    verdict: str


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FALL SHORT"


def targets(run: Run) -> list[Target]:
    s = run.summary()
    found = []
    if "seed_postgres" in run.seconds:
        seconds = run.seconds["seed_postgres"]
        found.append(
            Target(
                f"`seed_demo --scale {run.config['scale']}` on Postgres",
                f"< {SEED_TARGET_S:.0f} s",
                f"{seconds:.1f} s",
                _verdict(seconds < SEED_TARGET_S),
            )
        )
    webhook, row = s.get(WEBHOOK), s.get(ONE_ROW)
    why = _invalid_reason(webhook, row)
    ratio = (
        webhook.rps / row.rps
        if webhook is not None and row is not None and webhook.is_valid and row.is_valid
        else None
    )
    found.append(
        Target(
            "webhook rps / one-row rps",
            f"≥ {RATIO_TARGET:.2f}",
            f"{ratio:.2f}" if ratio is not None else why,
            _verdict(ratio >= RATIO_TARGET) if ratio is not None else "NOT MEASURED",
        )
    )
    p99 = webhook.p99_ms if webhook is not None and webhook.is_valid else None
    found.append(
        Target(
            "webhook p99 latency",
            f"< {P99_TARGET_MS:.0f} ms",
            f"{p99:.1f} ms" if p99 is not None else why,
            _verdict(p99 < P99_TARGET_MS) if p99 is not None else "NOT MEASURED",
        )
    )
    if run.tracking is not None:
        found += [Target(*row) for row in tracking_report.targets(run.tracking, s)]
    if run.feedback_pages is not None:
        found += [Target(*row) for row in feedback_pages_report.targets(run.feedback_pages, s)]
    if run.drain is not None:
        found.append(_flash_sale_target(run.drain))
    if run.outbox is not None:
        found += outbox_targets(run.outbox)
    if run.analysis is not None:
        found.append(Target(*text_analysis.target(run.analysis)))
    if run.feedback is not None:
        found.append(Target(*feedback_dashboard.target(run.feedback)))
    if run.loyalty is not None:
        found += [Target(*row) for row in loyalty_bench.targets(run.loyalty)]
        found.append(Target(*loyalty_bench.page_target(run.summary(), run.loyalty)))
    return found


def _flash_sale_target(drain: Drain) -> Target:
    what = (
        f"flash sale: {FLASH_SALE_ORDERS_PER_HOUR:,} orders/hour = {FLASH_SALE_TARGET:.0f} orders/s"
    )
    goal = f"≥ {FLASH_SALE_TARGET:.1f} orders/s"
    if drain.rate is None:
        # Not finished within the timeout: the backlog outlasted the wait, which says enough.
        done = drain.processed + drain.failed + drain.ignored
        measured = f"{done:,} of {drain.orders:,} in {drain.timeout_s} s"
        return Target(what, goal, measured, "FALL SHORT")
    measured = f"{drain.rate:.1f} orders/s"
    if not drain.is_complete:
        # Deliveries that failed or orders that are missing are not throughput.
        return Target(what, goal, f"{measured}, {_drain_problems(drain)}", "FALL SHORT")
    return Target(what, goal, measured, _verdict(drain.rate >= FLASH_SALE_TARGET))


def _drain_problems(drain: Drain) -> str:
    problems = [
        f"{n:,} {label}"
        for n, label in (
            (drain.failed, "failed"),
            (drain.ignored, "ignored"),
            (drain.waiting, "still waiting"),
        )
        if n
    ]
    if drain.orders_created != drain.orders:
        problems.append(f"{drain.orders_created:,} of {drain.orders:,} orders created")
    if drain.line_items_created != drain.line_items_expected:
        problems.append(
            f"{drain.line_items_created:,} of {drain.line_items_expected:,} line items created"
        )
    return "; ".join(problems) or "none"


def _invalid_reason(*summaries: Summary | None) -> str:
    bad = [s for s in summaries if s is not None and not s.is_valid]
    if not bad:
        return "no measurement"
    return "; ".join(f"{s.name}: {s.failures} failed of {s.requests}" for s in bad)


def console(run: Run) -> str:
    lines = [f"{'endpoint':<18}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}  failed"]
    for s in run.summary().values():
        lines.append(
            f"{s.name:<18}{s.rps:>10.0f}{s.p50_ms:>10.1f}{s.p99_ms:>10.1f}"
            f"{s.requests:>10}  {s.failures}{'' if s.is_valid else '  (NOT VALID)'}"
        )
    if run.tracking is not None:
        lines += ["", *tracking_report.console(run.tracking, run.summary())]
    if run.feedback_pages is not None:
        lines += ["", *feedback_pages_report.console(run.feedback_pages, run.summary())]
    if run.drain is not None:
        lines += ["", *_drain_console(run.drain)]
    if run.outbox is not None:
        lines += ["", *outbox_console(run.outbox)]
    if run.analysis is not None:
        lines += ["", *text_analysis.console(run.analysis)]
    if run.feedback is not None:
        lines += ["", *feedback_dashboard.console(run.feedback)]
    if run.loyalty is not None:
        lines += ["", *loyalty_bench.console(run.loyalty)]
    lines.append("")
    for t in targets(run):
        lines.append(f"{t.what:<46} goal {t.goal:<16} measured {t.measured:<16} {t.verdict}")
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return f"{value:.1f} ms" if value is not None else "-"


def _drain_console(drain: Drain) -> list[str]:
    rate = f"{drain.rate:.1f}" if drain.rate is not None else "-"
    seconds = f"{drain.seconds:.1f}" if drain.seconds is not None else "-"
    return [
        f"flash-sale processing: {drain.orders:,} orders/create deliveries, "
        f"celery prefork x{drain.concurrency}",
        f"{'orders/s':>10}{'ms/order':>10}{'seconds':>10}{'failed':>8}{'orders':>8}  problems",
        f"{rate:>10}{_ms(drain.per_order_ms).removesuffix(' ms'):>10}{seconds:>10}"
        f"{drain.failed:>8}{drain.orders_created:>8}  {_drain_problems(drain)}",
    ]


def _drain_section(drain: Drain) -> list[str]:
    rate = f"{drain.rate:,.1f}" if drain.rate is not None else "not finished"
    seconds = f"{drain.seconds:.1f} s" if drain.seconds is not None else f"> {drain.timeout_s} s"
    per_process = (
        _ms(drain.per_order_ms * drain.concurrency) if drain.per_order_ms is not None else "-"
    )
    return [
        "### Flash-sale processing",
        "",
        "| deliveries | elapsed | orders/s | wall time per order | per order in one worker "
        "process | processed | failed | orders created | line items created |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {drain.orders:,} | {seconds} | {rate} | {_ms(drain.per_order_ms)} | {per_process} | "
        f"{drain.processed:,} | {drain.failed:,} | {drain.orders_created:,} of {drain.orders:,} "
        f"| {drain.line_items_created:,} of {drain.line_items_expected:,} |",
    ]


def _drain_notes(drain: Drain) -> list[str]:
    notes = [
        f"Flash sale: {drain.orders:,} deliveries stored in {drain.store_seconds:.1f} s; "
        f"{drain.dispatch_rounds} dispatch round(s) asked for; {drain.processed:,} processed, "
        f"{drain.failed:,} failed, {drain.ignored:,} ignored, {drain.waiting:,} still waiting; "
        f"{drain.orders_created:,} orders and {drain.line_items_created:,} line items created "
        f"(expected {drain.orders:,} and {drain.line_items_expected:,}): "
        f"{'consistent' if drain.is_complete else 'INCOMPLETE'}.",
        f"Domain events written while processing: {drain.domain_events:,}, "
        f"{drain.domain_events_pending:,} of them still owed to a subscriber at the end.",
    ]
    notes += [f"Flash-sale error: `{error[:300]}`" for error in drain.errors]
    return notes


def _results_table(run: Run) -> list[str]:
    rows = [
        "| endpoint | requests/s | p50 | p99 | requests | unexpected status or errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in run.summary().values():
        flag = "" if s.is_valid else " (numbers do not count)"
        rows.append(
            f"| {LABELS.get(s.name, s.name)} | {s.rps:,.0f} | {s.p50_ms:.1f} ms | "
            f"{s.p99_ms:.1f} ms | {s.requests:,} | {s.failures}{flag} |"
        )
    return rows


def _rounds_table(run: Run) -> list[str]:
    rows = [
        "| round | endpoint | requests/s | p50 | p99 | statuses |",
        "|---|---|---:|---:|---:|---|",
    ]
    for n, measurements in enumerate(run.rounds, start=1):
        for m in measurements:
            seen = [f"{k} {v}" for k, v in m.statuses.items() if v]
            if m.socket_errors:
                seen.append(f"socket errors {m.socket_errors}")
            rows.append(
                f"| {n} | {m.name} | {m.rps:,.0f} | {m.p50_ms:.1f} ms | {m.p99_ms:.1f} ms | "
                f"{', '.join(seen) or '-'} |"
            )
    return rows


def _machine_section(run: Run) -> list[str]:
    m = run.machine
    return [
        "## Machine",
        "",
        f"- CPU: {m['cpu']}; memory {m['memory']}; {m['os']}",
        f"- Python {m['python']}, Django {m['django']}, gunicorn {m['gunicorn']}",
        f"- PostgreSQL {m['postgres']}, Redis {m['redis']}, Celery {m['celery']}, {m['wrk']}",
    ]


def _method_section(run: Run) -> list[str]:
    c = run.config
    return [
        "## Method",
        "",
        "- **Data.** A dedicated database `pp_bench`, migrated, then "
        f"`seed_demo --scale {c['scale']}` ({c['orders']} orders).",
        f"- **Server.** gunicorn serving `postpurchase.wsgi` with production settings "
        "(`DEBUG=0`; `SECURE_SSL_REDIRECT=0` because loopback has no TLS; `BENCH_ENDPOINTS=1`), "
        f"**{c['workers']} sync workers**: one per core. Each request here is short and "
        "bound by the database, which sync workers handle without the overhead of an event "
        "loop, and more workers than cores would only add context switches on a machine whose "
        "two cores also run Postgres, Redis and wrk. Persistent database connections "
        "(`CONN_MAX_AGE=600`).",
        f"- **Load.** wrk, {c['threads']} threads, {c['connections']} connections, "
        f"{c['duration']} s per endpoint, after a {c['warmup']} s warm-up of each endpoint; "
        f"{c['rounds']} round(s), the endpoints interleaved within each round, and each figure "
        "is the median of the rounds (this machine's speed swings within seconds, so the "
        "endpoints are only compared within one run). wrk shares the machine's cores with the "
        "server and the database: the figures are for the whole stack on one box. Load "
        f"average (1 min) when the benchmark started: {c['load_before']}, after the last "
        f"measurement: {c['load_after']}; anything else running on the machine at the same "
        "time lowers every figure.",
        f"- **Endpoints.** `/bench/hello` returns a constant (the framework's ceiling); "
        f"`/bench/order/{c['order_pk']}` reads one order by primary key (the ceiling for "
        f"anything that touches the database); `POST /webhooks/shopify/` receives a "
        f"{c['body_bytes']}-byte `orders/create` body signed with the shop's secret, with a "
        "fresh `X-Shopify-Event-Id` on every request. The view checks the HMAC, validates "
        "the payload and stores the delivery; after commit it asks Celery (Redis) for a "
        "dispatch round at most once per `WEBHOOK_DISPATCH_DELAY` (250 ms) per process, and "
        "that round, run by a worker, enqueues one processing task per stored delivery. No "
        "worker runs during this measurement: processing is measured on its own, below.",
        "- **Counting.** Every response is counted by status class (`bench/wrk/status.lua`); "
        "figures from a run with any socket error, or any response of another class than the "
        "view's own answer, do not count: 2xx everywhere but the survey's one-tap link, whose "
        "answer is a 303 redirect.",
        *(tracking_report.method(run.tracking, c) if run.tracking is not None else []),
        *(
            feedback_pages_report.method(run.feedback_pages, c)
            if run.feedback_pages is not None
            else []
        ),
        *_drain_method(run),
        *_outbox_method(run),
        *(text_analysis.method(run.analysis) if run.analysis is not None else []),
        *(feedback_dashboard.method(run.feedback) if run.feedback is not None else []),
        *(loyalty_bench.method(run.loyalty) if run.loyalty is not None else []),
    ]


def _drain_method(run: Run) -> list[str]:
    drain = run.drain
    if drain is None:
        return []
    return [
        f"- **Flash-sale processing.** After gunicorn has stopped (so the worker and Postgres "
        f"have the cores), {drain.orders:,} distinct `orders/create` deliveries are stored as "
        "received for the demo shop, as after a flash sale's intake: each its own order id, "
        f"name and customer ({drain.returning_customers:,} existing customers, the rest new), "
        f"one to three line items from the shop's catalogue, about {drain.body_bytes:,} bytes "
        "each. Each body is validated as the webhook view does, then the rows are "
        "bulk-inserted by `bench/flash_sale_store.py` with Django (storing is not what is "
        "measured here; the intake is measured above). The intake's own deliveries, copies "
        "of one order, are deleted first. Then one Celery worker starts as deployed "
        f"(`celery -A postpurchase worker --pool prefork --concurrency {drain.concurrency}`, "
        "production settings and the project's Celery settings, Redis broker), and dispatch "
        "rounds "
        "(`webhook_events_dispatch_task`, up to 500 deliveries each) are sent through the "
        "broker, enough for the whole backlog at once. The clock runs from that first ask "
        "to the last `processed_at` the database records; each processing task parses the "
        "payload, upserts the customer and consents, writes the order, its line items, its "
        "events and domain events. Orders per second is deliveries / elapsed; the wall time "
        "per order is its inverse, and the time per order in one worker process is that "
        f"times {drain.concurrency}. Every delivery must end `processed`, with its order and "
        f"line items in the database; the wait is bounded at {drain.timeout_s} s.",
    ]


def _outbox_method(run: Run) -> list[str]:
    o = run.outbox
    if o is None:
        return []
    return [
        f"- **Outbox.** After the flash sale, {o.messages:,} `order_confirmation` emails are "
        "bulk-inserted as `scheduled` with `send_at` in the past, each with its own "
        "`dedupe_key`, for the demo shop's live orders, with the context the confirmation "
        "flow stores (shop, order number, first name, line items, total, tracking link). One "
        "worker starts as deployed (`celery -A postpurchase worker --pool prefork "
        f"--concurrency {o.concurrency}`, production settings) with "
        "`EMAIL_BACKEND=anymail.backends.test.EmailBackend`, and "
        "`messages_dispatch_due_task` is sent through the broker once a second, as beat "
        f"would. Each tick claims batches of {_batch(o)} (SKIP LOCKED; the claim, the mark "
        "`queued` and the history rows in one statement) and enqueues one send task per "
        f"batch after commit; the task takes its batch in chunks of {_chunk(o)}: one "
        "transaction checks a chunk's messages against suppressions, consents and quiet hours "
        "and renders them, and one email connection serves the chunk; then each message is "
        "claimed on its own just before its provider call (one statement, committed durably "
        "before the call), handed to anymail and recorded right after. The clock "
        "runs from the first tick to the last `sent_at`; every message must end `sent` with "
        "exactly one `DeliveryAttempt`. Then, on the same worker, consumption is paused, "
        "no-op tasks (`celery.accumulate`) are queued, and the drain is timed from resuming "
        "consumption to an empty queue with nothing unacknowledged. Then django-post_office "
        "(installed only in `bench/.venv-postoffice`, run by the minimal project in "
        "`bench/postoffice/`) queues the same emails (subject, text, HTML and recipient "
        "copied from the sent messages) and `send_queued_mail` sends them through the same "
        "anymail test backend, timed. A profile in one process, the query count of "
        "`message_schedule`, and the claim cost with 1,000,000 rows follow, with no worker "
        "running.",
    ]


def _batch(o: Outbox) -> str:
    return str(o.profile.get("dispatch_batch", "?"))


def _chunk(o: Outbox) -> str:
    return str(o.profile.get("send_chunk", "?"))


def _seed_sentence(run: Run) -> str:
    s = run.seconds
    return (
        f"`seed_demo --scale {run.config['scale']}` (wall clock of the whole command): "
        f"{s['seed_postgres']:.1f} s on PostgreSQL (after {s['migrate_postgres']:.1f} s of "
        "migrations)."
    )


# Written by hand, next to the page `make bench` rewrites: why the targets that fall short do.
# Kept in its own file so a run never loses it; the run only includes it.
WHY = Path(__file__).resolve().parent.parent / "docs" / "performance-why.md"


def _why_section() -> list[str]:
    return [*WHY.read_text(encoding="utf-8").rstrip().splitlines(), ""] if WHY.exists() else []


def markdown(run: Run) -> str:
    notes = [*run.notes, *(_drain_notes(run.drain) if run.drain is not None else [])]
    notes += outbox_notes(run.outbox) if run.outbox is not None else []
    if run.analysis is not None:
        notes += [f"Text analysis error: `{e[-300:]}`" for e in run.analysis.errors]
    if run.feedback is not None:
        notes += [f"Feedback dashboard error: `{e[-300:]}`" for e in run.feedback.errors]
    if run.loyalty is not None:
        notes += [f"Loyalty error: `{e[-300:]}`" for e in run.loyalty.errors]
    lines = [
        "# Performance",
        "",
        f"Measured by `make bench` on {run.started:%Y-%m-%d %H:%M} UTC. Every figure below "
        "comes from that one run; rerun it to refresh this page.",
        "",
        *_machine_section(run),
        "",
        *_method_section(run),
        "",
        "## Results",
        "",
        _seed_sentence(run),
        "",
        *_results_table(run),
        "",
        *(
            [*tracking_report.section(run.tracking, run.summary()), ""]
            if run.tracking is not None
            else []
        ),
        *(
            [*feedback_pages_report.section(run.feedback_pages, run.summary()), ""]
            if run.feedback_pages is not None
            else []
        ),
        *([*_drain_section(run.drain), ""] if run.drain is not None else []),
        *([*outbox_section(run.outbox), ""] if run.outbox is not None else []),
        *([*text_analysis.section(run.analysis), ""] if run.analysis is not None else []),
        *([*feedback_dashboard.section(run.feedback), ""] if run.feedback is not None else []),
        *([*loyalty_bench.section(run.loyalty, run.drain), ""] if run.loyalty is not None else []),
        "Each round:",
        "",
        *_rounds_table(run),
        "",
        "## Targets",
        "",
        "| target | goal | measured | verdict |",
        "|---|---|---|---|",
        *(f"| {t.what} | {t.goal} | {t.measured} | **{t.verdict}** |" for t in targets(run)),
        "",
        *(["### Checks", "", *(f"- {note}" for note in notes), ""] if notes else []),
        *_why_section(),
        "## Reproduce",
        "",
        "```sh",
        "make bench",
        "```",
        "",
        "It needs PostgreSQL on 127.0.0.1:5432 (user `postgres`, trust) and Redis on "
        "127.0.0.1:6379, and installs wrk with apt-get when it is missing. It creates the "
        "database `pp_bench` (and drops it at the end), uses and purges Redis db 14, starts "
        "gunicorn on a free loopback port and then a Celery worker on that Redis db, stops "
        "both, and only ever loads 127.0.0.1. Production settings serve the stylesheets from "
        "`var/static`, so it runs `collectstatic` there first (and removes the folder again "
        "if it made it). It takes "
        "twelve to nineteen minutes (the outbox part about four, the text analysis one or two, the "
        "survey's taps and the review widget and JSON about three, the loyalty ledger two or "
        "three; "
        "it creates `bench/.venv-postoffice` "
        "with pip the first time). `.venv/bin/python bench/run.py --help` lists the options "
        "(duration, rounds, connections, `--drain-orders`, `--skip-tracking`, "
        "`--skip-feedback-pages`, `--skip-outbox`, `--skip-postoffice`, `--claim-rows`, "
        "`--analysis-texts`, `--feedback-answers`, `--loyalty-entries`, `--keep-db`). "
        "`python bench/analysis.py` measures the text analysis alone, on a database of its own, "
        "and `python bench/feedback_dashboard.py` the feedback numbers page, "
        "`python bench/loyalty.py` the loyalty ledger.",
        "",
    ]
    return "\n".join(lines)


# The product's messaging issue.
OUTBOX_TARGET = 500.0  # messages/s on this 2-core machine
CLAIM_TARGET_MS = 5.0


def outbox_targets(o: Outbox) -> list[Target]:
    found = []
    what = f"outbox dispatch: {o.messages:,} due emails, celery prefork x{o.concurrency}"
    goal = f"≥ {OUTBOX_TARGET:.0f} messages/s"
    if o.rate is None:
        found.append(Target(what, goal, f"{o.sent:,} sent in > {o.timeout_s} s", "FALL SHORT"))
    elif not o.is_complete:
        measured = f"{o.rate:.0f}/s, {o.sent:,} sent, {o.attempts:,} attempts"
        found.append(Target(what, goal, measured, "FALL SHORT"))
    else:
        found.append(Target(what, goal, f"{o.rate:.0f} messages/s", _verdict(o.rate >= 500)))
    if o.rate and o.postoffice_rate:
        found.append(
            Target(
                "outbox dispatch against django-post_office `send_queued_mail`, same run",
                "> 1.00× (the aim)",
                f"{o.rate / o.postoffice_rate:.2f}× ({o.rate:,.0f} against "
                f"{o.postoffice_rate:,.0f} emails/s)",
                _verdict(o.rate > o.postoffice_rate),
            )
        )
    if o.claim:
        c = o.claim
        for label, key in (
            ("service `messages_claim_due(batch_size=100)` with its enqueue", "orm_ms"),
            ("raw SQL claim (SELECT … SKIP LOCKED + UPDATE)", "raw_ms"),
        ):
            found.append(
                Target(
                    f"claim 100 of {c['rows']:,} scheduled rows: {label}",
                    f"< {CLAIM_TARGET_MS:.0f} ms",
                    f"{c[key]:.1f} ms (median of {c['repeat']})",
                    _verdict(c[key] < CLAIM_TARGET_MS),
                )
            )
        found.append(
            Target(
                "claim query plan uses `message_due_idx`",
                "yes",
                "yes" if c["uses_index"] else "no",
                _verdict(c["uses_index"]),
            )
        )
    return found


def _ratio(ours: float | None, theirs: float | None) -> str:
    return f"{ours / theirs:.2f}×" if ours and theirs else "-"


def outbox_console(o: Outbox) -> list[str]:
    rate = f"{o.rate:.0f}" if o.rate else "-"
    po = o.postoffice_rate
    lines = [
        f"outbox: {o.messages:,} emails, {o.sent:,} sent, {o.attempts:,} attempts, "
        f"{o.seconds or 0:.1f} s, {rate} messages/s",
        f"  no-op celery drain {o.noop_rate or 0:.0f} tasks/s (ours {_ratio(o.rate, o.noop_rate)})"
        f"; post_office {po or 0:.0f} emails/s (ours {_ratio(o.rate, po)})",
    ]
    if o.profile:
        p = o.profile
        lines.append(
            f"  one process: {p['wall_ms']:.2f} ms/message, {p['queries']:.0f} queries "
            f"({p['query_ms']:.2f} ms), render {p['render_ms']:.2f} ms, send {p['send_ms']:.2f} ms"
        )
    if o.profile.get("batch_ms"):
        p = o.profile
        lines.append(
            f"  one process, batches of {p['dispatch_batch']} in chunks of {p['send_chunk']}: "
            f"{p['batch_ms']:.2f} ms/message"
        )
    if o.schedule:
        s = o.schedule
        lines.append(
            f"  message_schedule: {s['new']['queries']} queries new, "
            f"{s['repeat']['queries']} repeat"
        )
    if o.claim:
        c = o.claim
        lines.append(
            f"  claim 100 of {c['rows']:,} scheduled rows: service {c['orm_ms']:.2f} ms, raw SQL "
            f"{c['raw_ms']:.2f} ms (medians of {c['repeat']}); plan uses message_due_idx: "
            f"{'yes' if c['uses_index'] else 'no'}"
        )
        lines += [f"    {line}" for line in c["plan"].splitlines()]
    return lines


def outbox_section(o: Outbox) -> list[str]:
    rate = f"{o.rate:,.0f}" if o.rate else "not finished"
    seconds = f"{o.seconds:.1f} s" if o.seconds else f"> {o.timeout_s} s"
    po = o.postoffice
    po_rate = o.postoffice_rate
    lines = [
        "### Outbox",
        "",
        "| what | count | elapsed | rate | our dispatch rate as a share of it |",
        "|---|---:|---:|---:|---:|",
        f"| outbox dispatch: due rows → provider call → `sent` | {o.sent:,} of {o.messages:,} | "
        f"{seconds} | **{rate} messages/s** | - |",
        f"| no-op Celery task drain, same worker | {o.noop_tasks:,} | "
        f"{o.noop_seconds or 0:.1f} s | {o.noop_rate or 0:,.0f} tasks/s | "
        f"{_ratio(o.rate, o.noop_rate)} |",
    ]
    if po:
        lines.append(
            f"| django-post_office `send_queued_mail` (1 process), same emails | "
            f"{po['sent']:,} of {po['emails']:,} | {po['seconds']:.1f} s | "
            f"{po_rate or 0:,.0f} emails/s | {_ratio(o.rate, po_rate)} |"
        )
    else:
        lines.append(f"| django-post_office | not measured | | | {o.postoffice_error[:200]} |")
    if o.profile:
        p = o.profile
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(p["query_kinds"].items()))
        lines += [
            "",
            f"Where one message's time goes, in one process (`message_send` called "
            f"{p['messages']} times in a row, as a batch task does, after a warm-up):",
            "",
            "| per message | ms |",
            "|---|---:|",
            f"| wall time of `message_send` | {p['wall_ms']:.2f} (median "
            f"{p['wall_ms_median']:.2f}) |",
            f"| its {p['queries']:.0f} SQL statements ({kinds}), as the driver timed them | "
            f"{p['query_ms']:.2f} |",
            f"| rendering subject, text and HTML templates | {p['render_ms']:.2f} |",
            f"| the provider call (anymail test backend, `EmailMultiAlternatives`) | "
            f"{p['send_ms']:.2f} |",
            f"| the rest: ORM, model instances, transactions, signals | {p['rest_ms']:.2f} |",
        ]
        if p.get("batch_ms"):
            lines += [
                "",
                f"The same messages sent as the send task sends them (`messages_send` on batches "
                f"of {p['dispatch_batch']} ids, chunks of {p['send_chunk']}: one preparation and "
                "one email connection per chunk, one claim and one record per message), in one "
                f"process: **{p['batch_ms']:.2f} ms** per message.",
            ]
    if o.schedule:
        s = o.schedule
        lines += [
            "",
            f"`message_schedule(request=...)`: **{s['new']['queries']} queries** for a new "
            f"message ({', '.join(q.split(None, 1)[0] for q in s['new']['sql'])}), "
            f"**{s['repeat']['queries']}** for a repeat "
            f"({', '.join(q.split(None, 1)[0] for q in s['repeat']['sql'])}).",
        ]
    if o.claim:
        c = o.claim
        lines += [
            "",
            f"Claim cost: {c['rows']:,} scheduled rows ({c['due']:,} due, the rest in the "
            f"future; inserted with one `INSERT … SELECT generate_series` in "
            f"{c['insert_seconds']:.1f} s, then `VACUUM ANALYZE`). Median of {c['repeat']}, each "
            "claiming the next 100 due rows as consecutive ticks do: "
            f"the service `messages_claim_due(batch_size=100)` **{c['orm_ms']:.2f} ms** (max "
            f"{c['orm_ms_max']:.1f}; one statement claims the 100 rows, marks them `queued` and "
            "writes their 100 `MessageEvent` rows, and the batch goes to one send task through "
            "Redis after commit); the raw SQL claim alone (SELECT … FOR UPDATE SKIP LOCKED of "
            f"100 and the UPDATE to queued) **{c['raw_ms']:.2f} ms** (max {c['raw_ms_max']:.1f})."
            " `EXPLAIN (ANALYZE, BUFFERS)` of the service's statement:",
            "",
            "```",
            c["plan"],
            "```",
        ]
    return lines


def outbox_notes(o: Outbox) -> list[str]:
    notes = [
        f"Outbox: {o.messages:,} messages stored for {o.orders_used:,} distinct orders in "
        f"{o.seed_seconds:.1f} s; {o.ticks} dispatch ticks sent; statuses "
        f"{', '.join(f'{k} {v:,}' for k, v in sorted(o.statuses.items()))}; "
        f"{o.attempts:,} delivery attempts for {o.messages_with_attempts:,} distinct messages: "
        f"{'consistent (every message sent once)' if o.is_complete else 'INCOMPLETE'}.",
    ]
    notes += [f"Outbox error: `{e[:300]}`" for e in o.errors]
    return notes
