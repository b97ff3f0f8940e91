"""What a shop gives a customer for writing a review, declared by the app that gives it.

The FTC rule on consumer reviews lets a shop reward any review, never only a positive one, and
a storefront must say which reviews were rewarded. The app that pays (loyalty's review points)
is not the app that shows reviews (feedback), and neither may import the other: the payer
registers here what it gives a shop's reviewers, and feedback asks when it records a review."""

from collections.abc import Callable

# shop id -> points given for any published review of that shop (0: none)
ReviewPointsOffer = Callable[[int], int]

_review_points: dict[str, ReviewPointsOffer] = {}


def review_points_register(key: str, offer: ReviewPointsOffer) -> None:
    _review_points[key] = offer


def review_points_offered(shop_id: int) -> int:
    """Points a reviewer of this shop is given, whatever their rating, by every registered app."""
    return sum(offer(shop_id) for offer in _review_points.values())
