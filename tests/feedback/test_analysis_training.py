"""The shop's own model: trained once it has 200 rated texts, chosen only where it beats
VADER on the same held-out texts, and then the scorer its texts get."""

from datetime import UTC, datetime

import pytest

from feedback.analysis.selectors import current_scorer
from feedback.analysis.services import record_text
from feedback.analysis.training import MIN_RATED_TEXTS, sentiment_model_train
from feedback.models import AnalysedText, ShopSentimentModel, TextSource
from tests.feedback.analysis_data import general_words_texts, shop_words_texts, store_rated

pytestmark = pytest.mark.django_db
START = datetime(2026, 9, 1, tzinfo=UTC)


def test_below_200_rated_texts_no_model_is_trained_and_vader_scores(shop):
    store_rated(shop, shop_words_texts(MIN_RATED_TEXTS - 1), start=START)
    # Texts without a rating do not count towards the threshold.
    record_text(shop=shop, source=TextSource.INBOUND_REPLY, source_id=1, text="Where is it?")

    outcome = sentiment_model_train(shop_id=shop.pk)

    assert outcome.model is None
    assert outcome.rated_texts == MIN_RATED_TEXTS - 1
    assert not ShopSentimentModel.objects.exists()
    status = current_scorer(shop)
    assert (status.name, status.is_model, status.auc) == ("vader", False, None)


def test_a_model_trained_on_the_shops_own_words_beats_vader_and_is_chosen(shop):
    store_rated(shop, shop_words_texts(300), start=START)

    outcome = sentiment_model_train(shop_id=shop.pk)

    model = outcome.model
    assert model is not None
    assert model.is_chosen
    assert model.model_auc > 0.95
    assert model.vader_auc < 0.75
    # 300 rated, 30 of them 3★ (left out): 270 labelled, a stratified quarter held out.
    assert (model.rated_texts, model.positives, model.negatives) == (300, 120, 150)
    assert (model.train_size, model.test_size) == (202, 68)
    status = current_scorer(shop)
    assert (status.name, status.is_model, status.version) == ("model-v1", True, 1)
    assert status.auc == model.model_auc


def test_the_chosen_model_scores_new_texts_in_the_shops_words(shop):
    store_rated(shop, shop_words_texts(300), start=START)
    sentiment_model_train(shop_id=shop.pk)

    leak = record_text(shop=shop, source=TextSource.REVIEW, source_id=999, text="The lid leaks.")
    seal = record_text(shop=shop, source=TextSource.REVIEW, source_id=998, text="Lid seals tight")

    assert leak.scorer == seal.scorer == "model-v1"
    assert leak.sentiment < 0 < seal.sentiment


def test_vader_stays_where_the_shops_texts_teach_a_model_nothing(shop):
    store_rated(shop, general_words_texts(300), start=START)

    model = sentiment_model_train(shop_id=shop.pk).model

    assert model is not None
    assert not model.is_chosen
    assert model.vader_auc > 0.9
    assert model.model_auc < model.vader_auc
    status = current_scorer(shop)
    assert (status.name, status.is_model, status.version) == ("vader", False, 1)
    assert status.auc == model.vader_auc
    text = record_text(shop=shop, source=TextSource.REVIEW, source_id=999, text="Lovely!")
    assert text.scorer == "vader"


def test_each_training_is_a_new_version_and_the_latest_decides(shop):
    store_rated(shop, shop_words_texts(300), start=START)
    sentiment_model_train(shop_id=shop.pk)
    AnalysedText.objects.filter(shop=shop).delete()
    store_rated(shop, general_words_texts(300), start=START)

    second = sentiment_model_train(shop_id=shop.pk).model

    assert second is not None
    assert second.version == 2
    assert current_scorer(shop).name == "vader"


def test_training_is_deterministic(shop, other_shop):
    for s in (shop, other_shop):
        store_rated(s, shop_words_texts(300), start=START)

    first = sentiment_model_train(shop_id=shop.pk).model
    second = sentiment_model_train(shop_id=other_shop.pk).model

    assert first is not None
    assert second is not None
    assert (first.model_auc, first.vader_auc) == (second.model_auc, second.vader_auc)
