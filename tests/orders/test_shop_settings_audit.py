"""The record of settings changes: written with the change, shown latest first and paginated
on the settings pages, read-only in admin."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from orders.models import SettingsArea, SettingsChange, StaffRole
from orders.shop_settings.api_keys import api_key_create_by_staff
from orders.shop_settings.audit import settings_change_record
from orders.shop_settings.staff import StaffChangeRefused, staff_role_change
from tests.factories import StaffMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(shop):
    return StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user


def test_a_refused_change_leaves_no_record(shop, owner):
    membership = owner.memberships.get()

    with pytest.raises(StaffChangeRefused):
        staff_role_change(
            shop_id=shop.pk, actor=owner, membership_id=membership.pk, role=StaffRole.AGENT
        )

    assert not SettingsChange.objects.exists()


def test_a_record_is_never_edited(shop, owner):
    change = settings_change_record(
        shop_id=shop.pk, actor=owner, area=SettingsArea.STAFF, action="staff.invited", subject="x"
    )
    change.subject = "y"

    with pytest.raises(ValueError, match="never edited"):
        change.save()


def test_the_settings_home_shows_every_change_latest_first_paginated(client, shop, owner):
    for number in range(25):
        api_key_create_by_staff(shop_id=shop.pk, actor=owner, name=f"Key {number}")
    client.force_login(owner)

    first = client.get(reverse("shop_settings:home")).content.decode()
    second = client.get(reverse("shop_settings:home"), {"page": 2}).content.decode()

    assert first.index("(Key 24)") < first.index("(Key 23)")
    assert "(Key 4)" not in first
    assert "(Key 4)" in second
    assert "(Key 24)" not in second
    assert owner.email in first


def test_the_staff_tab_shows_only_staff_changes(client, shop, owner):
    api_key_create_by_staff(shop_id=shop.pk, actor=owner, name="Warehouse")
    client.force_login(owner)

    page = client.get(reverse("shop_settings:staff")).content.decode()

    assert "api_key.created" not in page
    assert "No changes recorded yet." in page


def test_agents_see_no_settings_in_the_navigation_and_may_not_open_them(client, shop):
    agent = StaffMembershipFactory(shop=shop, role=StaffRole.AGENT).user
    client.force_login(agent)

    overview = client.get(reverse("dashboard:home")).content.decode()

    assert reverse("shop_settings:home") not in overview
    assert client.get(reverse("shop_settings:home")).status_code == 403


def test_owners_find_settings_in_the_navigation(client, shop, owner):
    client.force_login(owner)

    page = client.get(reverse("shop_settings:staff")).content.decode()

    assert f'href="{reverse("shop_settings:home")}" aria-current="page"' in page


def test_admin_lists_changes_read_only_with_filters_and_search(client, shop, owner):
    api_key_create_by_staff(shop_id=shop.pk, actor=owner, name="Warehouse")
    ops = get_user_model().objects.create_superuser("ops", "ops@example.org", "pw-ops-123456")
    client.force_login(ops)
    change = SettingsChange.objects.get()

    listing = client.get(
        reverse("admin:orders_settingschange_changelist"),
        {"q": "Warehouse", "shop__id__exact": shop.pk, "action": "api_key.created"},
    )
    detail = client.get(reverse("admin:orders_settingschange_change", args=[change.pk]))
    deleted = client.post(reverse("admin:orders_settingschange_delete", args=[change.pk]))

    assert listing.status_code == 200
    assert "Warehouse" in listing.content.decode()
    assert detail.status_code == 200
    assert deleted.status_code == 403
    assert SettingsChange.objects.filter(pk=change.pk).exists()
