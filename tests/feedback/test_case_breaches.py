"""A broken SLA is told to the assignee and the shop's managers and owners once per breach,
however often the sweep runs."""

import pytest
import time_machine
from django.core import mail

from feedback.cases.services import case_assign, case_reply_send
from feedback.models import Case
from feedback.tasks import cases_sla_breaches_notify_task
from tests.factories import StaffMembershipFactory, UserFactory
from tests.feedback.case_helpers import detractor_case, ny, office_shop, set_targets

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    shop, policy = office_shop()
    set_targets(policy, first=2, resolution=8)
    agent = StaffMembershipFactory(shop=shop, role="agent", user=UserFactory(email="a@x.test")).user
    StaffMembershipFactory(shop=shop, role="manager", user=UserFactory(email="m@x.test"))
    StaffMembershipFactory(shop=shop, role="owner", user=UserFactory(email="o@x.test"))
    with time_machine.travel(ny(2026, 12, 7, 9, 0), tick=False):
        case = detractor_case(shop)
        case_assign(case=case, actor=None, assignee=agent)
    return case, agent


def test_a_first_response_breach_is_told_once(world):
    case, _ = world
    with time_machine.travel(ny(2026, 12, 7, 11, 30), tick=False):
        assert cases_sla_breaches_notify_task() == 1
        assert cases_sla_breaches_notify_task() == 0

    assert len(mail.outbox) == 1
    alert = mail.outbox[0]
    assert alert.to == ["a@x.test", "m@x.test", "o@x.test"]
    assert alert.subject == f"Case {case.number} missed its first response target"
    assert f"/dashboard/feedback/cases/{case.pk}/" in alert.body
    assert "(due Mon 7 Dec, 11:00 EST)" in alert.body  # in the shop's time
    case.refresh_from_db()
    assert case.first_response_breach_notified_at is not None
    assert case.resolution_breach_notified_at is None


def test_the_resolution_breach_is_told_once_too(world):
    case, agent = world
    with time_machine.travel(ny(2026, 12, 7, 10, 0), tick=False):
        case_reply_send(
            case=case,
            actor=agent,
            channel="email",
            body="Looking into it.",
            wait_for_customer=False,
        )
    # Resolution due Monday 17:00 (eight business hours): told on Tuesday, once.
    with time_machine.travel(ny(2026, 12, 8, 9, 30), tick=False):
        told = [cases_sla_breaches_notify_task() for _ in range(3)]

    assert told == [1, 0, 0]
    assert [m.subject for m in mail.outbox] == [f"Case {case.number} missed its resolution target"]


def test_a_case_waiting_on_the_customer_is_not_breached(world):
    case, agent = world
    with time_machine.travel(ny(2026, 12, 7, 10, 0), tick=False):
        case_reply_send(case=case, actor=agent, channel="email", body="Which item?")
    with time_machine.travel(ny(2026, 12, 9, 9, 0), tick=False):
        assert cases_sla_breaches_notify_task() == 0
    assert mail.outbox == []


def test_nothing_is_told_before_the_deadline(world):
    with time_machine.travel(ny(2026, 12, 7, 10, 59), tick=False):
        assert cases_sla_breaches_notify_task() == 0
    assert Case.objects.filter(first_response_breach_notified_at__isnull=False).count() == 0
