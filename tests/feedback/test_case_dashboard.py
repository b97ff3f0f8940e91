"""The case queue and the case page: filters by SLA state, assignee, source and priority,
search, sorting by due time; another shop's staff find nothing; money resolutions are the
managers'."""

from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from feedback.cases.services import case_assign, case_resolve
from feedback.models import Case, CaseResolution
from tests.factories import StaffMembershipFactory
from tests.feedback.case_helpers import detractor_case, ny, office_shop, set_targets

pytestmark = pytest.mark.django_db
QUEUE = "/dashboard/feedback/cases/"


@pytest.fixture
def shop_and_cases():
    """Four cases opened Monday 9:00 (targets 8 h / 24 h), one of them the agent's; as if
    looked at Monday 10:30, one breached (its first response was due at 10:00), one due
    soon, two on time."""
    shop, policy = office_shop()
    set_targets(policy, first=8, resolution=24)
    agent = StaffMembershipFactory(shop=shop, role="agent").user
    with time_machine.travel(ny(2026, 12, 7, 9, 0), tick=False):
        on_time = detractor_case(shop, source_id=1)
        breached = detractor_case(shop, source_id=2, score=1)
        soon = detractor_case(shop, source_id=3, score=6)
        mine = detractor_case(shop, source_id=4)
        case_assign(case=mine, actor=None, assignee=agent)
    Case.objects.filter(pk=breached.pk).update(
        first_response_due_at=ny(2026, 12, 7, 10, 0), first_response_soon_at=ny(2026, 12, 7, 9, 0)
    )
    Case.objects.filter(pk=soon.pk).update(first_response_soon_at=ny(2026, 12, 7, 10, 0))
    return shop, agent, {"on_time": on_time, "breached": breached, "soon": soon, "mine": mine}


def _numbers(response) -> list[str]:
    return [row.case.number for row in response.context["rows"]]


def test_the_queue_filters_by_sla_state(client, shop_and_cases):
    _, agent, cases = shop_and_cases
    client.force_login(agent)
    with time_machine.travel(ny(2026, 12, 7, 10, 30), tick=False):
        breached = client.get(QUEUE, {"sla": "breached"})
        soon = client.get(QUEUE, {"sla": "due_soon"})
        on_time = client.get(QUEUE, {"sla": "on_time"})

    assert _numbers(breached) == [cases["breached"].number]
    assert _numbers(soon) == [cases["soon"].number]
    assert set(_numbers(on_time)) == {cases["on_time"].number, cases["mine"].number}
    assert "breached 30 min ago" in breached.content.decode()


def test_the_queue_filters_by_assignee_source_and_priority_and_searches(client, shop_and_cases):
    _, agent, cases = shop_and_cases
    client.force_login(agent)

    assert _numbers(client.get(QUEUE, {"assignee": "mine"})) == [cases["mine"].number]
    assert cases["mine"].number not in _numbers(client.get(QUEUE, {"assignee": "unassigned"}))
    assert len(_numbers(client.get(QUEUE, {"source": "survey"}))) == 4
    assert _numbers(client.get(QUEUE, {"source": "review"})) == []
    assert _numbers(client.get(QUEUE, {"priority": "high"})) == [cases["breached"].number]
    email = cases["soon"].customer.email
    assert _numbers(client.get(QUEUE, {"q": email})) == [cases["soon"].number]
    number = cases["mine"].order.number
    assert _numbers(client.get(QUEUE, {"q": number})) == [cases["mine"].number]


def test_the_queue_sorts_by_due_time(client, shop_and_cases):
    _, agent, cases = shop_and_cases
    client.force_login(agent)
    first = _numbers(client.get(QUEUE))
    last = _numbers(client.get(QUEUE, {"sort": "-due"}))
    assert first[0] == cases["breached"].number
    assert last[-1] == cases["breached"].number


def test_the_case_page_shows_the_thread_and_the_sla_in_words(client, shop_and_cases):
    _, agent, cases = shop_and_cases
    client.force_login(agent)
    with time_machine.travel(ny(2026, 12, 7, 13, 0), tick=False):
        response = client.get(reverse("feedback_cases:detail", args=[cases["on_time"].pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "due in 4 business hours" in page
    assert "nobody answered my email" in page


def test_another_shops_staff_get_404_on_every_case_page(client, shop_and_cases):
    _, _, cases = shop_and_cases
    other_shop, _ = office_shop()
    stranger = StaffMembershipFactory(shop=other_shop, role="owner").user
    client.force_login(stranger)
    case = cases["on_time"]

    assert client.get(reverse("feedback_cases:detail", args=[case.pk])).status_code == 404
    for action, data in (
        ("reply", {"channel": "email", "body": "Hi"}),
        ("note", {"body": "x"}),
        ("assign", {"assignee": ""}),
        ("resolve", {"kind": "apology"}),
    ):
        url = reverse("feedback_cases:action", args=[case.pk, action])
        assert client.post(url, data).status_code == 404, action
    assert _numbers(client.get(QUEUE)) == []
    assert not case.thread.exists()


def test_an_agent_cannot_record_a_refund_from_the_page(client, shop_and_cases):
    shop, agent, cases = shop_and_cases
    client.force_login(agent)
    url = reverse("feedback_cases:action", args=[cases["on_time"].pk, "resolve"])

    refused = client.post(url, {"kind": "refund", "amount": "25.00"})

    assert refused.status_code == 403
    assert not CaseResolution.objects.exists()
    manager = StaffMembershipFactory(shop=shop, role="manager").user
    client.force_login(manager)
    assert client.post(url, {"kind": "refund", "amount": "25.00"}).status_code == 302
    assert CaseResolution.objects.get().amount == Decimal("25.00")


def test_a_resolved_case_page_names_who_resolved_it(client, shop_and_cases):
    _, agent, cases = shop_and_cases
    client.force_login(agent)
    case_resolve(case=cases["on_time"], actor=None, kind="apology")
    case_resolve(case=cases["soon"], actor=agent, kind="apology")

    by_system = client.get(reverse("feedback_cases:detail", args=[cases["on_time"].pk]))
    by_agent = client.get(reverse("feedback_cases:detail", args=[cases["soon"].pk]))

    assert "Apology by the system" in by_system.content.decode()
    assert f"Apology by {agent.get_username()}" in by_agent.content.decode()
