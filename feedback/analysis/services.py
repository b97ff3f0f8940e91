"""Every write of the text analysis: a text recorded and scored at once, and the nightly
round that retrains, rescores and finds the topics of a shop.

`record_text` is the one call each source makes (survey answers, reviews, problem reports,
inbound texts, case messages): cheap enough for a request (one small VADER or model score and
a few statements). The nightly round works in bulk: scores in batches written with one
statement each, links written with one statement."""

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from feedback.analysis import topics as topic_finding
from feedback.analysis.scoring import scorer_for
from feedback.analysis.text import phrase_keys
from feedback.analysis.training import TrainingOutcome, sentiment_model_train
from feedback.models import AnalysedText, TextSource, Topic
from orders.models import Customer, Shop
from postpurchase.exceptions import DomainError

logger = logging.getLogger(__name__)

TEXT_MAX_LENGTH = 10_000
# Topics are found among the texts of this window, and those texts are linked again to the
# shop's topics each night; older texts keep the links they had.
TOPIC_WINDOW = timedelta(days=90)
SCORE_BATCH = 5000


def rating_from_stars(stars: int, *, best: int = 5) -> float:
    """1..best stars as 0..1 (1★ → 0, 5★ → 1)."""
    return (stars - 1) / (best - 1)


def rating_from_score(score: int, *, lowest: int = 0, highest: int = 10) -> float:
    """A survey score (NPS 0 to 10, CSAT 1 to 5, CES 1 to 7) as 0..1."""
    return (score - lowest) / (highest - lowest)


def _checked(source: str, text: str, rating: float | None) -> str:
    if source not in TextSource.values:
        raise DomainError(f"Unknown text source '{source}'.")
    if rating is not None and not 0.0 <= rating <= 1.0:
        raise DomainError("A rating is scaled to 0..1 before it is recorded.")
    text = text.strip()
    if not text:
        raise DomainError("There is no text to analyse.")
    return text[:TEXT_MAX_LENGTH]


def record_text(
    *,
    shop: Shop,
    source: str,
    source_id: int,
    text: str,
    customer: Customer | None = None,
    rating: float | None = None,
    written_at: datetime | None = None,
) -> AnalysedText:
    """Store what the customer wrote and score it now with the shop's current scorer; link
    it to the shop's known topics it mentions. Recording the same source object again
    updates its one row (text, rating, score, topics); a customer or time not given keeps
    what the row had. `rating` is the customer's own score scaled to 0..1
    (`rating_from_stars`, `rating_from_score`), or None when the source has none."""
    text = _checked(source, text, rating)
    if customer is not None and customer.shop_id != shop.pk:
        raise DomainError("That customer is not the shop's.")
    scorer = scorer_for(shop.pk)
    [sentiment] = scorer.score([text])
    now = timezone.now()
    row = AnalysedText(
        shop=shop,
        source=source,
        source_id=source_id,
        customer=customer,
        text=text,
        rating=rating,
        written_at=written_at or now,
        sentiment=sentiment,
        scorer=scorer.name,
        analysed_at=now,
    )
    updated = ["text", "rating", "sentiment", "scorer", "analysed_at", "updated_at"]
    updated += ["customer"] if customer is not None else []
    updated += ["written_at"] if written_at is not None else []
    with transaction.atomic():
        [row] = AnalysedText.objects.bulk_create(
            [row],
            update_conflicts=True,
            unique_fields=["shop", "source", "source_id"],
            update_fields=updated,
        )
        if customer is None or written_at is None:
            row.refresh_from_db(fields=["customer", "written_at", "created_at"])
        _text_topics_link(row.pk, shop.pk, sorted(phrase_keys(text)))
    return row


def _text_topics_link(text_id: int, shop_id: int, keys: list[str]) -> None:
    """Link one text to the shop's known topics among its phrase keys, replacing its links:
    two statements, whatever the topics (our own tables)."""
    links = AnalysedText.topics.through._meta.db_table
    topics = Topic._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {links} WHERE analysedtext_id = %s", [text_id])  # noqa: S608
        cursor.execute(
            f"INSERT INTO {links} (analysedtext_id, topic_id) "  # noqa: S608
            f"SELECT %s, id FROM {topics} WHERE shop_id = %s AND key = ANY(%s::text[])",
            [text_id, shop_id, keys],
        )


@dataclass(frozen=True)
class PendingText:
    """A text to store now and score in the nightly round (a backfill, the demo's year)."""

    source: str
    source_id: int
    text: str
    written_at: datetime
    rating: float | None = None
    customer_id: int | None = None


def record_texts_pending(*, shop: Shop, texts: Iterable[PendingText]) -> int:
    """Store many texts unscored, for the nightly round (`shop_texts_analyse`) to score and
    link in bulk; a text already stored is updated and scored again. Returns how many."""
    rows = [
        AnalysedText(
            shop=shop,
            source=t.source,
            source_id=t.source_id,
            customer_id=t.customer_id,
            text=_checked(t.source, t.text, t.rating),
            rating=t.rating,
            written_at=t.written_at,
            analysed_at=None,
        )
        for t in texts
    ]
    AnalysedText.objects.bulk_create(
        rows,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["shop", "source", "source_id"],
        update_fields=["text", "rating", "written_at", "customer", "analysed_at", "updated_at"],
    )
    return len(rows)


def _scores_write(ids: list[int], scores: list[float], scorer: str, now: datetime) -> None:
    table = AnalysedText._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET sentiment = v.score, scorer = %s, analysed_at = %s, "  # noqa: S608 (our own table's name)
            "updated_at = %s FROM unnest(%s::bigint[], %s::float8[]) AS v(id, score) "
            "WHERE t.id = v.id",
            [scorer, now, now, ids, scores],
        )


def texts_rescore(*, shop_id: int, batch_size: int = SCORE_BATCH) -> int:
    """Score, with the shop's current scorer, every text of the shop not scored yet or
    scored by another scorer (a model since replaced, VADER before the model won). Returns
    how many were scored."""
    scorer = scorer_for(shop_id)
    todo = AnalysedText.objects.filter(shop_id=shop_id).filter(
        Q(analysed_at__isnull=True) | ~Q(scorer=scorer.name)
    )
    done, after = 0, 0
    while True:
        batch = list(
            todo.filter(pk__gt=after).order_by("pk").values_list("pk", "text")[:batch_size]
        )
        if not batch:
            return done
        ids = [pk for pk, _ in batch]
        _scores_write(ids, scorer.score([text for _, text in batch]), scorer.name, timezone.now())
        done += len(batch)
        after = ids[-1]


@dataclass(frozen=True)
class TopicsOutcome:
    texts: int
    topics: list[str]
    new_topics: list[str]
    links: int


def _links_replace(text_ids: list[int], pairs: list[tuple[int, int]]) -> None:
    """The texts' topic links, replaced in two statements (our own link table)."""
    table = AnalysedText.topics.through._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE analysedtext_id = ANY(%s::bigint[])",  # noqa: S608
            [text_ids],
        )
        cursor.execute(
            f"INSERT INTO {table} (analysedtext_id, topic_id) "  # noqa: S608
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[])",
            [[text for text, _ in pairs], [topic for _, topic in pairs]],
        )


def topics_refresh(
    *, shop_id: int, now: datetime | None = None, window: timedelta = TOPIC_WINDOW
) -> TopicsOutcome:
    """Find the shop's distinctive negative phrases among its texts of the window, keep each
    as its topic (a phrase seen before keeps its row and name; its figures and examples are
    refreshed, and its rank says where it stands now), and link every text of the window to
    the shop's topics it mentions."""
    now = now or timezone.now()
    rows = list(
        AnalysedText.objects.filter(shop_id=shop_id, written_at__gte=now - window)
        .order_by("pk")
        .values_list("pk", "text", "rating", "sentiment")
    )
    texts = [topic_finding.ScoredText(*row) for row in rows]
    keys = [phrase_keys(t.text) for t in texts]
    found = topic_finding.find_topics(texts, keys)
    with transaction.atomic():
        known = set(
            Topic.objects.filter(shop_id=shop_id, key__in=[f.key for f in found]).values_list(
                "key", flat=True
            )
        )
        Topic.objects.filter(shop_id=shop_id, rank__isnull=False).update(rank=None, updated_at=now)
        Topic.objects.bulk_create(
            [
                Topic(
                    shop_id=shop_id,
                    key=f.key,
                    label=f.label[:120],
                    negative_texts=f.negative,
                    positive_texts=f.positive,
                    z_score=f.z,
                    rank=place,
                    examples=f.examples,
                    first_found_at=now,
                    computed_at=now,
                )
                for place, f in enumerate(found, start=1)
            ],
            update_conflicts=True,
            unique_fields=["shop", "key"],
            # Not the label nor when it was first found: a topic keeps its name.
            update_fields=[
                *("negative_texts", "positive_texts", "z_score", "rank", "examples"),
                *("computed_at", "updated_at"),
            ],
        )
        topic_ids = dict(Topic.objects.filter(shop_id=shop_id).values_list("key", "pk"))
        pairs = topic_finding.links([t.pk for t in texts], keys, topic_ids)
        _links_replace([t.pk for t in texts], pairs)
    return TopicsOutcome(
        texts=len(texts),
        topics=[f.key for f in found],
        new_topics=[f.key for f in found if f.key not in known],
        links=len(pairs),
    )


@dataclass
class AnalysisReport:
    """What one nightly round did for a shop (logged, returned by the task)."""

    shop_id: int
    training: TrainingOutcome
    scorer: str = ""
    rescored: int = 0
    topics: TopicsOutcome | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        model = self.training.model
        return {
            "shop_id": self.shop_id,
            "training": self.training.reason,
            "model_version": model.version if model else None,
            "model_auc": round(model.model_auc, 4) if model else None,
            "vader_auc": round(model.vader_auc, 4) if model else None,
            "scorer": self.scorer,
            "rescored": self.rescored,
            "texts_in_window": self.topics.texts if self.topics else 0,
            "topics": self.topics.topics if self.topics else [],
            "new_topics": self.topics.new_topics if self.topics else [],
            "links": self.topics.links if self.topics else 0,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


# The advisory lock's first key names this round and the database: advisory locks are the
# whole server's, and two databases on one server (staging beside production, test workers)
# must not wait for each other's shop with the same id. The second key is the shop.
ROUND_LOCK = "feedback.texts_round"
ROUND_LOCK_SQL = "hashtext(current_database() || ':' || %s)"


@contextmanager
def _round_lock(shop_id: int) -> Iterator[bool]:
    """Whether this process may run the shop's round: one at a time per shop (a task sent
    twice, a manual run during the night's), held for the session, not a transaction."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_try_advisory_lock({ROUND_LOCK_SQL}, %s)", [ROUND_LOCK, shop_id])
        got = bool(cursor.fetchone()[0])
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT pg_advisory_unlock({ROUND_LOCK_SQL}, %s)", [ROUND_LOCK, shop_id]
                )


def shop_texts_analyse(*, shop_id: int, now: datetime | None = None) -> AnalysisReport:
    """The nightly round for one shop: retrain its model (and choose between it and VADER),
    score what is pending or was scored by another scorer, then refresh its topics and links.
    A round already running for the shop makes this one a no-op that says so."""
    with _round_lock(shop_id) as mine:
        if not mine:
            busy = TrainingOutcome(None, 0, "another round is running for this shop")
            return AnalysisReport(shop_id=shop_id, training=busy)
        clock = time.perf_counter()
        report = AnalysisReport(shop_id=shop_id, training=sentiment_model_train(shop_id=shop_id))
        report.seconds["train"] = time.perf_counter() - clock
        clock = time.perf_counter()
        report.scorer = scorer_for(shop_id).name
        report.rescored = texts_rescore(shop_id=shop_id)
        report.seconds["score"] = time.perf_counter() - clock
        clock = time.perf_counter()
        report.topics = topics_refresh(shop_id=shop_id, now=now)
        report.seconds["topics"] = time.perf_counter() - clock
    # Counts only: the topics are customers' words.
    summary = {k: v for k, v in report.as_dict().items() if k not in ("topics", "new_topics")}
    logger.info("text analysis of shop %s: %s", shop_id, summary)
    return report


def texts_erase_for_customer(*, shop_id: int, customer_id: int) -> int:
    """A customer's erasure reaches their words here too: their texts go (with their topic
    links), and so does any topic's example quoting them. Returns how many texts went."""
    texts = AnalysedText.objects.filter(shop_id=shop_id, customer_id=customer_id)
    words = list(texts.values_list("text", flat=True))
    if not words:
        return 0
    for topic in Topic.objects.filter(shop_id=shop_id).exclude(examples=[]):
        kept = [q for q in topic.examples if not any(q.rstrip("…") in text for text in words)]
        if kept != topic.examples:
            topic.examples = kept
            topic.save(update_fields=["examples", "updated_at"])
    texts.delete()
    return len(words)


def shops_with_texts() -> list[int]:
    """The active shops that have texts to analyse."""
    return list(
        Shop.objects.filter(is_active=True)
        .filter(pk__in=AnalysedText.objects.values("shop_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
