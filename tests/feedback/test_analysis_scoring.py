"""The scorers: VADER's direction, and the shop model's weights applied as scikit-learn
would apply the fitted pipeline."""

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from feedback.analysis.scoring import ModelScorer, ModelWeights, vader
from feedback.analysis.training import _fit, _weights
from tests.feedback.analysis_data import shop_words_texts


@pytest.mark.parametrize(
    "text",
    [
        "Great product, arrived early and it works perfectly. Love it!",
        "Thank you so much, the best mug I have ever owned.",
    ],
)
def test_vader_scores_an_obviously_positive_text_above_zero(text):
    assert vader.score([text])[0] > 0.5


@pytest.mark.parametrize(
    "text",
    [
        "Terrible quality, it broke on day one. Awful and useless.",
        "I hate it, worst purchase ever, a total waste of money.",
    ],
)
def test_vader_scores_an_obviously_negative_text_below_zero(text):
    assert vader.score([text])[0] < -0.5


def test_stored_weights_score_exactly_as_the_fitted_pipeline():
    texts = shop_words_texts(200)
    labelled = [(t, r) for t, r in texts if r != 0.5]
    labels = np.array([int(r >= 0.75) for _, r in labelled])
    vectorizer, classifier = _fit([t for t, _ in labelled], labels)
    assert isinstance(vectorizer, TfidfVectorizer)
    assert isinstance(classifier, LogisticRegression)
    weights = ModelWeights.loads(_weights(vectorizer, classifier).dumps())
    fresh = ["the lid leaks again", "the zip glides, love the colour", "nothing in common"]

    ours = ModelScorer("model-v1", weights).probabilities(fresh)

    theirs = classifier.predict_proba(vectorizer.transform(fresh))[:, 1]
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)


def test_stored_weights_refuse_a_pickle():
    payload = b"\x80\x04\x95" + b"\x00" * 20  # a pickle's opening bytes, not npz arrays

    with pytest.raises(ValueError, match=r"."):
        ModelWeights.loads(payload)
