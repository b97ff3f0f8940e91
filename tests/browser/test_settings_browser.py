"""The settings area in Chromium: the profile page's preview follows what is typed (htmx swaps
its frame), nothing is saved by it, and no page's policy refuses anything on the way."""

import re

import pytest
from playwright.sync_api import Page, expect

from orders.models import SettingsChange, Shop, StaffRole
from tests.browser.test_every_page import _blocking
from tests.browser.test_pages_policy import sign_in
from tests.factories import ShopFactory, StaffMembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_tracking_preview_follows_the_shop_name_and_colour_as_they_are_typed(
    live_server, page: Page
):
    shop = ShopFactory(name="Acme")
    owner = StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user
    sign_in(page, live_server, owner)
    page.goto(f"{live_server.url}/dashboard/settings/profile/")

    page.get_by_label("Shop name").fill("Acme Tea Rooms")
    page.get_by_label("Brand colour").fill("#0f766e")

    frame = page.locator("#profile-preview-frame")
    expect(frame).to_have_attribute("src", re.compile(r"name=Acme\+Tea\+Rooms"))
    expect(frame).to_have_attribute("src", re.compile(r"primary_colour=%230f766e"))
    preview = page.frame_locator("#profile-preview-frame")
    expect(preview.get_by_text("Acme Tea Rooms").first).to_be_visible()
    assert Shop.objects.get(pk=shop.pk).name == "Acme"
    assert not SettingsChange.objects.exists()


def test_the_integrations_tab_with_every_form_fits_a_phone_and_passes_axe(
    live_server, page: Page, settings
):
    settings.TWILIO_ACCOUNT_SID = "AC" + "1" * 32
    settings.TWILIO_AUTH_TOKEN = "token"
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    shop = ShopFactory()
    owner = StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user
    sign_in(page, live_server, owner)

    page.goto(f"{live_server.url}/dashboard/settings/integrations/")

    expect(page.get_by_role("button", name="Send a test text")).to_be_visible()
    expect(page.get_by_role("button", name="Send a test email")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert _blocking(page) == []
