"""The demo shop comes with a year of reviews: mostly 4 and 5 stars, some low ones, a few held
by a rule, some with photos and replies, and the latest under the points incentive."""

import pytest

from feedback.models import Review, ReviewPhoto, ReviewReply, ReviewStatus
from orders.demo import demo_seed
from orders.models import Shop

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_realistic_year_of_reviews():
    demo_seed(scale=0.1, seed=7)
    shop = Shop.objects.get(slug="demo")

    reviews = Review.objects.filter(shop=shop)
    total = reviews.count()
    assert total > 50
    high = reviews.filter(rating__gte=4).count()
    low = reviews.filter(rating__lte=2).count()
    assert high > total * 0.6
    assert low > 0
    assert reviews.filter(status=ReviewStatus.HELD).exists()
    assert ReviewPhoto.objects.filter(review__shop=shop).exists()
    assert ReviewReply.objects.filter(review__shop=shop).exists()
    assert reviews.filter(incentivized=True).exists()
    assert not reviews.filter(events__isnull=True).exists()
    assert all(r.submitted_at > r.order.delivered_at for r in reviews.select_related("order")[:50])
