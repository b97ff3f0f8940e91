"""The two sentiment scorers behind one small interface: VADER (its own word list, pure
Python, about 40 µs a text) and a shop's trained model (TF-IDF of words and pairs, then a
logistic regression: vectorised, so a batch costs little more than one text).

Both give -1 (most negative) .. 1 (most positive): VADER's compound score, and for the model
2p - 1 where p is its probability that the text is positive."""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from feedback.models import ShopSentimentModel
from feedback.models.analysis import VADER

# How the shop model reads a text; training and scoring must agree (see `training`).
NGRAM_RANGE = (1, 2)


class Scorer(Protocol):
    name: str

    def score(self, texts: Sequence[str]) -> list[float]: ...


class VaderScorer:
    name = VADER

    def __init__(self) -> None:
        self._analyzer: SentimentIntensityAnalyzer | None = None

    def score(self, texts: Sequence[str]) -> list[float]:
        if self._analyzer is None:  # reads its word list once per process, when first needed
            self._analyzer = SentimentIntensityAnalyzer()
        polarity = self._analyzer.polarity_scores
        return [float(polarity(text)["compound"]) for text in texts]


vader = VaderScorer()


@dataclass(frozen=True)
class ModelWeights:
    vocabulary: list[str]
    idf: np.ndarray
    coef: np.ndarray
    intercept: float

    def dumps(self) -> bytes:
        out = io.BytesIO()
        np.savez_compressed(
            out,
            vocabulary=np.array(self.vocabulary, dtype=str),
            idf=self.idf,
            coef=self.coef,
            intercept=np.array([self.intercept]),
        )
        return out.getvalue()

    @classmethod
    def loads(cls, data: bytes) -> "ModelWeights":
        # Plain arrays only: allow_pickle=False refuses anything that would run code.
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return cls(
                vocabulary=[str(term) for term in arrays["vocabulary"]],
                idf=arrays["idf"],
                coef=arrays["coef"],
                intercept=float(arrays["intercept"][0]),
            )


class ModelScorer:
    """A trained model's weights applied as scikit-learn's TfidfVectorizer (sublinear tf,
    l2 norm) and LogisticRegression would, without keeping their pickled objects."""

    def __init__(self, name: str, weights: ModelWeights) -> None:
        self.name = name
        self._weights = weights
        self._counts = CountVectorizer(
            vocabulary={term: i for i, term in enumerate(weights.vocabulary)},
            ngram_range=NGRAM_RANGE,
        )

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        x = self._counts.transform(texts).astype(np.float64)
        x.data = np.log(x.data) + 1.0
        x = normalize(x.multiply(self._weights.idf).tocsr())
        decision = x @ self._weights.coef + self._weights.intercept
        return 1.0 / (1.0 + np.exp(-decision))

    def score(self, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        return [float(v) for v in np.clip(2.0 * self.probabilities(texts) - 1.0, -1.0, 1.0)]


# Loaded models by (shop, version): a request scoring one text loads its shop's weights once
# per process. Small: a process serves few shops' writes at a time.
_loaded: dict[tuple[int, int], ModelScorer] = {}
_LOADED_MAX = 32


def model_scorer(row: ShopSentimentModel) -> ModelScorer:
    key = (row.shop_id, row.version)
    found = _loaded.get(key)
    if found is None:
        weights = ModelWeights.loads(bytes(row.weights))
        found = ModelScorer(row.scorer_name, weights)
        if len(_loaded) >= _LOADED_MAX:
            # The oldest goes; another thread may have dropped it already.
            _loaded.pop(next(iter(_loaded), key), None)
        _loaded[key] = found
    return found


def latest_model(shop_id: int) -> ShopSentimentModel | None:
    """The shop's latest trained model (chosen or not), without its weights."""
    return (
        ShopSentimentModel.objects.filter(shop_id=shop_id)
        .defer("weights")
        .order_by("-version")
        .first()
    )


def scorer_for(shop_id: int) -> Scorer:
    """The scorer the shop's texts get now: its latest model if that beat VADER, else VADER.
    One small query; the weights are read only the first time a process needs them."""
    latest = latest_model(shop_id)
    if latest is None or not latest.is_chosen:
        return vader
    key = (shop_id, latest.version)
    if key in _loaded:
        return _loaded[key]
    return model_scorer(ShopSentimentModel.objects.get(pk=latest.pk))
