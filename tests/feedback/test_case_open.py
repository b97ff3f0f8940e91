"""Staff open a follow-up case by hand from an order's page: the order page (in `orders`) shows
the order's cases and the action through the panel feedback registers; the case joins the
queue with the SLA its priority gets; another shop's staff find no such order."""

import pytest
import time_machine

from feedback.models import Case, CaseSource
from tests.factories import CustomerFactory, OrderFactory, ShopFactory, StaffMembershipFactory
from tests.feedback.case_helpers import detractor_case, ny, office_shop, set_targets

pytestmark = pytest.mark.django_db


def open_url(order) -> str:
    return f"/dashboard/feedback/cases/new/order/{order.pk}/"


def order_url(order) -> str:
    return f"/dashboard/orders/{order.pk}/"


@pytest.fixture
def office():
    """A New York shop open 9-17 on weekdays, targets 8 h / 24 h, an agent and an order."""
    shop, policy = office_shop()
    set_targets(policy, first=8, resolution=24)
    agent = StaffMembershipFactory(shop=shop, role="agent").user
    order = OrderFactory(shop=shop, customer=CustomerFactory(shop=shop))
    return shop, agent, order


def test_an_agent_opens_a_case_from_the_order_and_it_joins_the_queue_with_its_sla(client, office):
    shop, agent, order = office
    colleague = StaffMembershipFactory(shop=shop, role="manager").user
    client.force_login(agent)

    page = client.get(order_url(order))
    assert open_url(order) in page.content.decode()
    with time_machine.travel(ny(2026, 12, 4, 16, 0), tick=False):  # a Friday, 16:00
        response = client.post(
            open_url(order),
            {
                "summary": "Called: the lid leaks",
                "priority": "high",
                "description": "She wants a new lid before the weekend.",
                "assignee": str(colleague.pk),
            },
        )

    case = Case.objects.get(shop=shop)
    assert response.status_code == 302
    assert response["Location"] == f"/dashboard/feedback/cases/{case.pk}/"
    assert (case.source, case.source_id) == (CaseSource.STAFF, None)
    assert (case.order, case.customer) == (order, order.customer)
    assert (case.priority, case.assignee) == ("high", colleague)
    assert case.description == "She wants a new lid before the weekend."
    # 8 business hours from Friday 16:00: Friday's last hour, then Monday 9:00-16:00.
    assert case.first_response_due_at == ny(2026, 12, 7, 16, 0)
    assert case.events.get().actor == agent
    with time_machine.travel(ny(2026, 12, 4, 16, 30), tick=False):
        queue = client.get("/dashboard/feedback/cases/")
        order_page = client.get(order_url(order)).content.decode()
    assert [row.case for row in queue.context["rows"]] == [case]
    assert "Called: the lid leaks" in order_page
    assert "On time" in order_page


def test_a_case_without_a_summary_is_refused_with_what_was_typed_kept(client, office):
    _, agent, order = office
    client.force_login(agent)

    response = client.post(
        open_url(order), {"summary": "  ", "priority": "normal", "description": "Kept."}
    )

    assert response.status_code == 400
    assert "summary" in response.context["form"].errors
    assert "Kept." in response.content.decode()
    assert not Case.objects.exists()


def test_an_assignee_who_is_not_staff_of_the_shop_is_refused(client, office):
    _, agent, order = office
    stranger = StaffMembershipFactory(role="manager").user  # another shop's
    client.force_login(agent)

    response = client.post(
        open_url(order),
        {"summary": "Called", "priority": "normal", "assignee": str(stranger.pk)},
    )

    assert response.status_code == 400
    assert "assignee" in response.context["form"].errors
    assert not Case.objects.exists()


def test_another_shops_staff_find_no_such_order(client, office):
    _, _, order = office
    client.force_login(StaffMembershipFactory(shop=ShopFactory(), role="owner").user)

    assert client.get(open_url(order)).status_code == 404
    assert client.post(open_url(order), {"summary": "x", "priority": "low"}).status_code == 404
    assert not Case.objects.exists()


def test_the_order_page_lists_the_orders_cases(client, office):
    shop, agent, _ = office
    case = detractor_case(shop)
    client.force_login(agent)

    html = client.get(order_url(case.order)).content.decode()

    assert case.number in html
    assert f"/dashboard/feedback/cases/{case.pk}/" in html
    assert "Follow-up cases" in html
