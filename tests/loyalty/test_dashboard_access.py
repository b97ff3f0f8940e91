"""Each loyalty page for each visitor: the shop's owner, manager and agent read every page;
another shop's owner gets a 404 for this shop's member (and sees their own shop elsewhere);
nobody signed in is sent to sign in. Changes are the owners' and managers' only."""

import pytest
from django.urls import reverse

from loyalty.models import LedgerEntry
from orders.models import StaffRole
from tests.factories import CustomerFactory, ShopFactory, StaffMembershipFactory
from tests.loyalty.dashboard_helpers import programme_with_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    shop, other = ShopFactory(), ShopFactory()
    member = programme_with_member(shop, CustomerFactory(shop=shop, email="ada.member@example.org"))
    users = {
        role: StaffMembershipFactory(shop=shop, role=role).user
        for role in (StaffRole.OWNER, StaffRole.MANAGER, StaffRole.AGENT)
    }
    users["other"] = StaffMembershipFactory(shop=other, role=StaffRole.OWNER).user
    return shop, member, users


def _pages(member) -> list[str]:
    return [
        reverse("loyalty_dashboard:overview"),
        reverse("loyalty_dashboard:members"),
        reverse("loyalty_dashboard:member", args=[member.pk]),
        reverse("loyalty_dashboard:settings"),
    ]


@pytest.mark.parametrize("role", [StaffRole.OWNER, StaffRole.MANAGER, StaffRole.AGENT])
def test_the_shops_staff_read_every_page(client, setup, role):
    _shop, member, users = setup
    client.force_login(users[role])

    for url in _pages(member):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'aria-current="page"' in response.content.decode()


def test_another_shops_owner_finds_no_member_and_sees_their_own_shop_elsewhere(client, setup):
    _shop, member, users = setup
    client.force_login(users["other"])

    assert client.get(reverse("loyalty_dashboard:member", args=[member.pk])).status_code == 404
    members = client.get(reverse("loyalty_dashboard:members")).content.decode()
    assert "ada.member@example.org" not in members
    # Their shop runs no programme: the empty state, not this shop's numbers.
    assert (
        "No loyalty programme yet"
        in client.get(reverse("loyalty_dashboard:overview")).content.decode()
    )


def test_nobody_signed_in_is_sent_to_sign_in(client, setup):
    _shop, member, _users = setup
    for url in _pages(member):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    adjust = reverse("loyalty_dashboard:member_adjust", args=[member.pk])
    assert client.post(adjust, {"points": "5", "reason": "x", "key": "k"}).status_code == 302
    assert not LedgerEntry.objects.filter(idempotency_key="adjust:k").exists()


def test_the_nav_names_the_loyalty_section(client, setup):
    _shop, _member, users = setup
    client.force_login(users[StaffRole.AGENT])
    html = client.get(reverse("dashboard:home")).content.decode()
    assert f'href="{reverse("loyalty_dashboard:overview")}"' in html
