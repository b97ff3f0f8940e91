"""The text analysis bench: its texts are the same on every run, its probe runs the nightly
round end to end, and its figure reaches the report."""

from datetime import UTC, datetime

import pytest

from bench import analysis
from bench.report import Run, console, markdown, targets


def test_the_synthetic_texts_are_the_same_every_run_and_mixed_like_a_shops():
    first, again = analysis.synthetic_texts(2000), analysis.synthetic_texts(2000)

    assert first == again
    sources = {source for source, _text, _rating in first}
    assert sources == {"review", "survey_answer", "inbound_reply", "problem_report"}
    rated = [rating for _s, _t, rating in first if rating is not None]
    assert 0.6 < len(rated) / len(first) < 0.8
    assert all(0 <= r <= 1 for r in rated)


@pytest.mark.django_db
def test_the_probe_scores_and_links_every_text():
    result = analysis.Analysis(**analysis._probe(1500))

    assert result.is_complete
    assert result.rescored == result.linked_texts == 1500
    assert result.training == "trained"
    assert result.links > 0
    assert result.topics
    assert result.record_text_p99_ms is not None


def test_the_figure_is_a_target_of_the_report():
    run = Run(started=datetime(2026, 12, 6, tzinfo=UTC), config={}, machine={}, seconds={})
    run.analysis = analysis.Analysis(
        texts=100_000,
        seconds=31.5,
        steps={"train": 3.0, "score": 13.0, "topics": 12.0},
        rescored=100_000,
        scorer="model-v1",
        model_auc=0.97,
        vader_auc=0.9,
        links=58_000,
        topics=["leak lid", "lat"],
        vader_seconds=6.0,
        record_text_p50_ms=5.0,
        record_text_p99_ms=20.0,
        load_before=1.0,
        load_after=1.2,
    )

    [found] = [t for t in targets(run) if "sentiment and topics" in t.what]

    assert (found.goal, found.measured, found.verdict) == ("< 60 s", "31.5 s", "PASS")
    assert "text analysis: 100,000 texts in 31.5 s" in console(run)
    assert "**31.5 s**" in _section(run)


def _section(run: Run) -> str:
    run.config.update(
        scale="1.0", orders="1", order_pk="1", body_bytes="1", duration="1", rounds="1",
        warmup="1", connections="1", threads="1", workers="1", load_before="0", load_after="0",
    )  # fmt: skip
    run.machine.update(
        cpu="x", memory="x", os="x", python="x", django="x", gunicorn="x", postgres="x",
        redis="x", celery="x", wrk="x",
    )  # fmt: skip
    run.seconds.update(seed_postgres=1.0, migrate_postgres=1.0)
    return markdown(run)
