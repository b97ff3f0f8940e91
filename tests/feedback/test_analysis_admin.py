"""Ops' pages of the text analysis: texts filtered by shop, source, sentiment band and
scorer, topics, and each shop's scorer in use with its AUC."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin import site
from django.urls import reverse

from feedback.analysis.admin import AnalysedTextAdmin
from feedback.analysis.services import record_text, shop_texts_analyse
from feedback.models import AnalysedText, ShopSentimentModel, TextSource, Topic
from tests.feedback.analysis_data import shop_words_texts, store_rated

pytestmark = pytest.mark.django_db


@pytest.fixture
def analysed(shop):
    start = datetime.now(tz=UTC) - timedelta(days=5)
    store_rated(shop, shop_words_texts(300), start=start)
    shop_texts_analyse(shop_id=shop.pk)
    # New ratings the next night: a second version supersedes the first.
    store_rated(shop, shop_words_texts(20, seed=3), start=start, first_id=1000)
    shop_texts_analyse(shop_id=shop.pk)
    record_text(shop=shop, source=TextSource.INBOUND_REPLY, source_id=7, text="Wonderful staff")
    return shop


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?band=negative",
        "?band=neutral",
        "?band=positive",
        "?band=unscored",
        "?source=review",
        "?scorer=model-v2",
        "?q=lid",
    ],
)
def test_texts_list_filters_and_searches(admin_client, analysed, query):
    response = admin_client.get(reverse("admin:feedback_analysedtext_changelist") + query)

    assert response.status_code == 200


def test_sentiment_band_filter_keeps_only_that_band(admin_client, analysed):
    response = admin_client.get(
        reverse("admin:feedback_analysedtext_changelist") + "?band=negative"
    )

    shown = response.context["cl"].queryset
    assert shown.exists()
    assert not shown.filter(sentiment__gt=-0.05).exists()


def test_a_text_shows_its_topics(admin_client, analysed):
    text = AnalysedText.objects.filter(topics__key="leak lid").first()

    response = admin_client.get(reverse("admin:feedback_analysedtext_change", args=[text.pk]))

    assert response.status_code == 200
    label = Topic.objects.get(key="leak lid").label
    assert label in AnalysedTextAdmin(AnalysedText, site).topic_list(text)


def test_topics_list_and_page(admin_client, analysed):
    topic = Topic.objects.get(key="leak lid")

    listing = admin_client.get(reverse("admin:feedback_topic_changelist") + "?current=yes")
    page = admin_client.get(reverse("admin:feedback_topic_change", args=[topic.pk]))

    assert listing.status_code == page.status_code == 200
    assert topic.label.encode() in listing.content
    assert b"<blockquote>" in page.content


def test_model_status_shows_the_scorer_in_use_and_its_auc(admin_client, analysed):
    latest = ShopSentimentModel.objects.get(version=2)

    response = admin_client.get(reverse("admin:feedback_shopsentimentmodel_changelist"))

    assert response.status_code == 200
    assert f"this model (AUC {latest.model_auc:.3f})".encode() in response.content
    assert b"superseded" in response.content
    page = admin_client.get(reverse("admin:feedback_shopsentimentmodel_change", args=[latest.pk]))
    assert page.status_code == 200


def test_nothing_here_can_be_added_or_changed(admin_client, analysed):
    for model in ("analysedtext", "topic", "shopsentimentmodel"):
        assert admin_client.get(reverse(f"admin:feedback_{model}_add")).status_code == 403
