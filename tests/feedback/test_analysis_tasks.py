"""The nightly round: each shop with texts gets its own task, which retrains its model,
rescores what is pending or stale, refreshes topics and reports what it did."""

from datetime import UTC, datetime, timedelta

import psycopg2
import pytest
from django.db import connection

from feedback.analysis.selectors import current_scorer
from feedback.analysis.services import ROUND_LOCK, ROUND_LOCK_SQL, record_text
from feedback.models import AnalysedText, ShopSentimentModel, TextSource, Topic
from feedback.tasks import shop_texts_analyse_task, texts_analyse_nightly_task
from postpurchase.celery import app
from tests.factories import ShopFactory
from tests.feedback.analysis_data import shop_words_texts, store_rated

pytestmark = pytest.mark.django_db


def test_the_nightly_task_is_on_beats_schedule():
    # The test settings run no beat; the schedule the deployed beat runs is the base one.
    from postpurchase.settings import base

    [entry] = [
        e
        for e in base.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "feedback.tasks.texts_analyse_nightly_task"
    ]
    assert entry["schedule"].hour == {3}
    assert texts_analyse_nightly_task.name in app.tasks


def test_the_nightly_task_sends_one_round_per_shop_with_texts(
    shop, other_shop, django_capture_on_commit_callbacks
):
    record_text(shop=shop, source=TextSource.REVIEW, source_id=1, text="Nice")
    ShopFactory(is_active=False)  # nothing to do there, nor for other_shop (no texts)

    with django_capture_on_commit_callbacks() as callbacks:
        count = texts_analyse_nightly_task()

    assert count == 1
    assert [(c.name, c.args) for c in callbacks] == [
        ("feedback.tasks.shop_texts_analyse_task", (shop.pk,))
    ]


def test_a_shops_round_retrains_rescores_finds_topics_and_reports(shop):
    now = datetime.now(tz=UTC)
    early = record_text(
        shop=shop, source=TextSource.INBOUND_REPLY, source_id=1, text="The lid leaks, sadly."
    )
    assert early.scorer == "vader"
    store_rated(shop, shop_words_texts(300), start=now - timedelta(days=10))

    report = shop_texts_analyse_task(shop.pk)

    assert report["training"] == "trained"
    assert report["model_version"] == 1
    assert report["model_auc"] > report["vader_auc"]
    assert report["scorer"] == "model-v1"
    # The 300 pending texts and the one VADER scored before the model won.
    assert report["rescored"] == 301
    assert report["texts_in_window"] == 301
    assert "leak lid" in report["topics"]
    assert report["links"] > 0
    assert set(report["seconds"]) == {"train", "score", "topics"}
    assert not AnalysedText.objects.filter(shop=shop).exclude(scorer="model-v1").exists()
    early.refresh_from_db()
    assert early.sentiment < 0
    assert Topic.objects.get(shop=shop, key="leak lid").texts.filter(pk=early.pk).exists()
    assert current_scorer(shop).name == "model-v1"


def test_the_next_nights_round_trains_a_new_version_on_new_ratings_and_rescores(shop):
    start = datetime.now(tz=UTC) - timedelta(days=3)
    store_rated(shop, shop_words_texts(300), start=start)
    shop_texts_analyse_task(shop.pk)
    store_rated(shop, shop_words_texts(20, seed=99), start=start, first_id=1000)

    report = shop_texts_analyse_task(shop.pk)

    assert (report["training"], report["model_version"]) == ("trained", 2)
    assert report["rescored"] == 320
    assert ShopSentimentModel.objects.filter(shop=shop).count() == 2
    assert set(AnalysedText.objects.values_list("scorer", flat=True)) == {"model-v2"}


def test_a_night_with_no_new_ratings_keeps_the_model_and_rescores_nothing(shop):
    store_rated(shop, shop_words_texts(300), start=datetime.now(tz=UTC) - timedelta(days=3))
    shop_texts_analyse_task(shop.pk)
    # A text without a rating changes nothing the model learns from; it is scored at once.
    record_text(shop=shop, source=TextSource.INBOUND_REPLY, source_id=5, text="Where is it?")

    report = shop_texts_analyse_task(shop.pk)

    assert (report["training"], report["model_version"]) == ("unchanged since version 1", 1)
    assert report["rescored"] == 0
    assert ShopSentimentModel.objects.filter(shop=shop).count() == 1


def test_a_round_with_too_few_ratings_says_so_and_scores_with_vader(shop):
    store_rated(shop, shop_words_texts(50), start=datetime.now(tz=UTC) - timedelta(days=1))

    report = shop_texts_analyse_task(shop.pk)

    assert report["training"] == "50 rated texts, fewer than 200"
    assert report["model_version"] is None
    assert (report["scorer"], report["rescored"]) == ("vader", 50)
    assert not AnalysedText.objects.filter(sentiment__isnull=True).exists()


def test_a_second_round_for_a_shop_while_one_runs_does_nothing(shop):
    store_rated(shop, shop_words_texts(10), start=datetime.now(tz=UTC) - timedelta(days=1))
    # Another process's round holds the shop's lock.
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:
            cursor.execute(f"SELECT pg_advisory_lock({ROUND_LOCK_SQL}, %s)", [ROUND_LOCK, shop.pk])

        report = shop_texts_analyse_task(shop.pk)
        with other.cursor() as cursor:
            # Released by the other round when it ends. (Closing the connection releases it
            # too, but only once the server has noticed: too late for the next line.)
            cursor.execute(
                f"SELECT pg_advisory_unlock({ROUND_LOCK_SQL}, %s)", [ROUND_LOCK, shop.pk]
            )
    finally:
        other.close()

    assert report["training"] == "another round is running for this shop"
    assert report["rescored"] == 0
    assert AnalysedText.objects.filter(analysed_at__isnull=True).count() == 10
    assert shop_texts_analyse_task(shop.pk)["rescored"] == 10  # the round after it runs
