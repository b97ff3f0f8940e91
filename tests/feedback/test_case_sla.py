"""The SLA clock in business hours: across a weekend, a holiday and a change of the clocks, and
paused while the case waits on the customer."""

from datetime import date, timedelta

import pytest
import time_machine

from feedback.cases.services import case_customer_reply_record, case_reply_send
from feedback.cases.sla import (
    BusinessCalendar,
    SlaState,
    business_add,
    business_between,
    business_subtract,
    sla_clock,
    sla_words,
)
from feedback.models import CaseStatus
from tests.factories import StaffMembershipFactory
from tests.feedback.case_helpers import detractor_case, ny, office_shop, set_targets

OFFICE = {str(day): ["09:00", "17:00"] for day in range(5)}


def calendar(holidays=()) -> BusinessCalendar:
    return BusinessCalendar.build(zone="America/New_York", hours=OFFICE, holidays=list(holidays))


def test_eight_business_hours_from_friday_afternoon_end_on_monday_afternoon():
    # Friday 4 December 2026, 16:00 in New York: one hour left that day, seven on Monday.
    assert business_add(calendar(), ny(2026, 12, 4, 16, 0), timedelta(hours=8)) == ny(
        2026, 12, 7, 16, 0
    )


def test_a_start_outside_hours_counts_from_the_next_opening():
    assert business_add(calendar(), ny(2026, 12, 5, 11, 0), timedelta(hours=2)) == ny(
        2026, 12, 7, 11, 0
    )


def test_a_holiday_is_skipped():
    # Monday 7 December a holiday: Friday's last hour, then Tuesday 9-16.
    assert business_add(
        calendar([date(2026, 12, 7)]), ny(2026, 12, 4, 16, 0), timedelta(hours=8)
    ) == ny(2026, 12, 8, 16, 0)


def test_across_the_spring_clock_change_business_hours_stay_wall_clock_hours():
    # 8 March 2026: clocks go forward in New York overnight Saturday to Sunday.
    start = ny(2026, 3, 6, 16, 0)  # Friday, EST (UTC-5)
    due = business_add(calendar(), start, timedelta(hours=8))
    assert due == ny(2026, 3, 9, 16, 0)  # Monday 16:00 EDT (UTC-4)
    assert (due - start) == timedelta(hours=71)  # the night the clocks went forward is short
    assert business_between(calendar(), start, due) == timedelta(hours=8)


def test_across_the_autumn_clock_change_too():
    start = ny(2026, 10, 30, 16, 0)  # Friday before 1 November 2026
    assert business_add(calendar(), start, timedelta(hours=8)) == ny(2026, 11, 2, 16, 0)


def test_subtracting_walks_back_over_the_weekend():
    assert business_subtract(calendar(), ny(2026, 12, 7, 10, 0), timedelta(hours=2)) == ny(
        2026, 12, 4, 16, 0
    )


def test_between_is_negative_when_the_end_comes_first():
    assert business_between(calendar(), ny(2026, 12, 7, 10, 0), ny(2026, 12, 4, 16, 0)) == -(
        timedelta(hours=2)
    )


def test_clock_in_words():
    cal = calendar()
    due = ny(2026, 12, 7, 16, 0)
    soon = ny(2026, 12, 7, 12, 0)
    on_time = sla_clock(cal, due_at=due, soon_at=soon, now=ny(2026, 12, 4, 16, 0))
    late = sla_clock(cal, due_at=due, soon_at=soon, now=ny(2026, 12, 7, 18, 5))
    close = sla_clock(cal, due_at=due, soon_at=soon, now=ny(2026, 12, 7, 13, 0))

    assert (on_time.state, sla_words(on_time)) == (SlaState.ON_TIME, "due in 8 business hours")
    assert (close.state, sla_words(close)) == (SlaState.DUE_SOON, "due in 3 business hours")
    assert (late.state, sla_words(late)) == (SlaState.BREACHED, "breached 2 h ago")


@pytest.mark.django_db
def test_a_detractor_case_is_due_monday_afternoon_when_opened_friday_afternoon():
    shop, policy = office_shop()
    set_targets(policy, first=8, resolution=24)
    with time_machine.travel(ny(2026, 12, 4, 16, 0), tick=False):
        case = detractor_case(shop)

    assert case.first_response_due_at == ny(2026, 12, 7, 16, 0)
    # 24 business hours: Fri 1 h, Mon 8, Tue 8, Wed 7.
    assert case.resolution_due_at == ny(2026, 12, 9, 16, 0)
    # Due soon under 4 business hours left (a quarter of 8 is 2: the floor decides).
    assert case.first_response_soon_at == ny(2026, 12, 7, 12, 0)


@pytest.mark.django_db
def test_waiting_on_the_customer_pauses_the_clock():
    shop, policy = office_shop()
    set_targets(policy, first=8, resolution=24)
    staff = StaffMembershipFactory(shop=shop, role="agent").user
    with time_machine.travel(ny(2026, 12, 7, 9, 0), tick=False):
        case = detractor_case(shop)
    due = case.resolution_due_at  # Wednesday 17:00
    assert due == ny(2026, 12, 9, 17, 0)

    with time_machine.travel(ny(2026, 12, 7, 10, 0), tick=False):
        case_reply_send(case=case, actor=staff, channel="email", body="So sorry, which item?")
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING
    # Tuesday: waiting, a breach would be impossible to tell.
    with time_machine.travel(ny(2026, 12, 8, 12, 0), tick=False):
        case_customer_reply_record(case=case, channel="email", body="The blue mug.")
    case.refresh_from_db()

    # Waited Monday 10-17 and Tuesday 9-12: ten business hours.
    assert case.status == CaseStatus.OPEN
    assert case.paused_for == timedelta(hours=10)
    # Wednesday 17:00 + 10 business hours: Thursday 8, Friday 2.
    assert case.resolution_due_at == ny(2026, 12, 11, 11, 0)
    assert case.first_responded_at == ny(2026, 12, 7, 10, 0)
