"""The dashboard shell: every app adds its own section to the navigation, which shows a staff
member only what their role may open; pages get their breadcrumbs from their views."""

import re

import pytest
from django.urls import reverse

from orders.models import StaffRole
from postpurchase import permissions
from postpurchase.shell import nav
from postpurchase.shell.nav import NavSection, nav_register
from tests.factories import OrderFactory, StaffMembershipFactory

pytestmark = pytest.mark.django_db


def _nav(html: str) -> list[tuple[str, str, bool]]:
    """(label, href, is current) of each entry of the main navigation."""
    menu = re.search(r'<nav class="mainnav" aria-label="Main">(.*?)</nav>', html, re.S)
    assert menu is not None
    return [
        (label, href, bool(current))
        for href, current, label in re.findall(
            r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', menu.group(1)
        )
    ]


def _page(client, shop, role: str, url: str) -> str:
    client.force_login(StaffMembershipFactory(shop=shop, role=role).user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_every_apps_section_is_in_the_navigation_in_order_with_the_current_one_marked(client, shop):
    html = _page(client, shop, StaffRole.AGENT, reverse("dashboard:order_list"))

    assert _nav(html) == [
        ("Overview", reverse("dashboard:home"), False),
        ("Orders", reverse("dashboard:order_list"), True),
        ("Returns", reverse("returns_dashboard:queue"), False),
        ("Messages", reverse("messaging:overview"), False),
        ("Feedback", reverse("feedback_numbers:overview"), False),
        ("Loyalty", reverse("loyalty_dashboard:overview"), False),
        ("Customers", reverse("messaging:customer_list"), False),
    ]


@pytest.mark.parametrize(
    ("role", "shown"),
    [(StaffRole.AGENT, False), (StaffRole.MANAGER, False), (StaffRole.OWNER, True)],
)
def test_a_section_shows_only_to_the_roles_that_may_open_it(client, shop, monkeypatch, role, shown):
    monkeypatch.setattr(nav, "_sections", dict(nav._sections))
    nav_register(
        NavSection(
            key="staff",
            label="Staff",
            url_name="dashboard:home",
            order=25,
            permission=permissions.STAFF_EDIT,
        )
    )

    labels = [label for label, _href, _current in _nav(_page(client, shop, role, "/dashboard/"))]

    assert ("Staff" in labels) is shown
    if shown:
        assert labels.index("Staff") == labels.index("Orders") + 1


def test_a_section_needing_an_action_the_policy_does_not_know_is_refused(monkeypatch):
    monkeypatch.setattr(nav, "_sections", dict(nav._sections))

    with pytest.raises(ValueError, match="no action 'settings_peek'"):
        nav_register(
            NavSection(
                key="x", label="X", url_name="dashboard:home", order=1, permission="settings_peek"
            )
        )

    assert "x" not in {section.key for section in nav.nav_sections()}


def test_a_page_gets_its_breadcrumbs_from_its_view_and_a_section_page_none(client, shop):
    order = OrderFactory(shop=shop, number="#4242")

    detail = _page(
        client, shop, StaffRole.AGENT, reverse("dashboard:order_detail", args=[order.pk])
    )
    listing = client.get(reverse("dashboard:order_list")).content.decode()

    trail = re.search(r'<nav class="breadcrumb" aria-label="Breadcrumb">(.*?)</nav>', detail, re.S)
    assert trail is not None
    steps = re.findall(r"<li>(.*?)</li>", trail.group(1))
    assert steps == [
        f'<a href="{reverse("dashboard:order_list")}">Orders</a>',
        '<span aria-current="page">#4242</span>',
    ]
    assert 'class="breadcrumb"' not in listing
