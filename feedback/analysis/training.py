"""A shop's own sentiment model, trained on the texts its customers rated (stars, scores).

Once a shop has MIN_RATED_TEXTS rated texts, its positives (rating ≥ 0.75: 4 or 5★) and
negatives (≤ 0.25: 1 or 2★; the middle is left out) train a TF-IDF (words and pairs) + logistic
regression model. A stratified quarter of them, drawn with a fixed seed, is held out; the
model and VADER both score it, and the model is chosen only when its ROC AUC is higher. The
weights kept are those of the model so measured (three quarters of the texts): the AUC shown
is the AUC of the model in use, and the texts are tokenised once. Each training is a new
version, unless the labelled texts are the same as the latest version's; the latest decides
the shop's scorer."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from feedback.analysis.scoring import NGRAM_RANGE, ModelWeights, vader
from feedback.models import AnalysedText, ShopSentimentModel

MIN_RATED_TEXTS = 200
POSITIVE_FROM = 0.75
NEGATIVE_UNTIL = 0.25
TEST_SHARE = 0.25
SEED = 20241021
# Each class needs a few texts on both sides of the split for an AUC to mean anything.
MIN_PER_CLASS = 8
# The most recent rated texts: enough to learn a shop's words, bounded in time and memory.
MAX_TRAINING_TEXTS = 50_000
# Versions kept per shop (history for ops; only the latest is used).
VERSIONS_KEPT = 10


@dataclass(frozen=True)
class TrainingOutcome:
    model: ShopSentimentModel | None
    rated_texts: int
    reason: str


def _labelled(shop_id: int) -> tuple[int, list[str], np.ndarray]:
    """How many rated texts the shop has, and its clearly positive or negative ones, each
    with 1 (positive) or 0 (negative)."""
    rows = list(
        AnalysedText.objects.filter(shop_id=shop_id, rating__isnull=False)
        .order_by("-written_at", "-pk")
        .values_list("text", "rating")[:MAX_TRAINING_TEXTS]
    )
    texts: list[str] = []
    labels: list[int] = []
    for text, rating in rows:
        if rating is None or NEGATIVE_UNTIL < rating < POSITIVE_FROM:
            continue
        texts.append(text)
        labels.append(int(rating >= POSITIVE_FROM))
    return len(rows), texts, np.array(labels, dtype=np.int64)


def _fingerprint(texts: list[str], labels: np.ndarray) -> str:
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()


def _fit(texts: list[str], labels: np.ndarray) -> tuple[TfidfVectorizer, LogisticRegression]:
    vectorizer = TfidfVectorizer(ngram_range=NGRAM_RANGE, min_df=2, sublinear_tf=True)
    features = vectorizer.fit_transform(texts)
    classifier = LogisticRegression(C=4.0, class_weight="balanced", max_iter=1000)
    classifier.fit(features, labels)
    return vectorizer, classifier


def _weights(vectorizer: TfidfVectorizer, classifier: LogisticRegression) -> ModelWeights:
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    return ModelWeights(
        vocabulary=vocabulary,
        idf=np.asarray(vectorizer.idf_, dtype=np.float64),
        coef=np.asarray(classifier.coef_[0], dtype=np.float64),
        intercept=float(classifier.intercept_[0]),
    )


def sentiment_model_train(*, shop_id: int, now: datetime | None = None) -> TrainingOutcome:
    """Train the shop's next model version and say whether it beats VADER; no model (and
    the reason) while the shop has too few rated texts or too few of one kind, and the latest
    one while its labelled texts have not changed."""
    rated, texts, labels = _labelled(shop_id)
    if rated < MIN_RATED_TEXTS:
        return TrainingOutcome(None, rated, f"{rated} rated texts, fewer than {MIN_RATED_TEXTS}")
    positives, negatives = int(labels.sum()), int(len(labels) - labels.sum())
    if min(positives, negatives) < MIN_PER_CLASS:
        return TrainingOutcome(
            None, rated, f"{positives} positive and {negatives} negative: too few of one kind"
        )
    fingerprint = _fingerprint(texts, labels)
    latest = (
        ShopSentimentModel.objects.filter(shop_id=shop_id)
        .defer("weights")
        .order_by("-version")
        .first()
    )
    if latest is not None and latest.data_fingerprint == fingerprint:
        return TrainingOutcome(latest, rated, f"unchanged since version {latest.version}")
    train, test, y_train, y_test = train_test_split(
        texts, labels, test_size=TEST_SHARE, stratify=labels, random_state=SEED
    )
    vectorizer, classifier = _fit(train, y_train)
    model_auc = float(
        roc_auc_score(y_test, classifier.predict_proba(vectorizer.transform(test))[:, 1])
    )
    vader_auc = float(roc_auc_score(y_test, vader.score(test)))
    weights = _weights(vectorizer, classifier)
    with transaction.atomic():
        last = ShopSentimentModel.objects.filter(shop_id=shop_id).aggregate(v=Max("version"))["v"]
        model = ShopSentimentModel.objects.create(
            shop_id=shop_id,
            version=(last or 0) + 1,
            trained_at=now or timezone.now(),
            rated_texts=rated,
            train_size=len(train),
            test_size=len(test),
            positives=positives,
            negatives=negatives,
            model_auc=model_auc,
            vader_auc=vader_auc,
            is_chosen=model_auc > vader_auc,
            vocabulary_size=len(weights.vocabulary),
            data_fingerprint=fingerprint,
            weights=weights.dumps(),
        )
        old = ShopSentimentModel.objects.filter(shop_id=shop_id).order_by("-version")
        old_ids = list(old.values_list("pk", flat=True)[VERSIONS_KEPT:])
        ShopSentimentModel.objects.filter(pk__in=old_ids).delete()
    return TrainingOutcome(model, rated, "trained")
