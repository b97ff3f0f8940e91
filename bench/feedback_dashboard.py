"""The feedback numbers page (`/dashboard/feedback/`) at 1,000,000 survey answers and 200,000
reviews: the data filled by SQL (`INSERT … SELECT` over `generate_series`, cloning one row made
by the ORM), the daily rollups rebuilt (timed, not the target), then the page requested through
Django's test client as a signed-in staff member, timed over N requests: median and p95.

    python bench/feedback_dashboard.py                   # its own database, created and dropped
    python bench/feedback_dashboard.py --answers 100000  # fewer answers
    python bench/feedback_dashboard.py --database-url postgres://…/db   # an existing migrated db

`bench/run.py` calls `measure` on its own database; its figure is one of the report's targets.
The probe runs with the test settings (static files without a manifest, so no collectstatic),
on the real database and its indexes.
"""

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import stack

TARGET_MS = 300.0
ANSWERS = 1_000_000
REVIEWS = 200_000
CASES = 20_000
REQUESTS = 30
STANDALONE_DB = "pp_bench_feedback"


@dataclass
class FeedbackDashboard:
    answers: int
    reviews: int
    cases: int = 0
    requests: int = REQUESTS
    fill_seconds: float = 0.0
    rollup_seconds: float = 0.0
    rollup_rows: int = 0
    queries: int = 0
    # Per period shown ("90" the default, "365" a year): [median, p95] in ms.
    timings_ms: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def worst_p95(self) -> float | None:
        return max((t[1] for t in self.timings_ms.values()), default=None)


def _clone(
    cursor: Any, table: str, template_id: int, source: str, overrides: dict[str, str]
) -> int:
    """Copy row `template_id` of `table` once per row of `source` (aliased `s`, with a column
    `g` numbering them), each column from `overrides` (SQL over `s` and `t`) or the template."""
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "ORDER BY ordinal_position",
        [table],
    )
    columns = [c for (c,) in cursor.fetchall() if c != "id"]
    values = [overrides.get(c, f"t.{c}") for c in columns]
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "
        f"FROM {table} t, ({source}) s WHERE t.id = {int(template_id)}"
    )
    return cursor.rowcount


def _fill(answers: int, reviews: int, cases: int) -> tuple[Any, Any]:
    """The shop, its staff member and its feedback; returns (shop, user)."""
    from django.db import connection
    from django.utils import timezone

    from feedback.models import Case, Review, SurveyAnswer
    from feedback.models.surveys import SurveyRequest

    # The tests' factories make the template rows (with every field a row needs); imported by
    # name so the type check does not follow into them.
    factories: Any = importlib.import_module("tests.factories")

    shop: Any = factories.ShopFactory(slug="bench-feedback", timezone="America/New_York")
    user: Any = factories.UserFactory()
    factories.StaffMembershipFactory(user=user, shop=shop, role="owner")
    order: Any = factories.OrderFactory(shop=shop)
    line: Any = factories.LineItemFactory(order=order)
    product: Any = factories.ProductFactory(shop=shop)
    line.variant = factories.VariantFactory(product=product)
    line.product = product
    line.save()
    now = timezone.now()
    request = SurveyRequest.objects.create(
        shop=shop,
        order=order,
        customer=order.customer,
        kind="nps",
        status="answered",
        due_at=now,
        channel="email",
        sent_at=now,
        answered_at=now,
    )
    answer = SurveyAnswer.objects.create(
        request=request,
        shop=shop,
        customer=order.customer,
        kind="nps",
        score=9,
        channel="email",
        answered_at=now,
    )
    review = Review.objects.create(
        shop=shop,
        order=order,
        line_item=line,
        product=product,
        customer=order.customer,
        rating=5,
        body="Lovely",
        author_name="Ann",
        status="published",
        submitted_at=now,
    )
    shipment: Any = factories.ShipmentFactory(shop=shop, order=order)
    case = Case.objects.create(
        shop=shop,
        customer=order.customer,
        order=order,
        source="staff",
        summary="Late parcel",
        first_response_due_at=now,
        resolution_due_at=now,
        first_response_soon_at=now,
        resolution_soon_at=now,
    )
    # Sent surveys: a tenth more than the answers (some never answered), over a year.
    sent = answers + answers // 10
    spread = "(now() - ((s.g % 365) || ' days')::interval - ((s.g % 1440) || ' minutes')::interval)"
    with connection.cursor() as c:
        _clone(
            c,
            "orders_order",
            order.pk,
            f"SELECT g FROM generate_series(1, {sent}) g",
            {
                "external_id": "'bench-' || s.g",
                "number": "'#B' || s.g",
                "tracking_token": "md5('t' || s.g) || md5('u' || s.g)",
            },
        )
        bench_orders = (
            "SELECT o.id, row_number() OVER (ORDER BY o.id) AS g FROM orders_order o "
            f"WHERE o.shop_id = {shop.pk} AND o.external_id LIKE 'bench-%'"
        )
        _clone(
            c,
            "feedback_surveyrequest",
            request.pk,
            bench_orders,
            {
                "order_id": "s.id",
                "kind": "CASE WHEN s.g % 10 = 0 THEN 'csat_delivery' "
                "WHEN s.g % 10 = 1 THEN 'ces' ELSE 'nps' END",
                "channel": "CASE WHEN s.g % 3 = 0 THEN 'sms' ELSE 'email' END",
                "status": f"CASE WHEN s.g <= {answers} THEN 'answered' ELSE 'sent' END",
                "due_at": spread,
                "sent_at": spread,
                "answered_at": f"CASE WHEN s.g <= {answers} THEN {spread} END",
            },
        )
        _clone(
            c,
            "feedback_surveyanswer",
            answer.pk,
            (
                "SELECT r.id, r.kind, r.channel, r.sent_at, row_number() OVER (ORDER BY r.id) AS g "
                f"FROM feedback_surveyrequest r WHERE r.shop_id = {shop.pk} "
                f"AND r.id <> {request.pk} AND r.answered_at IS NOT NULL"
            ),
            {
                "request_id": "s.id",
                "kind": "s.kind",
                "channel": "s.channel",
                "answered_at": "s.sent_at",
                "score": "CASE s.kind WHEN 'nps' THEN (s.g * 7) % 11 WHEN 'ces' THEN 1 + s.g % 7 "
                "ELSE 1 + s.g % 5 END",
            },
        )
        _clone(
            c,
            "feedback_review",
            review.pk,
            bench_orders + f" LIMIT {reviews}",
            {
                "order_id": "s.id",
                "public_id": "md5('r' || s.g) || md5('s' || s.g)",
                "rating": "CASE WHEN s.g % 10 < 6 THEN 5 ELSE 1 + s.g % 4 END",
                "status": "CASE WHEN s.g % 50 = 0 THEN 'held' ELSE 'published' END",
                "submitted_at": spread,
            },
        )
        _clone(
            c,
            "orders_shipment",
            shipment.pk,
            bench_orders + f" LIMIT {answers // 2}",
            {
                "order_id": "s.id",
                "external_id": "'bench-' || s.g",
                "estimated_delivery_date": f"({spread})::date - 3",
                "delivered_at": f"{spread} - ((2 + s.g % 3) || ' days')::interval",
            },
        )
        _clone(
            c,
            "feedback_case",
            case.pk,
            f"SELECT g FROM generate_series(1, {cases}) g",
            {
                "created_at": spread,
                "first_responded_at": f"{spread} + ((s.g % 30) || ' hours')::interval",
                "resolved_at": f"{spread} + ((s.g % 90) || ' hours')::interval",
                "first_response_due_at": f"{spread} + interval '24 hours'",
                "resolution_due_at": f"{spread} + interval '72 hours'",
                "status": "'resolved'",
            },
        )
        c.execute("ANALYZE")
    return shop, user


def _probe(answers: int, reviews: int, cases: int, requests: int) -> dict:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from feedback.models import FeedbackDayRollup
    from feedback.numbers.rollups import shop_rollups_rebuild

    result = FeedbackDashboard(answers=answers, reviews=reviews, cases=cases, requests=requests)
    started = time.perf_counter()
    shop, user = _fill(answers, reviews, cases)
    result.fill_seconds = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    shop_rollups_rebuild(shop)
    result.rollup_seconds = round(time.perf_counter() - started, 1)
    result.rollup_rows = FeedbackDayRollup.objects.filter(shop=shop).count()

    client = Client()
    client.force_login(user)
    for days in ("90", "365"):
        url = f"/dashboard/feedback/?days={days}"
        response = client.get(url)  # warm: templates compiled, connection open
        if response.status_code != 200:
            result.errors.append(f"{url}: {response.status_code}")
            continue
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        result.queries = max(result.queries, len(queries))
        times = []
        for _ in range(requests):
            t0 = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
        result.timings_ms[days] = [round(statistics.median(times), 1), round(p95, 1)]
    return result.__dict__


def measure(
    *,
    answers: int = ANSWERS,
    reviews: int = REVIEWS,
    requests: int = REQUESTS,
    database_url: str = stack.DATABASE_URL,
) -> FeedbackDashboard:
    """The probe in its own process, on `database_url`."""
    print(f"feedback dashboard: {answers:,} answers, {reviews:,} reviews ...", flush=True)
    env = {
        **stack.postgres_env(),
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "postpurchase.settings.test",
    }
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--probe",
            "--answers",
            str(answers),
            "--reviews",
            str(reviews),
            "--requests",
            str(requests),
        ],
        cwd=stack.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        return FeedbackDashboard(answers, reviews, errors=[(done.stderr or done.stdout)[-2000:]])
    return FeedbackDashboard(**json.loads(done.stdout.strip().splitlines()[-1]))


# --- the report's parts ---------------------------------------------------------------------


def target(r: FeedbackDashboard) -> tuple[str, str, str, str]:
    what = f"feedback dashboard at {r.answers:,} answers and {r.reviews:,} reviews (p95)"
    goal = f"< {TARGET_MS:.0f} ms"
    worst = r.worst_p95
    if worst is None or r.errors:
        return what, goal, "not measured: " + "; ".join(e[-200:] for e in r.errors), "FALL SHORT"
    return what, goal, f"{worst:.0f} ms", "PASS" if worst < TARGET_MS else "FALL SHORT"


def console(r: FeedbackDashboard) -> list[str]:
    if r.worst_p95 is None:
        return [f"feedback dashboard: failed: {r.errors[:1]}"]
    shown = ", ".join(
        f"{d} days median {t[0]:.0f} ms, p95 {t[1]:.0f} ms" for d, t in r.timings_ms.items()
    )
    return [
        f"feedback dashboard: {shown}; {r.queries} queries a view; {r.rollup_rows} rollup rows "
        f"rebuilt in {r.rollup_seconds:.1f} s (data filled in {r.fill_seconds:.1f} s)"
    ]


def section(r: FeedbackDashboard) -> list[str]:
    if r.worst_p95 is None:
        return ["### Feedback dashboard", "", "Not measured: " + "; ".join(r.errors)[:500]]
    rows = [
        f"| last {d} days | {t[0]:.0f} ms | **{t[1]:.0f} ms** |" for d, t in r.timings_ms.items()
    ]
    return [
        "### Feedback dashboard (numbers page)",
        "",
        f"{r.answers:,} answers, {r.reviews:,} reviews, {r.cases:,} cases; {r.rollup_rows} daily "
        f"rollup rows, rebuilt in {r.rollup_seconds:.1f} s; {r.queries} queries a view.",
        "",
        "| period | median | p95 |",
        "|---|---:|---:|",
        *rows,
    ]


def method(r: FeedbackDashboard) -> list[str]:
    return [
        "- **Feedback dashboard.** `bench/feedback_dashboard.py`: one shop's year of feedback "
        f"({r.answers:,} survey answers of 1.1× as many surveys sent, {r.reviews:,} reviews, "
        f"{r.cases:,} cases, shipments for half the answers) inserted by `INSERT … SELECT` "
        "cloning one ORM-made row per table, the daily rollups rebuilt "
        "(`feedback_rollups_rebuild`'s service), then `/dashboard/feedback/` requested through "
        f"Django's test client by a signed-in owner, {r.requests} times per period after one "
        "warm-up (test settings, real PostgreSQL).",
    ]


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=ANSWERS)
    parser.add_argument("--reviews", type=int, default=REVIEWS)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--database-url", default="", help="an existing migrated database")
    parser.add_argument("--keep-db", action="store_true", help=f"keep {STANDALONE_DB}")
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.probe:
        print(json.dumps(_probe(args.answers, args.reviews, CASES, args.requests)))
        return 0
    with stack.standalone_database(
        STANDALONE_DB, args.database_url, keep=args.keep_db
    ) as database_url:
        result = measure(
            answers=args.answers,
            reviews=args.reviews,
            requests=args.requests,
            database_url=database_url,
        )
    print("\n".join(console(result)))
    what, goal, measured, verdict = target(result)
    print(f"{what}: goal {goal}, measured {measured}: {verdict}")
    for error in result.errors:
        print(error)
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.exit(main())
