"""The programme's numbers on a hand-built shop, to the point and the cent: members and
participation, points issued / redeemed / expired / taken back, the liability a bookkeeper
can use, members against other customers, referrals, tiers; the page in a fixed number of
queries whatever the number of members."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loyalty.dashboard.selectors import Period, loyalty_numbers
from loyalty.ledger import Booking, entry_book, member_for
from loyalty.models import (
    EntryKind,
    Member,
    Programme,
    Referral,
    ReferralStatus,
    Subject,
    Tier,
    TierChange,
)
from loyalty.programme.services import programme_start
from orders.models import StaffRole
from tests.factories import CustomerFactory, OrderFactory, ShopFactory, StaffMembershipFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
JUNE = Period(date(2026, 6, 1), date(2026, 6, 30))


def _at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 10, 0, tzinfo=UTC)


def _book(member: Member, kind: str, key: str, when: datetime, **points) -> None:
    subject = {
        EntryKind.EARN: Subject.ORDER,
        EntryKind.CONFIRM: Subject.ORDER,
        EntryKind.REDEEM: Subject.REDEMPTION,
        EntryKind.RETURN: Subject.REDEMPTION,
        EntryKind.EXPIRE: Subject.LOT,
        EntryKind.CLAWBACK: Subject.RETURN_ITEM,
        EntryKind.ADJUST: Subject.STAFF,
    }[kind]
    entry_book(member.pk, Booking(kind=kind, key=key, subject=subject, at=when, **points))


def _join(shop, name: str, when: datetime, tier: Tier | None = None) -> Member:
    member = member_for(CustomerFactory(shop=shop, first_name=name))
    Member.objects.filter(pk=member.pk).update(created_at=when, tier=tier)
    member.refresh_from_db()
    return member


def _order(shop, customer, total: str, when: datetime, **fields) -> None:
    OrderFactory(shop=shop, customer=customer, total=Decimal(total), placed_at=when, **fields)


@pytest.fixture
def world():
    """June against May, in a shop whose point is worth 0.02 USD."""
    with time_machine.travel(NOW, tick=False):
        shop = ShopFactory(timezone="UTC", currency="USD")
        programme_start(shop_id=shop.pk, actor=None)
        Programme.objects.filter(shop=shop).update(point_value=Decimal("0.02"))
        bronze, silver, _gold = Tier.objects.filter(shop=shop).order_by("rank")
        ada = _join(shop, "Ada", _at(5, 10), silver)
        bea = _join(shop, "Bea", _at(6, 5), bronze)
        fay = _join(shop, "Fay", _at(6, 2), bronze)
        cat = CustomerFactory(shop=shop, first_name="Cat")
        dan = CustomerFactory(shop=shop, first_name="Dan")

        # Orders. June: Ada 100 + 50 (a repeat), Bea 80, Cat 40 (and a cancelled one), Dan 30
        # (and a voided one). May: Ada 60, Cat 20.
        _order(shop, ada.customer, "100.00", _at(6, 3))
        _order(shop, ada.customer, "50.00", _at(6, 18))
        _order(shop, bea.customer, "80.00", _at(6, 6))
        _order(shop, cat, "40.00", _at(6, 7))
        _order(shop, cat, "999.00", _at(6, 8), status="cancelled")
        _order(shop, dan, "30.00", _at(6, 9))
        _order(shop, dan, "500.00", _at(6, 10), financial_status="voided")
        _order(shop, ada.customer, "60.00", _at(5, 20))
        _order(shop, cat, "20.00", _at(5, 21))

        # Points. May: Ada's 100 bonus. June: 150 pending for Ada (confirmed), Bea's 200
        # birthday and 70 pending, Fay's 10 then 25 taken back (she owes 15); Ada redeems 100
        # and gets 40 back for an unused reward, staff take 10; Bea loses 30 to expiry and 20
        # to a return.
        _book(ada, EntryKind.EARN, "a-may", _at(5, 15), available=100)
        _book(fay, EntryKind.EARN, "f-1", _at(6, 2), available=10)
        _book(fay, EntryKind.CLAWBACK, "f-2", _at(6, 3), available=-25, may_overdraw=True)
        _book(ada, EntryKind.EARN, "a-1", _at(6, 3), pending=150)
        _book(bea, EntryKind.EARN, "b-1", _at(6, 5), available=200)
        _book(ada, EntryKind.CONFIRM, "a-2", _at(6, 20), pending=-150, available=150)
        _book(ada, EntryKind.REDEEM, "a-3", _at(6, 21), available=-100)
        _book(ada, EntryKind.RETURN, "a-4", _at(6, 21), available=40)
        _book(bea, EntryKind.CLAWBACK, "b-2", _at(6, 26), available=-20)
        _book(bea, EntryKind.EARN, "b-3", _at(6, 27), pending=70)
        _book(bea, EntryKind.EXPIRE, "b-4", _at(6, 28), available=-30)
        _book(ada, EntryKind.ADJUST, "a-5", _at(6, 29), available=-10)

        # Referrals made in June, one at each stage.
        friends = [CustomerFactory(shop=shop) for _ in range(3)]
        stages = [
            (ada, cat, ReferralStatus.INVITED, None),
            (
                ada,
                dan,
                ReferralStatus.ORDERED,
                OrderFactory(shop=shop, customer=dan, placed_at=_at(4, 1)),
            ),
            (bea, friends[0], ReferralStatus.REWARDED, None),
            (bea, friends[1], ReferralStatus.REFUSED, None),
            (bea, friends[2], ReferralStatus.FLAGGED, None),
        ]
        for referrer, friend, status, order in stages:
            referral = Referral.objects.create(
                shop=shop, referrer=referrer, friend=friend, status=status, friend_order=order
            )
            Referral.objects.filter(pk=referral.pk).update(created_at=_at(6, 12))

        # Tier moves: May, Ada joins Bronze; June, Ada up to Silver, Bea joins, Fay down.
        moves = [
            (ada, None, bronze, _at(5, 10)),
            (ada, bronze, silver, _at(6, 18)),
            (bea, None, bronze, _at(6, 5)),
            (fay, silver, bronze, _at(6, 25)),
        ]
        # Joining the lowest tier on becoming a member is recorded too: only the moves above
        # count here.
        TierChange.objects.filter(shop=shop).delete()
        for member, before, after, when in moves:
            TierChange.objects.create(
                shop=shop,
                member=member,
                from_tier=before,
                to_tier=after,
                reason="qualified",
                at=when,
            )
        yield shop


def test_the_numbers_of_june_against_may_are_exact(world):
    shop = world
    with time_machine.travel(NOW, tick=False):
        numbers = loyalty_numbers(
            shop=shop, programme=Programme.objects.get(shop=shop), period=JUNE
        )

    cur, prev = numbers.current, numbers.previous
    assert numbers.members_total == 3
    assert (cur.new_members, prev.new_members) == (2, 1)
    # Members: Ada and Bea ordered in June, Cat and Dan did not join: 2 of 4.
    assert cur.participation == Decimal("50.0")
    assert prev.participation == Decimal("50.0")  # Ada of Ada and Cat

    flows = cur.flows
    assert (flows.issued, flows.redeemed, flows.expired, flows.taken_back, flows.adjusted) == (
        430,
        60,
        30,
        45,
        -10,
    )
    assert flows.redemption_rate == Decimal("14.0")  # 60 / 430
    assert (prev.flows.issued, prev.flows.redeemed) == (100, 0)

    assert (cur.members.customers, cur.members.repeaters, cur.members.orders) == (2, 1, 3)
    assert cur.members.repeat_rate == Decimal("50.0")
    assert cur.members.average_order == Decimal("76.67")  # 230 / 3
    assert (cur.others.customers, cur.others.repeaters, cur.others.orders) == (2, 0, 2)
    assert cur.others.repeat_rate == Decimal("0.0")
    assert cur.others.average_order == Decimal("35.00")
    assert prev.members.average_order == Decimal("60.00")

    assert cur.referrals == {
        "invited": 5,
        "ordered": 2,
        "rewarded": 1,
        "refused": 1,
        "flagged": 1,
    }
    assert cur.tier_moves == {"joined": 1, "up": 1, "down": 1}
    assert prev.tier_moves == {"joined": 1, "up": 0, "down": 0}
    assert [(t.name, t.members) for t in numbers.tiers] == [
        ("Bronze", 2),
        ("Silver", 1),
        ("Gold", 0),
    ]
    weeks = [(w.first.day, w.issued, w.redeemed) for w in numbers.weeks]
    assert weeks == [(1, 360, 0), (8, 0, 0), (15, 0, 60), (22, 70, 0), (29, 0, 0)]


def test_the_liability_is_available_points_times_the_point_value_as_of_now(world):
    shop = world
    with time_machine.travel(NOW, tick=False):
        liability = loyalty_numbers(
            shop=shop, programme=Programme.objects.get(shop=shop), period=JUNE
        ).liability

    # Ada 180 + Bea 150 available; Fay's -15 is owed to the shop, not counted.
    assert liability.available_points == 330
    assert liability.available_value == Decimal("6.60")
    assert liability.pending_points == 70
    assert liability.pending_value == Decimal("1.40")
    assert (liability.members_in_debt, liability.debt_points) == (1, 15)
    assert liability.as_of == NOW


def test_the_page_shows_the_figures_with_the_as_of_time(client, world):
    shop = world
    client.force_login(StaffMembershipFactory(shop=shop, role=StaffRole.AGENT).user)
    with time_machine.travel(NOW, tick=False):
        html = client.get(
            "/dashboard/loyalty/", {"since": "2026-06-01", "until": "2026-06-30"}
        ).content.decode()

    assert '<p class="kpi__value" id="kpi-issued-value">430</p>' in html
    assert '<p class="kpi__value" id="kpi-redemption-rate-value">14.0 %</p>' in html
    assert "<strong>6.60 USD</strong>" in html
    assert "As of Jun 30, 2026, 12:00" in html
    assert "0.02 USD a point" in html
    assert "76.67 USD" in html
    assert "35.00 USD" in html
    assert "Invited to rewarded: 20.0 %" in html


def test_the_page_reads_the_same_number_of_queries_for_more_members(client, world):
    shop = world
    client.force_login(StaffMembershipFactory(shop=shop, role=StaffRole.MANAGER).user)
    url = "/dashboard/loyalty/"

    with time_machine.travel(NOW, tick=False):
        client.get(url)  # warm the session and the shop's caches
        with CaptureQueriesContext(connection) as few:
            client.get(url)
        for n in range(25):
            member = member_for(CustomerFactory(shop=shop))
            _book(member, EntryKind.EARN, f"more-{n}", _at(6, 15), available=10)
            OrderFactory(shop=shop, customer=member.customer, placed_at=_at(6, 16))
        with CaptureQueriesContext(connection) as many:
            client.get(url)

    assert len(many) == len(few)
    assert len(few) <= 16, [q["sql"][:80] for q in few.captured_queries]


def test_the_selector_alone_is_eight_queries(world, django_assert_num_queries):
    shop = world
    programme = Programme.objects.get(shop=shop)
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(8):
        loyalty_numbers(shop=shop, programme=programme, period=JUNE)
