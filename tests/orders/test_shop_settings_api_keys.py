"""API keys in the settings area: created with a name and shown once, listed by prefix with
their last use, revoked at once; every change recorded, never the key."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from orders.models import ApiKey, SettingsChange, StaffRole
from orders.shop_settings.api_keys import api_key_create_by_staff, api_key_revoke_by_staff
from postpurchase.permissions import StaffPermissionDenied
from tests.factories import StaffMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(shop):
    return StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user


def _api(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def test_a_new_key_is_shown_once_right_after_creation(client, shop, owner):
    client.force_login(owner)

    created = client.post(reverse("shop_settings:api_keys"), {"name": "Warehouse"})

    key = ApiKey.objects.get(shop=shop)
    page = created.content.decode()
    secret = page.split('id="new-key" type="text" readonly value="')[1].split('"')[0]
    assert secret.startswith(f"pp_live_{key.prefix}_")
    assert "shown this once" in page
    assert "no-store" in created["Cache-Control"]
    assert _api(secret).get("/api/v1/orders/").status_code == 200
    # Never again: not on the list, not in the record of changes.
    later = client.get(reverse("shop_settings:api_keys")).content.decode()
    assert secret not in later
    assert f"{key.prefix}…" in later
    assert "Warehouse" in later
    assert secret not in json.dumps(list(SettingsChange.objects.values()), default=str)


def test_a_revoked_key_is_refused_by_the_api_at_once(client, shop, owner):
    created = api_key_create_by_staff(shop_id=shop.pk, actor=owner, name="ERP")
    assert _api(created.secret).get("/api/v1/orders/").status_code == 200
    client.force_login(owner)

    client.post(reverse("shop_settings:api_key_revoke", args=[created.api_key.pk]))

    assert _api(created.secret).get("/api/v1/orders/").status_code == 401
    assert [c.action for c in SettingsChange.objects.order_by("pk")] == [
        "api_key.created",
        "api_key.revoked",
    ]


def test_a_manager_may_read_keys_but_not_create_or_revoke(client, shop, owner):
    manager = StaffMembershipFactory(shop=shop, role=StaffRole.MANAGER).user
    created = api_key_create_by_staff(shop_id=shop.pk, actor=owner, name="ERP")

    with pytest.raises(StaffPermissionDenied):
        api_key_create_by_staff(shop_id=shop.pk, actor=manager, name="Mine")
    with pytest.raises(StaffPermissionDenied):
        api_key_revoke_by_staff(shop_id=shop.pk, actor=manager, api_key_id=created.api_key.pk)
    client.force_login(manager)
    page = client.get(reverse("shop_settings:api_keys")).content.decode()

    assert created.api_key.prefix in page
    assert "Create key" not in page
    assert ApiKey.objects.filter(shop=shop, revoked_at__isnull=True).count() == 1


def test_last_use_is_recorded_at_most_once_a_minute(shop, owner):
    created = api_key_create_by_staff(shop_id=shop.pk, actor=owner, name="ERP")
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        _api(created.secret).get("/api/v1/orders/")
    created.api_key.refresh_from_db()
    assert created.api_key.last_used_at == start

    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        _api(created.secret).get("/api/v1/orders/")
    created.api_key.refresh_from_db()
    assert created.api_key.last_used_at == start

    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        _api(created.secret).get("/api/v1/orders/")
    created.api_key.refresh_from_db()
    assert created.api_key.last_used_at == start + timedelta(seconds=61)


def test_a_key_of_another_shop_cannot_be_revoked(client, shop, owner, other_shop):
    theirs = api_key_create_by_staff(shop_id=other_shop.pk, actor=None, name="Theirs")
    client.force_login(owner)

    response = client.post(reverse("shop_settings:api_key_revoke", args=[theirs.api_key.pk]))

    assert response.status_code == 404
    theirs.api_key.refresh_from_db()
    assert theirs.api_key.is_active
