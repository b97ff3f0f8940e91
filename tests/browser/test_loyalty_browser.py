"""Loyalty in Chromium: the settings' earning preview follows the sample order and the rates
as they are typed (htmx swaps its result) without sending the rules form's CSRF token, and
nothing is saved by it; a customer redeems a reward on their page with no cookie."""

import pytest
from playwright.sync_api import Page, expect

from loyalty.models import Programme, Redemption
from loyalty.programme.services import programme_start
from loyalty.tokens import loyalty_path
from orders.models import SettingsChange, StaffRole
from tests.browser.test_pages_policy import sign_in
from tests.factories import ShopFactory, StaffMembershipFactory
from tests.loyalty.factories import LoyaltyProgrammeFactory, RewardFactory
from tests.loyalty.page_helpers import credit, member_with_history

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


def test_a_customer_redeems_a_reward_in_the_browser_without_a_cookie(live_server, page: Page):
    # The redeem form carries no CSRF token: Chromium's own Sec-Fetch-Site says the POST came
    # from the page itself, and the token in the address authorises it.
    member = member_with_history(ShopFactory(currency="EUR"))
    LoyaltyProgrammeFactory(shop=member.shop)
    reward = RewardFactory(shop=member.shop, name="5 EUR off", points_price=100)
    credit(member, 500, "adjust:browser")
    page.goto(f"{live_server.url}{loyalty_path(member.customer)}")

    page.get_by_role("button", name="Redeem 5 EUR off").click()

    code = Redemption.objects.get(customer=member.customer, reward=reward).code
    expect(page.get_by_text(code).first).to_be_visible()
    assert not page.context.cookies()
