"""Birthday and first-order anniversary: on the customer's own date and hour, once a year."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.engine.kinds import flows_ensure_defaults
from notifications.flows.occasions import occasion_date, occasions_schedule_due
from notifications.models import Flow, Message, Purpose
from notifications.services import message_render
from notifications.tasks import occasions_schedule_due_task
from orders.models import OrderStatus
from tests.factories import ConsentFactory, CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def customer(shop, **fields):
    person = CustomerFactory(shop=shop, **fields)
    ConsentFactory(customer=person, channel="email", purpose=Purpose.MARKETING)
    return person


def birthdays(now):
    return [m for m in occasions_schedule_due(now=now) if m.kind == "birthday"]


def test_a_tokyo_customer_gets_it_on_their_date_while_it_is_still_the_day_before_in_utc(shop):
    tokyo = customer(shop, timezone="Asia/Tokyo", birthday=date(1990, 3, 15))
    customer(shop, timezone="America/New_York", birthday=date(1990, 3, 15))
    customer(shop, timezone="Asia/Tokyo", birthday=date(1990, 3, 14))
    flows_ensure_defaults(shop_id=shop.pk)
    # This shop greets customers from 08:00 their time.
    Flow.objects.filter(shop=shop, kind="birthday").update(delay=timedelta(hours=8))

    # 23:30 UTC on March 14 is 08:30 on March 15 in Tokyo.
    (message,) = birthdays(utc(2026, 3, 14, 23, 30))

    assert message.customer == tokyo
    assert message.send_at == utc(2026, 3, 14, 23, 0)  # 08:00 in Tokyo
    assert message.expires_at == message.send_at + timedelta(hours=12)
    assert (message.about_type, message.about_id) == ("year", 2026)
    assert message.purpose == Purpose.MARKETING
    assert message.order_id is None
    assert message.recipient == tokyo.email


def test_the_default_send_time_is_ten_in_the_morning_local_time(shop):
    customer(shop, timezone="Asia/Tokyo", birthday=date(1990, 3, 15))

    assert birthdays(utc(2026, 3, 15, 0, 30)) == []  # 09:30 in Tokyo
    (message,) = birthdays(utc(2026, 3, 15, 1, 30))

    assert message.send_at == utc(2026, 3, 15, 1, 0)


def test_without_a_zone_of_their_own_the_shops_zone_decides(shop):
    shop.timezone = "America/Los_Angeles"
    shop.save()
    person = customer(shop, timezone="", birthday=date(1985, 7, 1))

    # 17:30 UTC on July 1 is 10:30 in Los Angeles (PDT).
    (message,) = birthdays(utc(2026, 7, 1, 17, 30))

    assert message.customer == person
    assert message.send_at == utc(2026, 7, 1, 17, 0)


def test_once_a_year_however_often_the_tick_runs(shop):
    customer(shop, timezone="Europe/London", birthday=date(1980, 5, 20))

    first = birthdays(utc(2026, 5, 20, 10, 0))
    again = birthdays(utc(2026, 5, 20, 14, 0))
    next_year = birthdays(utc(2027, 5, 20, 10, 0))

    assert len(first) == 1
    assert again == []
    assert [m.about_id for m in next_year] == [2027]
    assert Message.objects.filter(kind="birthday").count() == 2


def test_a_feb_29_birthday_is_kept_on_feb_28_in_other_years(shop):
    leapling = customer(shop, timezone="Europe/London", birthday=date(2000, 2, 29))

    in_2027 = birthdays(utc(2027, 2, 28, 11, 0))
    on_feb_28_2028 = birthdays(utc(2028, 2, 28, 11, 0))
    on_feb_29_2028 = birthdays(utc(2028, 2, 29, 11, 0))

    assert [m.customer for m in in_2027] == [leapling]
    assert on_feb_28_2028 == []
    assert [m.about_id for m in on_feb_29_2028] == [2028]
    assert occasion_date(2, 29, 2027) == date(2027, 2, 28)


def test_erased_customers_and_disabled_flows_get_nothing(shop, other_shop):
    customer(shop, birthday=date(1990, 6, 1), redacted_at=utc(2026, 1, 1))
    customer(other_shop, timezone="Europe/London", birthday=date(1990, 6, 1))
    flows_ensure_defaults(shop_id=other_shop.pk)
    Flow.objects.filter(shop=other_shop, kind="birthday").update(is_enabled=False)

    assert birthdays(utc(2026, 6, 1, 12, 0)) == []


def test_candidates_are_narrowed_by_month_and_day_in_sql(shop):
    customer(shop, timezone="Europe/London", birthday=date(1990, 8, 8))
    flows_ensure_defaults(shop_id=shop.pk)

    with CaptureQueriesContext(connection) as queries:
        occasions_schedule_due(now=utc(2026, 8, 8, 12, 0))

    candidate_query = next(q["sql"] for q in queries if '"orders_customer"."birthday"' in q["sql"])
    assert "EXTRACT" in candidate_query.upper()


def test_the_first_order_anniversary_in_the_customers_zone(shop):
    person = customer(shop, timezone="Asia/Tokyo")
    # 20:00 UTC on June 9, 2025 was already June 10 in Tokyo.
    first = OrderFactory(shop=shop, customer=person, placed_at=utc(2025, 6, 9, 20, 0))
    OrderFactory(shop=shop, customer=person, placed_at=utc(2025, 9, 1, 9, 0))

    found = occasions_schedule_due(now=utc(2026, 6, 10, 1, 30))  # 10:30 in Tokyo

    (message,) = [m for m in found if m.kind == "first_order_anniversary"]
    assert message.customer == person
    assert message.send_at == utc(2026, 6, 10, 1, 0)
    assert message.context["order_number"] == first.number
    assert message.context["years"] == 1
    assert message.context["first_order_date"] == "2025-06-10"
    text = message_render(kind="first_order_anniversary", channel="email", context=message.context)
    assert text.subject == f"{shop.name}: 1 year since your first order"
    assert first.number in text.body_text


def test_only_the_first_order_that_counts_has_an_anniversary(shop):
    earlier_buyer = customer(shop, timezone="Europe/London")
    OrderFactory(shop=shop, customer=earlier_buyer, placed_at=utc(2024, 1, 5, 12, 0))
    OrderFactory(shop=shop, customer=earlier_buyer, placed_at=utc(2025, 6, 10, 12, 0))
    cancelled_first = customer(shop, timezone="Europe/London")
    OrderFactory(
        shop=shop,
        customer=cancelled_first,
        placed_at=utc(2025, 3, 1, 12, 0),
        status=OrderStatus.CANCELLED,
    )
    OrderFactory(shop=shop, customer=cancelled_first, placed_at=utc(2025, 6, 10, 12, 0))
    this_year = customer(shop, timezone="Europe/London")
    OrderFactory(shop=shop, customer=this_year, placed_at=utc(2026, 6, 10, 8, 0))

    found = occasions_schedule_due(now=utc(2026, 6, 10, 12, 0))

    assert [m.customer for m in found if m.kind == "first_order_anniversary"] == [cancelled_first]


def test_the_hourly_task_schedules_what_is_due(shop):
    customer(shop, timezone="Europe/London", birthday=date(1990, 11, 25))

    with time_machine.travel(utc(2026, 11, 25, 12, 0), tick=False):
        assert occasions_schedule_due_task() == 1
        assert occasions_schedule_due_task() == 0
