"""Staff decisions on reviews, the shop's reply, the incentive, and the publish rate by star."""

from decimal import Decimal

import pytest

from feedback.models import (
    IncentiveKind,
    Review,
    ReviewReplyRevision,
    ReviewRule,
    ReviewStatus,
)
from feedback.reviews.selectors import StarRate, publish_rate_by_star
from feedback.reviews.services import (
    review_incentive_save,
    review_publish,
    review_reject,
    review_reply_save,
)
from orders.models import StaffRole
from postpurchase.exceptions import DomainError
from postpurchase.permissions import StaffPermissionDenied
from tests.factories import StaffMembershipFactory
from tests.feedback.helpers import delivered_order, review

pytestmark = pytest.mark.django_db

HELD_TEXT = "Email me at someone@example.org and I will tell you more about it."


@pytest.fixture
def manager(shop):
    return StaffMembershipFactory(shop=shop, role=StaffRole.MANAGER).user


@pytest.fixture
def agent(shop):
    return StaffMembershipFactory(shop=shop, role=StaffRole.AGENT).user


def test_staff_publish_a_held_review_and_the_decision_is_recorded(shop, manager):
    held = review(delivered_order(shop), body=HELD_TEXT)
    assert held.status == ReviewStatus.HELD

    review_publish(review=held, actor=manager, note="The address is the shop's own")

    held.refresh_from_db()
    assert held.status == ReviewStatus.PUBLISHED
    assert held.published_at is not None
    event = held.events.last()
    assert (event.from_status, event.to_status, event.actor) == ("held", "published", manager)


def test_a_rejection_names_a_content_rule_and_nothing_else(shop, manager):
    held = review(delivered_order(shop), body=HELD_TEXT)

    with pytest.raises(DomainError):
        review_reject(review=held, actor=manager, rule="negative")
    review_reject(review=held, actor=manager, rule=ReviewRule.PERSONAL_DATA)

    held.refresh_from_db()
    assert held.status == ReviewStatus.REJECTED
    assert held.events.last().rule == ReviewRule.PERSONAL_DATA


def test_an_agent_may_reply_but_not_decide(shop, agent):
    held = review(delivered_order(shop), body=HELD_TEXT)

    with pytest.raises(StaffPermissionDenied):
        review_publish(review=held, actor=agent)
    review_reply_save(review=held, actor=agent, body="Thanks, we have sent you an email.")

    assert held.reply.body == "Thanks, we have sent you an email."


def test_a_reply_edit_keeps_every_text_with_who_and_when(shop, agent, manager):
    written = review(delivered_order(shop))

    review_reply_save(review=written, actor=agent, body="Thank you!")
    review_reply_save(review=written, actor=manager, body="Thank you, glad it fits.")

    revisions = list(ReviewReplyRevision.objects.filter(reply__review=written))
    assert [(r.body, r.author) for r in revisions] == [
        ("Thank you!", agent),
        ("Thank you, glad it fits.", manager),
    ]
    assert all(r.at for r in revisions)


def test_an_incentive_is_offered_for_any_rating_and_marks_each_review(shop, manager):
    review_incentive_save(shop=shop, actor=manager, kind=IncentiveKind.POINTS, points=50)

    low = review(delivered_order(shop), rating=1)
    high = review(delivered_order(shop), rating=5)

    for written in (low, high):
        assert written.incentivized
        assert (written.incentive_kind, written.incentive_points) == ("points", 50)
    with pytest.raises(DomainError):
        review_incentive_save(shop=shop, actor=manager, kind=IncentiveKind.DISCOUNT)


def test_no_incentive_marks_nothing(shop):
    assert not review(delivered_order(shop)).incentivized


def test_publish_rate_by_star_on_a_hand_built_set(shop, other_shop, manager):
    # 1★: 4 submitted, 1 held, 1 rejected → 2 published; 5★: 2 submitted, both published;
    # 3★: 1 submitted and held; 2★ and 4★: none. Another shop's reviews do not count.
    for _ in range(2):
        review(delivered_order(shop), rating=1)
    review(delivered_order(shop), rating=1, body=HELD_TEXT)
    rejected = review(delivered_order(shop), rating=1, body=HELD_TEXT)
    review_reject(review=rejected, actor=manager, rule=ReviewRule.PERSONAL_DATA)
    for _ in range(2):
        review(delivered_order(shop), rating=5)
    review(delivered_order(shop), rating=3, body=HELD_TEXT)
    review(delivered_order(other_shop), rating=2)

    rates = publish_rate_by_star(shop=shop)

    assert rates == [
        StarRate(1, 4, 2),
        StarRate(2, 0, 0),
        StarRate(3, 1, 0),
        StarRate(4, 0, 0),
        StarRate(5, 2, 2),
    ]
    assert [r.rate for r in rates] == [
        Decimal("50.0"),
        None,
        Decimal("0.0"),
        None,
        Decimal("100.0"),
    ]
    assert Review.objects.filter(shop=shop).count() == 7
