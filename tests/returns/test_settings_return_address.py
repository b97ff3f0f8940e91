"""The return address, kept by the returns app and edited on the settings area's profile tab
(a section returns adds there, `orders` naming no app above it): by the owner, recorded."""

import pytest
from django.urls import reverse

from orders.models import SettingsChange, StaffRole
from postpurchase.exceptions import DomainError
from postpurchase.permissions import StaffPermissionDenied
from returns.models import ReturnPolicy
from returns.services import return_address_set, return_policy_for
from tests.factories import StaffMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(shop):
    return StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user


def test_the_owner_edits_the_return_address_on_the_profile_tab_and_it_is_recorded(
    client, shop, owner
):
    client.force_login(owner)
    page = client.get(reverse("shop_settings:profile")).content.decode()
    assert f'action="{reverse("returns_dashboard:return_address")}"' in page

    response = client.post(
        reverse("returns_dashboard:return_address"),
        {"return_address": "  Returns dept\r\n\r\n1 Tea Lane\r\nLeeds LS1 1AA  "},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("shop_settings:profile")
    address = "Returns dept\n1 Tea Lane\nLeeds LS1 1AA"
    assert ReturnPolicy.objects.get(shop=shop).return_address == address
    change = SettingsChange.objects.get()
    assert (change.area, change.action, change.actor) == (
        "profile",
        "return_address.changed",
        owner,
    )
    assert change.changes == {"return address": ["", address]}
    html = response.content.decode()
    assert "The return address is saved." in html
    assert "return_address.changed · return address" in html
    assert "1 Tea Lane" in html


def test_a_manager_sees_the_return_address_but_may_not_change_it(client, shop):
    policy = return_policy_for(shop)
    policy.return_address = "1 Tea Lane"
    policy.save()
    manager = StaffMembershipFactory(shop=shop, role=StaffRole.MANAGER).user
    client.force_login(manager)

    page = client.get(reverse("shop_settings:profile")).content.decode()
    refused = client.post(reverse("returns_dashboard:return_address"), {"return_address": "x"})

    assert "<address>1 Tea Lane</address>" in page
    assert reverse("returns_dashboard:return_address") not in page
    assert refused.status_code == 403
    assert ReturnPolicy.objects.get(shop=shop).return_address == "1 Tea Lane"
    with pytest.raises(StaffPermissionDenied):
        return_address_set(shop=shop, actor=manager, address="2 Tea Lane")


def test_an_unchanged_address_records_nothing_and_a_long_one_is_refused(shop, owner):
    return_address_set(shop=shop, actor=owner, address="1 Tea Lane")
    return_address_set(shop=shop, actor=owner, address="1 Tea Lane\n")

    with pytest.raises(DomainError):
        return_address_set(shop=shop, actor=owner, address="\n".join(["line"] * 9))

    assert SettingsChange.objects.count() == 1
    assert ReturnPolicy.objects.get(shop=shop).return_address == "1 Tea Lane"
