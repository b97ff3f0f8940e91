"""Points for a published review, whatever its rating (the rating is never read: an incentive
tied to sentiment is forbidden), more for one with photos, once per review: an edit, or a
review published again, pays nothing more."""

import pytest

from feedback.models import ReviewStatus
from feedback.reviews.services import review_publish
from loyalty.models import EntryKind
from orders.photos import photo_clean
from postpurchase.models import DomainEvent
from tests.factories import StaffMembershipFactory
from tests.feedback.helpers import delivered_order, jpeg_upload, review
from tests.loyalty.earning_helpers import balance, entries, events_deliver
from tests.loyalty.factories import LoyaltyProgrammeFactory

pytestmark = pytest.mark.django_db

HELD_TEXT = "Email me at someone@example.org and I will tell you more about it."


@pytest.fixture
def programme(shop):
    return LoyaltyProgrammeFactory(shop=shop, review_points=50, photo_review_points=30)


@pytest.mark.parametrize("rating", [1, 3, 5])
def test_a_published_review_earns_the_same_points_whatever_its_rating(programme, rating):
    order = delivered_order(programme.shop)
    written = review(order, rating=rating)
    events_deliver()

    assert entries(order.customer) == [("earn", 50, 0, f"review:{written.pk}")]
    published = DomainEvent.objects.get(name="review_published")
    assert "rating" not in published.payload
    assert published.payload["has_photos"] is False


def test_a_photo_review_earns_its_bonus_too(programme):
    order = delivered_order(programme.shop)
    written = review(order, photos=[photo_clean(jpeg_upload())])
    events_deliver()
    assert balance(order.customer) == (80, 0)
    assert [e[3] for e in entries(order.customer)] == [
        f"review:{written.pk}",
        f"photo_review:{written.pk}",
    ]


def test_an_edit_pays_nothing_more(programme):
    order = delivered_order(programme.shop)
    review(order, rating=5)
    events_deliver()
    review(order, rating=2, body="Changed my mind: the seams came apart after one wash.")
    events_deliver()

    assert DomainEvent.objects.filter(name="review_published").count() == 1
    assert balance(order.customer) == (50, 0)


def test_a_held_review_earns_when_staff_publish_it_and_only_then(programme, shop):
    order = delivered_order(shop)
    held = review(order, body=HELD_TEXT)
    events_deliver()
    assert held.status == ReviewStatus.HELD
    assert entries(order.customer, kind=EntryKind.EARN) == []

    review_publish(review=held, actor=StaffMembershipFactory(shop=shop).user)
    events_deliver()
    assert balance(order.customer) == (50, 0)


def test_no_programme_no_points(shop):
    order = delivered_order(shop)
    review(order)
    events_deliver()
    assert entries(order.customer) == []
