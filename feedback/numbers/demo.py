"""The demo shop's feedback numbers: once the surveys, reviews and cases have seeded their
year, count it into the daily rollups so the numbers page shows it at once."""

from datetime import datetime
from typing import Any

from django.dispatch import receiver

# The parts that seed feedback connect first (receivers run in the order they connect), so
# the count below sees what they made.
from feedback.cases import demo as cases_demo  # noqa: F401
from feedback.numbers.rollups import shop_rollups_rebuild
from feedback.reviews import demo as reviews_demo  # noqa: F401
from feedback.surveys import demo as surveys_demo  # noqa: F401
from orders.demo import demo_shop_seeded
from orders.models import Shop


@receiver(demo_shop_seeded, dispatch_uid="feedback.demo.numbers")
def demo_numbers_rollup(*, shop: Shop, now: datetime, seed: int, **kwargs: Any) -> dict[str, int]:
    return {"feedback_rollup_days": shop_rollups_rebuild(shop)}
