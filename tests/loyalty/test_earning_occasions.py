"""Birthday and first-order anniversary bonuses, on the customer's day in their zone, through
the same finding as the occasion messages: the birthday bonus once per 365 days and none
within 30 days of the birthday being entered or changed; the tier's birthday gift with it."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loyalty.models import Member, Redemption, RedemptionSource
from loyalty.occasions.services import occasions_award_due
from orders.services import order_ingest
from orders.services.data import CustomerData, OrderData
from postpurchase.models import DomainEvent
from tests.factories import CustomerFactory, OrderFactory
from tests.loyalty.earning_helpers import balance, entries, events_deliver
from tests.loyalty.factories import (
    LoyaltyProgrammeFactory,
    RewardFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db

# 2026-06-10 at 09:00 in London (UTC+1).
JUNE_10 = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)


@pytest.fixture
def programme(shop):
    return LoyaltyProgrammeFactory(shop=shop, birthday_points=100, anniversary_points=70)


def _birthday_entered(customer, birthday: date, at: datetime) -> None:
    """The birthday as the shop reports it, through the order ingest (which publishes the
    change) at `at`."""
    with time_machine.travel(at, tick=False):
        order_ingest(
            shop=customer.shop,
            data=OrderData(
                external_id=f"b-{customer.pk}-{at.timestamp()}",
                number="#B1",
                placed_at=at,
                currency="USD",
                total=Decimal("0.00"),
                source="api",
                customer=CustomerData(external_id=customer.external_id, birthday=birthday),
                line_items=(),
            ),
        )
        events_deliver()


def test_a_birthday_earns_on_the_day_in_the_customers_zone(programme):
    customer = CustomerFactory(shop=programme.shop, birthday=date(1990, 6, 10))

    with time_machine.travel(JUNE_10 - timedelta(hours=10), tick=False):  # 23:00 on June 9 there
        assert occasions_award_due() == 0
    with time_machine.travel(JUNE_10, tick=False):
        assert occasions_award_due() == 1
        assert occasions_award_due() == 0  # the next hour's tick gives nothing more

    assert entries(customer) == [("earn", 100, 0, f"birthday:{customer.pk}:2026")]


def test_the_next_hours_tick_reads_no_more_for_more_customers_already_served(programme):
    """A customer stays due all their day: those served this year are passed over at once."""

    def next_tick_queries() -> int:
        with time_machine.travel(JUNE_10, tick=False):
            occasions_award_due()
            with CaptureQueriesContext(connection) as queries:
                assert occasions_award_due() == 0
        return len(queries)

    CustomerFactory(shop=programme.shop, birthday=date(1990, 6, 10))
    one = next_tick_queries()
    for _ in range(3):
        CustomerFactory(shop=programme.shop, birthday=date(1991, 6, 10))

    assert next_tick_queries() == one


def test_birthdays_in_a_row_earn_once_each_year(programme):
    customer = CustomerFactory(shop=programme.shop, birthday=date(1990, 6, 10))
    for year in (2026, 2027):
        with time_machine.travel(JUNE_10.replace(year=year), tick=False):
            occasions_award_due()
    assert [e[3] for e in entries(customer)] == [
        f"birthday:{customer.pk}:2026",
        f"birthday:{customer.pk}:2027",
    ]


def test_no_birthday_bonus_within_30_days_of_entering_it(programme):
    customer = CustomerFactory(shop=programme.shop)
    _birthday_entered(customer, date(1990, 6, 10), at=JUNE_10 - timedelta(days=10))
    assert DomainEvent.objects.filter(name="customer_birthday_changed").count() == 1
    member = Member.objects.get(customer=customer)
    assert member.birthday_changed_at == JUNE_10 - timedelta(days=10)

    with time_machine.travel(JUNE_10, tick=False):
        assert occasions_award_due() == 0
    assert entries(customer) == []


def test_a_birthday_moved_after_its_bonus_earns_nothing_more_within_365_days(programme):
    customer = CustomerFactory(shop=programme.shop, birthday=date(1990, 6, 10))
    with time_machine.travel(JUNE_10, tick=False):
        occasions_award_due()
    # Changed in June to August: more than 30 days before August, but within the year.
    _birthday_entered(customer, date(1990, 8, 20), at=JUNE_10 + timedelta(days=1))
    with time_machine.travel(datetime(2026, 8, 20, 9, 0, tzinfo=UTC), tick=False):
        assert occasions_award_due() == 0
    assert balance(customer) == (100, 0)


def test_the_birthday_gift_is_the_tier_of_the_member_on_the_day(programme):
    shop = programme.shop
    gift = RewardFactory(shop=shop, name="Birthday treat", points_price=0)
    gold = TierFactory(shop=shop, name="Gold", birthday_reward=gift)
    customer = CustomerFactory(shop=shop, birthday=date(1990, 6, 10))
    Member.objects.create(shop=shop, customer=customer, tier=gold, referral_code="GOLD0001")

    with time_machine.travel(JUNE_10, tick=False):
        occasions_award_due()

    granted = Redemption.objects.get()
    assert (granted.reward, granted.source, granted.points) == (gift, RedemptionSource.BIRTHDAY, 0)
    assert granted.idempotency_key == f"birthday_gift:{customer.pk}:2026"


def test_the_first_orders_anniversary_earns_once_a_year(programme):
    customer = CustomerFactory(shop=programme.shop)
    OrderFactory(shop=programme.shop, customer=customer, placed_at=JUNE_10 - timedelta(days=365))
    OrderFactory(shop=programme.shop, customer=customer, placed_at=JUNE_10 - timedelta(days=100))

    with time_machine.travel(JUNE_10, tick=False):
        assert occasions_award_due() == 1
        assert occasions_award_due() == 0
    assert entries(customer) == [("earn", 70, 0, f"anniversary:{customer.pk}:2026")]
