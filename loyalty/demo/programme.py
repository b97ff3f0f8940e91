"""The demo shop's programme as it was launched a year ago: 1 point per dollar, points that
expire nine months after they are confirmed (so the first months' unspent points have expired
by now and the next ones are about to), three tiers on 12-month spend and a catalogue with one
reward of each kind."""

from datetime import datetime
from decimal import Decimal

from loyalty.programme.defaults import ProgrammeStarted, programme_rows_create
from orders.models import Product, Shop

EXPIRY_MONTHS = 9
# The shop's review incentive (feedback's demo offers 50 points a review): the same figure.
REVIEW_POINTS = 50
GOLD_FROM = Decimal("600")
FREE_PRODUCT_TITLE = "Stoneware Mug, 12 oz"


def _free_product(shop: Shop) -> Product | None:
    products = Product.objects.filter(shop=shop).order_by("pk")
    return products.filter(title=FREE_PRODUCT_TITLE).first() or products.first()


def demo_programme_create(*, shop: Shop, launched_at: datetime) -> ProgrammeStarted:
    """The programme, its tiers and rewards, created as of `launched_at` (the caller keeps
    their timestamps)."""
    return programme_rows_create(
        shop=shop,
        gold_from=GOLD_FROM,
        free_product=_free_product(shop),
        at=launched_at,
        name="Northwind Rewards",
        expiry_months=EXPIRY_MONTHS,
        review_points=REVIEW_POINTS,
        referral_monthly_cap=3,
    )
