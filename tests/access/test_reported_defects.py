"""The defects found with an agent's account, each replayed through the dashboard: refused with a
403 that says who may, and nothing changed."""

import pytest
from django.urls import reverse

from notifications.models import Flow, MessageTemplate
from orders.models import Shop
from returns.models import ReturnPolicy, ReturnRequest, ReturnStatus
from tests.returns.test_dashboard import policy_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client, world):
    client.force_login(world.agent)
    return client


def _set_status(return_request: ReturnRequest, status: str) -> None:
    ReturnRequest.objects.filter(pk=return_request.pk).update(status=status)


def test_an_agent_cannot_save_the_return_policy(agent_client, world):
    policy_before = list(ReturnPolicy.objects.filter(shop=world.shop).values())

    response = agent_client.post(
        reverse("returns_dashboard:policy"),
        policy_post(world.shop, **{"window-return_window_days": "61"}),
    )

    assert response.status_code == 403
    assert "Only the shop&#x27;s owner can change the return policy" in response.content.decode()
    assert Shop.objects.get(pk=world.shop.pk).return_window_days == 30
    assert list(ReturnPolicy.objects.filter(shop=world.shop).values()) == policy_before


def test_an_agent_sees_the_return_policy_but_cannot_change_it(agent_client, world):
    response = agent_client.get(reverse("returns_dashboard:policy"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Only the shop's owner can change the return policy." in page
    assert "Save the policy" not in page
    assert response.context["window_form"].fields["return_window_days"].disabled


def test_the_owner_saves_the_return_policy(client, world):
    client.force_login(world.owner)

    response = client.post(
        reverse("returns_dashboard:policy"),
        policy_post(world.shop, **{"window-return_window_days": "61"}),
    )

    assert response.status_code == 302
    assert Shop.objects.get(pk=world.shop.pk).return_window_days == 61


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (ReturnStatus.REQUESTED, "approve"),
        (ReturnStatus.REQUESTED, "reject"),
        (ReturnStatus.IN_TRANSIT, "receive"),
        (ReturnStatus.RECEIVED, "inspect"),
        (ReturnStatus.INSPECTED, "resolve"),
    ],
)
def test_an_agent_cannot_approve_receive_or_resolve_a_return(agent_client, world, status, action):
    _set_status(world.return_request, status)
    events = world.return_request.events.count()

    response = agent_client.post(
        reverse("returns_dashboard:action", args=[world.return_request.pk, action]),
        {"reason": "Worn."},
    )

    world.return_request.refresh_from_db()
    assert response.status_code == 403
    assert world.return_request.status == status
    assert world.return_request.refund_reference == ""
    assert world.return_request.events.count() == events


def test_an_agent_cannot_bulk_approve(agent_client, world):
    response = agent_client.post(
        reverse("returns_dashboard:bulk"), {"action": "approve", "ids": [world.return_request.pk]}
    )

    world.return_request.refresh_from_db()
    assert response.status_code == 403
    assert world.return_request.status == ReturnStatus.REQUESTED


def test_an_agent_sees_no_buttons_it_cannot_use_on_a_return(agent_client, world):
    _set_status(world.return_request, ReturnStatus.APPROVED)

    page = agent_client.get(reverse("returns_dashboard:detail", args=[world.return_request.pk]))

    html = page.content.decode()
    assert "Mark on its way back" in html  # an agent's daily work
    assert "Mark received" not in html
    assert reverse("returns_dashboard:action", args=[world.return_request.pk, "receive"]) not in (
        html
    )


def test_an_agent_cannot_change_an_email_templates_subject(agent_client, world):
    response = agent_client.post(
        reverse("message_templates:edit", args=["order_confirmation"]),
        {
            "channel": "email",
            "locale": "",
            "subject": "50% off everything!",
            "body_text": "Hello {{ customer_first_name }}",
        },
    )

    assert response.status_code == 403
    assert MessageTemplate.objects.get(pk=world.template.pk).subject == "Order {{ order_number }}"


def test_an_agent_cannot_reset_a_template(agent_client, world):
    response = agent_client.post(reverse("message_templates:reset", args=[world.template.pk]))

    assert response.status_code == 403
    assert MessageTemplate.objects.filter(pk=world.template.pk).exists()


def test_an_agent_cannot_switch_a_flow_off(agent_client, world):
    response = agent_client.post(
        reverse("messaging:flow_edit", args=[world.flow.pk]),
        {
            "channels": ["email"],
            "delay_amount": "0",
            "delay_unit": "hours",
            "useful_unit": "hours",
        },
    )

    assert response.status_code == 403
    assert Flow.objects.get(pk=world.flow.pk).is_enabled is True


def test_an_agent_sees_a_flow_read_only(agent_client, world):
    response = agent_client.get(reverse("messaging:flow_edit", args=[world.flow.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert ">Save<" not in html
    assert "Only the shop's owner or a manager can change flows." in html
    assert all(field.disabled for field in response.context["form"].fields.values())


def test_a_manager_switches_a_flow_off(client, world):
    client.force_login(world.manager)

    response = client.post(
        reverse("messaging:flow_edit", args=[world.flow.pk]),
        {
            "channels": ["email"],
            "delay_amount": "0",
            "delay_unit": "hours",
            "useful_unit": "hours",
        },
    )

    assert response.status_code == 302
    assert Flow.objects.get(pk=world.flow.pk).is_enabled is False
