"""Review points from the loyalty programme are an incentive: every review the shop collects
while it pays them is marked so, whatever its rating (FTC rule, 16 CFR 465)."""

import pytest

from tests.feedback.helpers import delivered_order, review
from tests.loyalty.factories import LoyaltyProgrammeFactory

pytestmark = pytest.mark.django_db


def test_a_programme_paying_for_reviews_marks_every_rating_as_incentivised(shop):
    LoyaltyProgrammeFactory(shop=shop, review_points=40)

    for rating in (1, 5):
        written = review(delivered_order(shop), rating=rating)
        assert written.incentivized
        assert (written.incentive_kind, written.incentive_points) == ("points", 40)


def test_an_inactive_programme_or_one_paying_nothing_marks_nothing(shop, other_shop):
    LoyaltyProgrammeFactory(shop=shop, review_points=40, is_active=False)
    LoyaltyProgrammeFactory(shop=other_shop, review_points=0)

    assert not review(delivered_order(shop)).incentivized
    assert not review(delivered_order(other_shop)).incentivized
