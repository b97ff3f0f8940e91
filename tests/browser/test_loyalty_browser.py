"""The loyalty settings in Chromium: the earning preview follows the sample order and the rates
as they are typed (htmx swaps its result) without sending the rules form's CSRF token, and
nothing is saved by it."""

import pytest
from playwright.sync_api import Page, expect

from loyalty.models import Programme
from loyalty.programme.services import programme_start
from orders.models import SettingsChange, StaffRole
from tests.browser.test_pages_policy import sign_in
from tests.factories import ShopFactory, StaffMembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_earning_preview_follows_the_sample_and_the_rates_as_they_are_typed(
    live_server, page: Page
):
    shop = ShopFactory(currency="EUR")
    owner = StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user
    programme_start(shop_id=shop.pk, actor=owner)
    sign_in(page, live_server, owner)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(f"{live_server.url}/dashboard/loyalty/settings/")
    expect(page.locator("#preview-points")).to_contain_text("100")

    page.get_by_label("Order total").fill("250")
    expect(page.locator("#preview-points")).to_contain_text("250")
    page.get_by_label("Member's tier").select_option(label="Gold")
    expect(page.locator("#preview-points")).to_contain_text("375")  # 250 x 1.5
    page.get_by_label("Points per unit of currency spent").fill("2")
    expect(page.locator("#preview-points")).to_contain_text("750")
    expect(page.locator("#preview-value")).to_have_text("7.50 EUR")

    previews = [url for url in asked if "/settings/preview/" in url]
    assert previews
    assert not [url for url in previews if "csrfmiddlewaretoken" in url]
    assert Programme.objects.get(shop=shop).points_per_unit == 1
    assert SettingsChange.objects.filter(shop=shop).count() == 1  # the start, nothing since
