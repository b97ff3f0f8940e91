"""The demo shop's analysed texts, added by `seed_demo` (through `feedback.demo`, after the
surveys and reviews demos wrote their rows without the services): every survey "why" and
every review stored in bulk (`record_texts_pending`), then one analysis round, as the nightly
task would run it, scores them and finds the topics the dashboard shows."""

from datetime import datetime
from typing import Any

from feedback.analysis.services import (
    PendingText,
    rating_from_score,
    rating_from_stars,
    record_texts_pending,
    shop_texts_analyse,
)
from feedback.models import SCALES, Review, SurveyAnswer, TextSource
from orders.models import Shop


def _survey_texts(shop: Shop) -> list[PendingText]:
    answers = SurveyAnswer.objects.filter(shop=shop).exclude(comment="")
    texts = []
    for a in answers.only(
        "pk", "kind", "score", "comment", "customer_id", "commented_at", "answered_at"
    ):
        low, high = SCALES[a.kind]
        texts.append(
            PendingText(
                source=TextSource.SURVEY_ANSWER,
                source_id=a.pk,
                text=a.comment,
                written_at=a.commented_at or a.answered_at,
                rating=rating_from_score(a.score, lowest=low, highest=high),
                customer_id=a.customer_id,
            )
        )
    return texts


def _review_texts(shop: Shop) -> list[PendingText]:
    reviews = Review.objects.filter(shop=shop).only(
        "pk", "rating", "title", "body", "customer_id", "submitted_at", "edited_at"
    )
    return [
        PendingText(
            source=TextSource.REVIEW,
            source_id=r.pk,
            text="\n".join(part for part in (r.title, r.body) if part.strip()),
            written_at=r.edited_at or r.submitted_at,
            rating=rating_from_stars(r.rating),
            customer_id=r.customer_id,
        )
        for r in reviews
        if (r.title + r.body).strip()
    ]


def demo_texts_seed(*, shop: Shop, now: datetime, **kwargs: Any) -> dict[str, int]:
    stored = record_texts_pending(shop=shop, texts=[*_survey_texts(shop), *_review_texts(shop)])
    if stored:
        shop_texts_analyse(shop_id=shop.pk, now=now)
    return {"analysed_texts": stored}
