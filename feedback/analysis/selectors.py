"""What the dashboard reads of the text analysis, scoped to one shop."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from feedback.analysis import topics as topic_finding
from feedback.analysis.scoring import latest_model
from feedback.analysis.text import quote
from feedback.analysis.training import MIN_RATED_TEXTS
from feedback.models import AnalysedText, Topic
from feedback.models.analysis import VADER
from orders.models import Shop

EXAMPLES = topic_finding.EXAMPLES


@dataclass(frozen=True)
class ScorerStatus:
    """Which scorer the shop's texts get and how it did: `name` is "vader" or
    "model-v<version>"; the AUCs are both scorers' on the latest model's held-out texts (None
    before the first training)."""

    name: str
    is_model: bool
    version: int | None
    model_auc: float | None
    vader_auc: float | None
    trained_at: datetime | None
    rated_texts: int | None
    train_size: int | None
    test_size: int | None
    min_rated_texts: int = MIN_RATED_TEXTS

    @property
    def auc(self) -> float | None:
        """The AUC of the scorer in use."""
        return self.model_auc if self.is_model else self.vader_auc


def current_scorer(shop: Shop) -> ScorerStatus:
    latest = latest_model(shop.pk)
    if latest is None:
        return ScorerStatus(VADER, False, None, None, None, None, None, None, None)
    return ScorerStatus(
        name=latest.scorer_name if latest.is_chosen else VADER,
        is_model=latest.is_chosen,
        version=latest.version,
        model_auc=latest.model_auc,
        vader_auc=latest.vader_auc,
        trained_at=latest.trained_at,
        rated_texts=latest.rated_texts,
        train_size=latest.train_size,
        test_size=latest.test_size,
    )


def negative_texts() -> Q:
    """A negative text, as the topics count it: its customer's own rating is low, or it has
    none and its sentiment is negative."""
    return Q(rating__lte=topic_finding.NEGATIVE_RATING) | Q(
        rating__isnull=True, sentiment__lte=topic_finding.NEGATIVE_SENTIMENT
    )


@dataclass(frozen=True)
class TopicCount:
    topic: Topic
    count: int
    examples: list[str]


def _texts(shop: Shop, since: datetime, until: datetime, negative_only: bool) -> QuerySet:
    texts = AnalysedText.objects.filter(shop=shop, written_at__gte=since, written_at__lt=until)
    return texts.filter(negative_texts()) if negative_only else texts


def top_topics(
    shop: Shop,
    *,
    since: datetime,
    until: datetime,
    negative_only: bool = True,
    limit: int = 10,
) -> list[TopicCount]:
    """The shop's topics most mentioned by its (negative) texts written in [since, until),
    each with how many texts mention it and up to three quotes, the most negative first."""
    texts = _texts(shop, since, until, negative_only)
    counts = list(
        Topic.objects.filter(shop=shop, texts__in=texts)
        .annotate(count=Count("texts", distinct=True))
        .order_by("-count", "rank", "label")[:limit]
    )
    if not counts:
        return []
    # The link table's rows, numbered per topic by a window (the type plugin cannot follow an
    # annotation on an automatic through model).
    links: Any = AnalysedText.topics.through.objects
    quoted = (
        links.filter(topic__in=counts, analysedtext__in=texts)
        .annotate(
            place=Window(
                RowNumber(),
                partition_by=[F("topic_id")],
                order_by=[F("analysedtext__sentiment").asc(nulls_last=True), F("analysedtext_id")],
            )
        )
        .filter(place__lte=EXAMPLES)
        .order_by("topic_id", "place")
        .values_list("topic_id", "analysedtext__text")
    )
    examples: dict[int, list[str]] = {}
    keys = {topic.pk: topic.key for topic in counts}
    for topic_id, text in quoted:
        examples.setdefault(topic_id, []).append(quote(text, keys[topic_id]))
    return [TopicCount(t, t.count, examples.get(t.pk, [])) for t in counts]
