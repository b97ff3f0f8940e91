"""The demo shop's feedback, found by `seed_demo` (`autodiscover_modules("demo")`): one receiver
that adds each part's year in the order they depend on one another: the surveys and reviews
first, then their words read (the analysis' texts and topics), then the follow-up cases, which
point at the real unhappy answers and reviews written before them."""

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from feedback.analysis.demo import demo_texts_seed
from feedback.cases.demo import demo_cases_seed
from feedback.numbers.demo import demo_numbers_rollup
from feedback.reviews.demo import demo_reviews_seed
from feedback.surveys.demo import demo_surveys_seed
from orders.demo import demo_shop_seeded
from orders.models import Shop

DEMO_PARTS = (
    demo_surveys_seed,
    demo_reviews_seed,
    demo_texts_seed,
    demo_cases_seed,
    demo_numbers_rollup,
)


@receiver(demo_shop_seeded, dispatch_uid="feedback.demo")
def demo_feedback_seed(*, shop: Shop, now: datetime, seed: int, **kwargs: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for part in DEMO_PARTS:
        counts.update(part(shop=shop, now=now, seed=seed))
    return counts
