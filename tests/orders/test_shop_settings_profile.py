"""The shop's profile and branding: edited by managers and owners, recorded, previewed as the
tracking page before it is saved."""

import re

import pytest
from django.urls import reverse

from orders.models import SettingsChange, Shop, StaffRole
from orders.shop_settings.profile import ShopProfile, shop_profile_update
from postpurchase.permissions import StaffPermissionDenied
from tests.factories import StaffMembershipFactory

pytestmark = pytest.mark.django_db

PROFILE = {
    "name": "Acme Tea",
    "logo_url": "https://acme.test/logo.png",
    "primary_colour": "#0f766e",
    "website_url": "https://acme.test",
    "support_email": "care@acme.test",
    "support_phone": "+12125550123",
}


@pytest.fixture
def manager(shop):
    return StaffMembershipFactory(shop=shop, role=StaffRole.MANAGER).user


def test_a_manager_saves_the_profile_and_the_change_is_recorded(client, shop, manager):
    old_name = shop.name
    client.force_login(manager)

    response = client.post(reverse("shop_settings:profile"), PROFILE, follow=True)

    shop.refresh_from_db()
    assert (shop.name, shop.primary_colour, shop.support_email) == (
        "Acme Tea",
        "#0f766e",
        "care@acme.test",
    )
    change = SettingsChange.objects.get()
    assert change.changes["name"] == [old_name, "Acme Tea"]
    assert f"name: {old_name} → Acme Tea" in response.content.decode()


def test_an_invalid_colour_is_refused_and_nothing_changes(client, shop, manager):
    client.force_login(manager)

    response = client.post(
        reverse("shop_settings:profile"), {**PROFILE, "primary_colour": "red; }"}
    )

    assert response.status_code == 400
    assert "Use a colour like #1a73e8." in response.content.decode()
    assert Shop.objects.get(pk=shop.pk).primary_colour == shop.primary_colour
    assert not SettingsChange.objects.exists()


def test_an_agent_may_not_change_the_profile(shop):
    agent = StaffMembershipFactory(shop=shop, role=StaffRole.AGENT).user

    with pytest.raises(StaffPermissionDenied):
        shop_profile_update(shop_id=shop.pk, actor=agent, profile=ShopProfile(name="Mine"))


def test_the_preview_shows_the_draft_as_the_tracking_page_without_saving(client, shop, manager):
    client.force_login(manager)

    preview = client.get(reverse("shop_settings:profile_preview"), PROFILE)

    page = preview.content.decode()
    assert preview.status_code == 200
    assert 'src="https://acme.test/logo.png"' in page
    assert "care@acme.test" in page
    assert reverse("tracking:brand_stylesheet", args=["0f766e"]) in page
    # Framed by the profile page, by no other site.
    assert "frame-ancestors 'self'" in preview["Content-Security-Policy"]
    assert Shop.objects.get(pk=shop.pk).name == shop.name


def test_the_preview_keeps_the_saved_value_for_an_invalid_draft(client, shop, manager):
    client.force_login(manager)

    page = client.get(
        reverse("shop_settings:profile_preview"), {"primary_colour": "javascript:"}
    ).content.decode()

    saved = shop.primary_colour.removeprefix("#").lower()
    assert reverse("tracking:brand_stylesheet", args=[saved]) in page


def test_the_profile_page_frames_the_preview_and_links_the_return_address(client, shop, manager):
    client.force_login(manager)

    page = client.get(reverse("shop_settings:profile")).content.decode()

    assert f'src="{reverse("shop_settings:profile_preview")}"' in page
    assert reverse("returns_dashboard:policy") in page


def test_the_profile_form_asks_for_a_new_preview_frame_as_it_is_typed_in(client, shop, manager):
    client.force_login(manager)

    page = client.get(reverse("shop_settings:profile")).content.decode()

    # htmx swaps the frame as fields change; the Preview button still works without it.
    assert f'hx-get="{reverse("shop_settings:profile_preview_frame")}"' in page
    assert 'hx-trigger="input delay:300ms' in page
    assert 'hx-target="#profile-preview-frame"' in page
    assert 'id="profile-preview-frame" name="profile-preview"' in page
    assert 'formtarget="profile-preview"' in page


def test_the_live_preview_frame_points_at_the_typed_values_and_saves_nothing(client, shop, manager):
    client.force_login(manager)
    typed = {**PROFILE, "csrfmiddlewaretoken": "not-for-the-frame", "name": "Acme & Sons"}

    frame = client.get(reverse("shop_settings:profile_preview_frame"), typed)

    assert frame.status_code == 200
    html = frame.content.decode()
    src = re.search(r'src="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert src.startswith(reverse("shop_settings:profile_preview") + "?")
    assert "csrfmiddlewaretoken" not in src
    assert "<html" not in html  # a fragment, swapped into the profile page
    preview = client.get(src).content.decode()
    assert "Acme &amp; Sons" in preview
    assert "care@acme.test" in preview
    assert reverse("tracking:brand_stylesheet", args=["0f766e"]) in preview
    assert Shop.objects.get(pk=shop.pk).name == shop.name
    assert not SettingsChange.objects.exists()
