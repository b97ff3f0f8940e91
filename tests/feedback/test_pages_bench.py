"""The survey tap and storefront bench: its seeding gives every delivered order a survey whose
link is a first tap, the repeated tap's link records nothing, a tap's 303 counts as its success
(and a 2xx as a failure), and its figures reach the report's targets."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from bench import feedback_pages_probe, feedback_pages_report
from bench.feedback_pages import REVIEWS_JSON, TAP_FIRST, TAP_REPEAT, WIDGET, FeedbackPages
from bench.load import Measurement, wrk_parse
from bench.report import ONE_ROW, Run, targets
from bench.tracking_report import HELLO
from feedback.models import SurveyAnswer, SurveyRequest, SurveyRequestStatus
from feedback.surveys import views
from feedback.surveys.services import survey_answer_record
from orders.tracking.ratelimit import RateLimit
from tests.feedback.conftest import delivered_order, sent_survey
from tests.feedback.helpers import delivered_order as order_with_items
from tests.feedback.helpers import review
from tests.feedback.test_analysis_bench import _section

WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:8000/
  Latency Distribution
     50%   12.00ms
     99%   80.00ms
  3000 requests in 3.00s, 1.00MB read
Requests/sec:   1000.00
STATUS 1xx=0 2xx={ok} 3xx={redirects} 4xx=0 5xx=0
"""


@pytest.mark.django_db
def test_prepare_gives_each_delivered_order_a_survey_whose_link_is_a_first_tap(
    client, tmp_path, monkeypatch
):
    name = f"feedback-survey-bench-{timezone.now().timestamp()}"
    monkeypatch.setattr(views, "PAGE_LIMIT_PER_ADDRESS", RateLimit(name, limit=60, window=600))
    waiting = sent_survey(delivered_order())
    shop = waiting.shop
    unsurveyed = delivered_order(shop)
    answered = sent_survey(delivered_order(shop))
    survey_answer_record(request=answered, score=7, channel="email")
    review(order_with_items(shop), rating=5)
    paths_file = tmp_path / "taps.txt"

    facts = feedback_pages_probe.prepare(paths_file, shop_slug=shop.slug)

    paths = paths_file.read_text().split()
    assert facts["taps"] == len(paths) == facts["added"] + 1  # the waiting survey and the added
    assert SurveyRequest.objects.filter(order=unsurveyed, status="sent").exists()
    assert facts["repeat_score"] == 7
    assert facts["reviews"] == 1
    assert {client.get(path).status_code for path in paths} == {303}
    assert SurveyAnswer.objects.count() == len(paths) + 1  # each tap its survey's first answer
    assert set(SurveyRequest.objects.values_list("status", flat=True)) == {
        SurveyRequestStatus.ANSWERED
    }
    assert client.get(facts["repeat_path"]).status_code == 303
    assert SurveyAnswer.objects.get(request=answered).score == 7
    assert SurveyAnswer.objects.count() == len(paths) + 1


def test_a_tap_counts_its_redirect_as_success_and_anything_else_as_a_failure():
    redirected = wrk_parse(TAP_FIRST, WRK_OUTPUT.format(ok=0, redirects=3000), expected="3xx")
    served = wrk_parse(TAP_FIRST, WRK_OUTPUT.format(ok=3000, redirects=0), expected="3xx")
    page = wrk_parse(WIDGET, WRK_OUTPUT.format(ok=2990, redirects=10))

    assert redirected.failures == 0
    assert served.failures == 3000
    assert page.failures == 10


def _measured(name: str, rps: float, p99: float, expected: str = "2xx") -> Measurement:
    statuses = {expected: 1000}
    return Measurement(name, 1000, rps, p99 / 4, p99, statuses, 0, expected)


def _pages(tmp_path) -> FeedbackPages:
    facts = {
        "prepared_at": "2026-12-06T12:00:00+00:00",
        "taps": 7902,
        "added": 4461,
        "unanswered_before": 3441,
        "repeat_path": "/feedback/x/score/9/",
        "repeat_score": 9,
        "shop": "demo",
        "product": "8104000017",
        "product_title": "Olive Oil Hand Soap, 12 oz",
        "reviews": 248,
    }
    pages = FeedbackPages(facts, tmp_path / "taps.txt", tmp_path / "repeat.txt")
    pages.first_tap_runs = [(900, 900), (3000, 3010)]
    timing = {"median": 1.0, "mean": 1.0, "p99": 2.0, "n": 300}
    pages.probe = {
        "repeat": 300,
        "sizes": {
            "html_bytes": 7532,
            "html_gzip_bytes": 1841,
            "css_bytes": 1801,
            "css_gzip_bytes": 793,
            "json_bytes": 15576,
            "json_gzip_bytes": 2725,
        },
        "statements": {
            key: {"status": 200, "queries": 0, "kinds": {}, "redis_round_trips": 1}
            for key in ("tap_first", "tap_repeat", "widget", "json")
        },
        "timings": dict.fromkeys(
            ("hello", "one_row", "tap_first", "tap_repeat", "widget", "json"), timing
        ),
    }
    return pages


def test_the_figures_are_targets_of_the_report(tmp_path):
    run = Run(started=datetime(2026, 12, 6, tzinfo=UTC), config={}, machine={}, seconds={})
    run.feedback_pages = _pages(tmp_path)
    run.rounds = [
        [
            _measured(HELLO, 2000, 20),
            _measured(ONE_ROW, 1000, 40),
            _measured(TAP_FIRST, 300, 150, "3xx"),
            _measured(TAP_REPEAT, 800, 60, "3xx"),
            _measured(WIDGET, 1100, 35),
            _measured(REVIEWS_JSON, 950, 35),
        ]
    ]

    found = {t.what: (t.measured, t.verdict) for t in targets(run)}

    assert found["one-tap link, first taps: the answer recorded: rps / one-row rps"] == (
        "0.30 (300 against 1,000 requests/s)",
        "FALL SHORT",
    )
    assert found["one-tap link, first taps: the answer recorded: p99 latency"][1] == "FALL SHORT"
    assert found["one-tap link, repeated tap of an answered survey: rps / one-row rps"][1] == (
        "PASS"
    )
    assert found["review widget, cached: rps / one-row rps"][1] == "PASS"
    assert found["reviews JSON, cached: rps / one-row rps"][1] == "FALL SHORT"
    page = _section(run)
    assert "### Survey one-tap link, review widget and JSON" in page
    assert "Fall short of their target: one-tap link, first taps" in page
    assert "Widget weight: HTML 7,532 bytes + `review-widget.css` 1,801 bytes" in page
    assert found["review widget HTML + `review-widget.css`"] == ("9.1 KB", "PASS")
    assert "900 taps → 900, 3,000 taps → 3,010" in "\n".join(
        feedback_pages_report.notes(run.feedback_pages)
    )
