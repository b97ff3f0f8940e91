"""The demo shop: `reference` holds what it is made of, `seed` builds its history."""

from orders.demo.reference import DEFAULT_PASSWORD, DEFAULT_SEED
from orders.demo.seed import (
    DemoLink,
    DemoSummary,
    demo_reference_now,
    demo_seed,
    demo_shop_seeded,
    explicit_timestamps,
)

__all__ = [
    "DEFAULT_PASSWORD",
    "DEFAULT_SEED",
    "DemoLink",
    "DemoSummary",
    "demo_reference_now",
    "demo_seed",
    "demo_shop_seeded",
    "explicit_timestamps",
]
