"""The demo shop's feedback numbers: once the surveys, reviews and cases have seeded their
year, count it into the daily rollups so the numbers page shows it at once (the last of
`feedback.demo.DEMO_PARTS`)."""

from datetime import datetime
from typing import Any

from feedback.numbers.rollups import shop_rollups_rebuild
from orders.models import Shop


def demo_numbers_rollup(*, shop: Shop, now: datetime, seed: int, **kwargs: Any) -> dict[str, int]:
    return {"feedback_rollup_days": shop_rollups_rebuild(shop)}
