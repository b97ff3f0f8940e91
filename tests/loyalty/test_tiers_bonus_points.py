"""A points-based tier counts points earned at once (a review, a birthday, a referral) the moment
they are booked: the member moves up after that commit, not at the next order or night. A
spend-based programme is left alone by them, and a staff adjustment (not earned) moves no
tier."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from loyalty.earning.bonuses import review_points_award
from loyalty.ledger import Booking, entry_book, member_for
from loyalty.models import EntryKind, Programme, Subject, TierChange, TierChangeReason
from loyalty.programme.services import member_points_adjust
from orders.models import StaffRole
from tests.factories import CustomerFactory, ShopFactory, StaffMembershipFactory
from tests.loyalty.factories import three_tiers
from tests.loyalty.tiers_helpers import run_loyalty_tasks

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
RECOMPUTE = "loyalty.tasks.customer_tier_recompute_task"


def _member_with(shop, points: int):
    """A member of `shop` who earned `points` a month ago (Silver is at 200)."""
    customer = CustomerFactory(shop=shop)
    with time_machine.travel(T0 - timedelta(days=30), tick=False):
        member = member_for(customer)
        entry_book(
            member.pk,
            Booking(
                kind=EntryKind.EARN,
                key=f"earlier:{member.pk}",
                subject=Subject.ORDER,
                available=points,
            ),
        )
    member.refresh_from_db()
    return member


def _review(shop, member, capture, review_id: int = 1) -> list[str]:
    with time_machine.travel(T0, tick=False), capture(execute=False) as callbacks:
        review_points_award(
            shop_id=shop.pk, review_id=review_id, customer_id=member.customer_id, has_photos=False
        )
    with time_machine.travel(T0, tick=False):
        return run_loyalty_tasks(callbacks, capture)


def test_a_review_bonus_that_crosses_the_threshold_moves_the_member_up_at_once(
    django_capture_on_commit_callbacks,
):
    shop = ShopFactory(timezone="UTC")
    three_tiers(shop, basis="points")
    Programme.objects.filter(shop=shop).update(review_points=60)
    member = _member_with(shop, 150)
    assert member.tier.name == "Bronze"

    ran = _review(shop, member, django_capture_on_commit_callbacks)

    assert ran.count(RECOMPUTE) == 1
    member.refresh_from_db()
    assert member.tier.name == "Silver"
    change = TierChange.objects.filter(member=member).first()
    assert (change.reason, change.qualifying_value, change.at) == (
        TierChangeReason.QUALIFIED,
        Decimal("210.00"),
        T0,
    )
    # The same review published again books nothing, and moves nothing.
    assert _review(shop, member, django_capture_on_commit_callbacks) == []


def test_a_birthday_bonus_counts_too(django_capture_on_commit_callbacks):
    shop = ShopFactory(timezone="UTC")
    three_tiers(shop, basis="points")
    member = _member_with(shop, 450)

    with time_machine.travel(T0, tick=False):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            entry_book(
                member.pk,
                Booking(
                    kind=EntryKind.EARN,
                    key=f"birthday:{member.customer_id}:2026",
                    subject=Subject.BIRTHDAY,
                    available=100,
                ),
            )
        run_loyalty_tasks(callbacks, django_capture_on_commit_callbacks)

    member.refresh_from_db()
    assert member.tier.name == "Gold"


def test_a_spend_based_programme_is_untouched_by_a_bonus(django_capture_on_commit_callbacks):
    shop = ShopFactory(timezone="UTC")
    three_tiers(shop, basis="spend")
    Programme.objects.filter(shop=shop).update(review_points=600)
    member = _member_with(shop, 150)
    history = list(TierChange.objects.filter(member=member).values_list("pk", flat=True))

    ran = _review(shop, member, django_capture_on_commit_callbacks)

    assert RECOMPUTE not in ran
    member.refresh_from_db()
    assert member.available == 750
    assert member.tier.name == "Bronze"
    assert list(TierChange.objects.filter(member=member).values_list("pk", flat=True)) == history


def test_a_staff_adjustment_is_not_earned_and_moves_no_tier(django_capture_on_commit_callbacks):
    shop = ShopFactory(timezone="UTC")
    three_tiers(shop, basis="points")
    member = _member_with(shop, 150)
    owner = StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        member_points_adjust(
            shop_id=shop.pk,
            member_id=member.pk,
            actor=owner,
            points=500,
            reason="Goodwill",
            key="goodwill-1",
        )

    assert RECOMPUTE not in run_loyalty_tasks(callbacks, django_capture_on_commit_callbacks)
    member.refresh_from_db()
    assert member.available == 650
    assert member.tier.name == "Bronze"
