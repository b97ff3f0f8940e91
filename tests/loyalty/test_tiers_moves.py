"""Tiers on trailing 12-month spend: up at once on the paid order that crosses a threshold,
down only at the yearly review, recomputed nightly as orders leave the window, and every move
kept on record."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from loyalty.ledger import Booking, entry_book, member_for
from loyalty.models import EntryKind, LedgerEntry, Subject, TierChange, TierChangeReason
from loyalty.tiers.services import (
    member_tier_recompute,
    members_due_for_recompute,
    members_tier_recompute,
    trailing_points,
    trailing_spend,
)
from orders.services.data import RefundData
from tests.factories import CustomerFactory, OrderFactory, ShopFactory
from tests.loyalty.factories import three_tiers
from tests.loyalty.tiers_helpers import deliver_events, ingest, order_data

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


@pytest.fixture
def shop():
    return ShopFactory(timezone="UTC")


@pytest.fixture
def tiers(shop):
    return three_tiers(shop)


@pytest.fixture
def customer(shop):
    return CustomerFactory(shop=shop)


def member_at(customer, at: datetime = T0 - timedelta(days=1)):
    """The customer's membership, begun at `at` (before the orders of the test)."""
    with time_machine.travel(at, tick=False):
        return member_for(customer)


def _history(member) -> list[tuple[str | None, str, str]]:
    return [
        (change.from_tier.name if change.from_tier else None, change.to_tier.name, change.reason)
        for change in TierChange.objects.filter(member=member).order_by("at", "pk")
    ]


def test_a_new_member_joins_the_lowest_tier(tiers, customer):
    member = member_for(customer)

    member.refresh_from_db()
    assert member.tier.name == "Bronze"
    assert _history(member) == [(None, "Bronze", TierChangeReason.JOINED)]


def test_a_paid_order_crossing_a_threshold_moves_the_member_up_at_once(
    shop, tiers, customer, django_capture_on_commit_callbacks
):
    member = member_at(customer)
    with time_machine.travel(T0, tick=False):
        ingest(shop, order_data(customer, "A1", "150.00"))
        deliver_events(django_capture_on_commit_callbacks)
        member.refresh_from_db()
        assert member.tier.name == "Bronze"  # 150 reaches no threshold

        ingest(shop, order_data(customer, "A2", "80.00"))
        ran = deliver_events(django_capture_on_commit_callbacks)

    member.refresh_from_db()
    assert "loyalty.tasks.customer_tier_recompute_task" in ran
    assert member.tier.name == "Silver"
    assert member.tier_since == T0
    assert member.tier_review_on == date(2027, 3, 11)
    change = TierChange.objects.filter(member=member).first()
    assert (change.reason, change.qualifying_value) == (
        TierChangeReason.QUALIFIED,
        Decimal("230.00"),
    )


def test_a_refund_does_not_move_the_member_down_before_the_review(
    shop, tiers, customer, django_capture_on_commit_callbacks
):
    member = member_at(customer)
    with time_machine.travel(T0, tick=False):
        ingest(shop, order_data(customer, "B1", "600.00"))
        deliver_events(django_capture_on_commit_callbacks)
    member.refresh_from_db()
    assert member.tier.name == "Gold"

    with time_machine.travel(T0 + timedelta(days=20), tick=False):
        refund = RefundData(external_id="r1", amount=Decimal("600.00"))
        ingest(
            shop,
            order_data(
                customer, "B1", "600.00", paid_at=T0, financial_status="refunded", refunds=(refund,)
            ),
        )
        ran = deliver_events(django_capture_on_commit_callbacks)
        assert (
            trailing_spend(shop_id=shop.pk, customer_id=customer.pk, now=T0 + timedelta(days=20))
            == 0
        )

    member.refresh_from_db()
    assert "loyalty.tasks.customer_tier_recompute_task" in ran  # heard of the refund
    assert member.tier.name == "Gold"
    assert member.tier_review_on == date(2027, 3, 11)


def test_at_the_review_the_member_moves_down_to_what_the_value_reaches(shop, tiers, customer):
    member = member_at(customer)
    OrderFactory(
        shop=shop, customer=customer, total=Decimal("600"), paid_at=T0, financial_status="paid"
    )
    member_tier_recompute(member_id=member.pk, now=T0)
    # Ten months later, a smaller order: 250 in the window at the review.
    later = T0 + timedelta(days=300)
    OrderFactory(
        shop=shop, customer=customer, total=Decimal("250"), paid_at=later, financial_status="paid"
    )

    # The anniversary itself: the order that reached Gold is still (just) in the window.
    day_before = datetime(2027, 3, 10, 23, 0, tzinfo=UTC)
    assert member_tier_recompute(member_id=member.pk, now=day_before) is None
    member.refresh_from_db()
    assert member.tier.name == "Gold"

    review = datetime(2027, 3, 11, 1, 0, tzinfo=UTC)
    change = member_tier_recompute(member_id=member.pk, now=review)

    member.refresh_from_db()
    assert member.tier.name == "Silver"
    assert (change.reason, change.qualifying_value) == (TierChangeReason.REVIEW, Decimal("250.00"))
    assert member.tier_review_on == date(2028, 3, 12)
    assert _history(member) == [
        (None, "Bronze", TierChangeReason.JOINED),
        ("Bronze", "Gold", TierChangeReason.QUALIFIED),
        ("Gold", "Silver", TierChangeReason.REVIEW),
    ]


def test_a_review_that_keeps_the_tier_sets_the_next_one_a_year_on(shop, tiers, customer):
    member = member_at(customer)
    OrderFactory(
        shop=shop, customer=customer, total=Decimal("600"), paid_at=T0, financial_status="paid"
    )
    member_tier_recompute(member_id=member.pk, now=T0)
    OrderFactory(
        shop=shop,
        customer=customer,
        total=Decimal("700"),
        paid_at=T0 + timedelta(days=200),
        financial_status="paid",
    )

    assert (
        member_tier_recompute(member_id=member.pk, now=datetime(2027, 3, 11, 9, tzinfo=UTC)) is None
    )

    member.refresh_from_db()
    assert member.tier.name == "Gold"
    assert member.tier_review_on == date(2028, 3, 12)
    assert TierChange.objects.filter(member=member).count() == 2


def test_the_nightly_run_recomputes_members_whose_orders_left_the_window(shop, tiers):
    # One member reached Gold with an order a year ago; another, Gold too, spent again since.
    lapsed, loyal = CustomerFactory(shop=shop), CustomerFactory(shop=shop)
    lapsed_member, loyal_member = member_at(lapsed), member_at(loyal)
    for customer, member in ((lapsed, lapsed_member), (loyal, loyal_member)):
        OrderFactory(
            shop=shop, customer=customer, total=Decimal("600"), paid_at=T0, financial_status="paid"
        )
        member_tier_recompute(member_id=member.pk, now=T0)
    OrderFactory(
        shop=shop,
        customer=loyal,
        total=Decimal("550"),
        paid_at=T0 + timedelta(days=100),
        financial_status="paid",
    )
    untouched = member_at(CustomerFactory(shop=shop))

    with time_machine.travel(datetime(2027, 3, 11, 2, 0, tzinfo=UTC), tick=False):
        from django.utils import timezone

        due = members_due_for_recompute(now=timezone.now())
        changed = members_tier_recompute(member_ids=due)

    assert lapsed_member.pk in due
    assert loyal_member.pk in due
    assert untouched.pk not in due
    assert changed == 1
    lapsed_member.refresh_from_db()
    loyal_member.refresh_from_db()
    assert lapsed_member.tier.name == "Bronze"
    assert loyal_member.tier.name == "Gold"
    assert loyal_member.tier_review_on == date(2028, 3, 12)


def test_an_order_leaving_the_window_before_the_review_moves_nobody(shop, tiers, customer):
    member = member_at(customer)
    OrderFactory(
        shop=shop, customer=customer, total=Decimal("300"), paid_at=T0, financial_status="paid"
    )
    member_tier_recompute(member_id=member.pk, now=T0)
    two_months_on = T0 + timedelta(days=61)
    OrderFactory(
        shop=shop,
        customer=customer,
        total=Decimal("300"),
        paid_at=two_months_on,
        financial_status="paid",
    )
    member_tier_recompute(member_id=member.pk, now=two_months_on)  # 600: Gold, review 2027-05-11

    a_year_on = datetime(2027, 3, 12, 2, 0, tzinfo=UTC)
    due = members_due_for_recompute(now=a_year_on)
    members_tier_recompute(member_ids=due, now=a_year_on)

    member.refresh_from_db()
    assert member.pk in due  # the first order left the window
    assert member.tier.name == "Gold"  # but the review is in May
    assert member.tier_review_on == date(2027, 5, 11)


def test_spend_counts_what_was_kept_of_paid_orders_in_the_window(shop, customer):
    now = T0
    paid = {"shop": shop, "customer": customer, "financial_status": "paid"}
    OrderFactory(**paid, total=Decimal("100"), paid_at=now - timedelta(days=10))
    partly = OrderFactory(
        shop=shop,
        customer=customer,
        total=Decimal("80"),
        paid_at=now - timedelta(days=5),
        financial_status="partially_refunded",
    )
    partly.events.create(shop=shop, kind="refunded", data={"refund_id": "r1", "amount": "30.00"})
    partly.events.create(shop=shop, kind="refunded", data={"refund_id": "r2", "amount": None})
    OrderFactory(**{**paid, "financial_status": "refunded"}, total=Decimal("500"), paid_at=now)
    OrderFactory(**{**paid, "financial_status": "voided"}, total=Decimal("500"), paid_at=now)
    OrderFactory(**paid, total=Decimal("500"), paid_at=now, status="cancelled")
    OrderFactory(
        **paid, total=Decimal("500"), paid_at=now - timedelta(days=366)
    )  # out of the window
    OrderFactory(shop=shop, customer=customer, total=Decimal("500"), paid_at=None)  # never paid

    assert trailing_spend(shop_id=shop.pk, customer_id=customer.pk, now=now) == Decimal("150.00")


def test_points_basis_counts_points_earned_less_those_taken_back(shop, customer):
    three_tiers(shop, basis="points")
    member = member_at(customer)
    entry_book(
        member.pk,
        Booking(
            EntryKind.EARN, "earn:1", Subject.ORDER_LINE, pending=400, at=T0 - timedelta(days=30)
        ),
    )
    entry_book(
        member.pk,
        Booking(
            EntryKind.EARN, "review:1", Subject.REVIEW, available=150, at=T0 - timedelta(days=3)
        ),
    )
    entry_book(
        member.pk,
        Booking(
            EntryKind.CLAWBACK,
            "clawback:1",
            Subject.RETURN_ITEM,
            pending=-100,
            at=T0 - timedelta(days=2),
        ),
    )
    entry_book(
        member.pk,
        Booking(
            EntryKind.EARN, "earn:old", Subject.ORDER_LINE, pending=900, at=T0 - timedelta(days=400)
        ),
    )

    assert trailing_points(member_id=member.pk, now=T0) == 450
    change = member_tier_recompute(member_id=member.pk, now=T0)
    assert change.to_tier.name == "Silver"


def test_the_tier_and_multiplier_in_force_are_recorded_on_an_entry_booked_under_it(
    shop, tiers, customer
):
    member = member_at(customer)
    OrderFactory(
        shop=shop, customer=customer, total=Decimal("600"), paid_at=T0, financial_status="paid"
    )
    member_tier_recompute(member_id=member.pk, now=T0)
    member.refresh_from_db()

    booked = entry_book(
        member.pk,
        Booking(
            EntryKind.EARN,
            "earn:line:1",
            Subject.ORDER_LINE,
            pending=90,
            tier_name=member.tier.name,
            multiplier=member.tier.earn_multiplier,
        ),
    )

    entry = LedgerEntry.objects.get(pk=booked.entry.pk)
    assert (entry.tier_name, entry.multiplier) == ("Gold", Decimal("1.50"))


def test_a_shop_without_a_programme_keeps_no_tiers(customer):
    member = member_at(customer)

    assert member_tier_recompute(member_id=member.pk) is None
    member.refresh_from_db()
    assert member.tier is None
