"""The feedback numbers bench: its probe fills, rolls up and times the page, and its figure
reaches the report."""

from datetime import UTC, datetime

import pytest

from bench import feedback_dashboard
from bench.report import Run, console, targets
from tests.feedback.test_analysis_bench import _section


@pytest.mark.django_db
def test_the_probe_fills_rolls_up_and_times_the_page():
    result = feedback_dashboard.FeedbackDashboard(**feedback_dashboard._probe(300, 60, 20, 2))

    assert not result.errors
    assert set(result.timings_ms) == {"90", "365"}
    assert result.rollup_rows > 100  # spread over a year
    assert 0 < result.queries < 30


def test_the_figure_is_a_target_of_the_report():
    run = Run(started=datetime(2026, 12, 6, tzinfo=UTC), config={}, machine={}, seconds={})
    run.feedback = feedback_dashboard.FeedbackDashboard(
        answers=1_000_000,
        reviews=200_000,
        cases=20_000,
        rollup_rows=366,
        queries=9,
        timings_ms={"90": [40.0, 55.0], "365": [45.0, 61.0]},
    )

    [found] = [t for t in targets(run) if "feedback dashboard" in t.what]

    assert (found.goal, found.measured, found.verdict) == ("< 300 ms", "61 ms", "PASS")
    assert "feedback dashboard: 90 days median 40 ms, p95 55 ms" in console(run)
    assert "**61 ms**" in _section(run)
