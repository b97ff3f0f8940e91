"""Redeeming from the loyalty page: one click spends the points and shows the code; a resent
form redeems once; not enough points says so and changes nothing."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from loyalty.ledger import member_for
from loyalty.models import LedgerEntry, Member, Redemption, RedemptionStatus
from loyalty.tokens import loyalty_path
from tests.factories import CustomerFactory
from tests.loyalty.factories import LoyaltyProgrammeFactory, RewardFactory
from tests.loyalty.page_helpers import credit
from tests.test_human_labels import visible_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(shop):
    LoyaltyProgrammeFactory(shop=shop)
    member = member_for(CustomerFactory(shop=shop))
    credit(member, 700, "adjust:start")
    return member


def _form(client, member, reward) -> dict[str, str]:
    """The redeem form of `reward` as the page renders it."""
    html = client.get(loyalty_path(member.customer)).content.decode()
    block = html.split(f'name="reward" value="{reward.pk}"')[1]
    key = re.search(r'name="key" value="([0-9a-f]{32})"', block).group(1)
    return {"reward": str(reward.pk), "key": key}


def _text(response) -> str:
    return " ".join(visible_text(response.content.decode()).split())


def test_one_click_spends_the_points_and_shows_the_code(client, member):
    reward = RewardFactory(shop=member.shop, name="5 USD off", points_price=500)
    form = _form(client, member, reward)

    response = client.post(loyalty_path(member.customer) + "redeem/", form, follow=True)

    member.refresh_from_db()
    redemption = Redemption.objects.get(customer=member.customer)
    text = _text(response)
    assert response.redirect_chain[0][1] == 303
    assert member.available == 200
    assert member.reserved == 0
    assert f"Your code for 5 USD off: {redemption.code}" in text
    assert "200 points to spend" in text
    assert "\u2212500: reward redeemed" in text
    assert redemption.points == 500


def test_the_same_form_sent_twice_redeems_once(client, member):
    reward = RewardFactory(shop=member.shop, points_price=300)
    form = _form(client, member, reward)
    url = loyalty_path(member.customer) + "redeem/"

    first = client.post(url, form)
    again = client.post(url, form)

    member.refresh_from_db()
    assert first["Location"] == again["Location"]
    assert member.available == 400
    assert Redemption.objects.filter(customer=member.customer).count() == 1


def test_not_enough_points_is_said_and_nothing_changes(client, member):
    reward = RewardFactory(shop=member.shop, name="Big prize", points_price=1000)
    entries = LedgerEntry.objects.count()
    key = "0123456789abcdef0123456789abcdef"

    response = client.post(
        loyalty_path(member.customer) + "redeem/", {"reward": reward.pk, "key": key}
    )

    member.refresh_from_db()
    assert response.status_code == 409
    assert "Not enough points for Big prize: it takes 1,000 points and you have 700." in _text(
        response
    )
    assert (member.available, member.reserved) == (700, 0)
    assert LedgerEntry.objects.count() == entries
    assert not Redemption.objects.exists()


def test_the_page_offers_no_button_for_a_reward_out_of_reach(client, member):
    near = RewardFactory(shop=member.shop, name="Near", points_price=700)
    far = RewardFactory(shop=member.shop, name="Far", points_price=701)

    html = client.get(loyalty_path(member.customer)).content.decode()

    assert f'name="reward" value="{near.pk}"' in html
    assert f'name="reward" value="{far.pk}"' not in html
    assert "Collect 701 points to redeem." in html


def test_another_shops_reward_cannot_be_redeemed(client, member, other_shop):
    foreign = RewardFactory(shop=other_shop, points_price=10)
    key = "0123456789abcdef0123456789abcdef"

    response = client.post(
        loyalty_path(member.customer) + "redeem/", {"reward": foreign.pk, "key": key}
    )

    assert response.status_code == 409
    assert Member.objects.get(pk=member.pk).available == 700
    assert not Redemption.objects.exists()


def test_a_redeem_without_a_valid_token_is_a_404(client, member):
    reward = RewardFactory(shop=member.shop, points_price=10)

    response = client.post("/loyalty/forged/redeem/", {"reward": reward.pk, "key": "0" * 32})

    assert response.status_code == 404
    assert not Redemption.objects.exists()


def test_the_page_never_shows_another_customers_code(client, member):
    reward = RewardFactory(shop=member.shop, points_price=100)
    neighbour = member_for(CustomerFactory(shop=member.shop))
    credit(neighbour, 500, "adjust:neighbour")
    client.post(loyalty_path(neighbour.customer) + "redeem/", _form(client, neighbour, reward))
    theirs = Redemption.objects.get(customer=neighbour.customer)

    response = client.get(loyalty_path(member.customer), {"redeemed": theirs.pk})

    assert theirs.code not in response.content.decode()
    assert "Your code for" not in _text(response)


def test_the_form_posts_without_a_cookie_from_the_page_itself(member):
    # The token in the address authorises the redeem: a browser with no cookie at all sends it,
    # as the page's own form does (Sec-Fetch-Site: same-origin).
    reward = RewardFactory(shop=member.shop, points_price=100)
    browser = Client(enforce_csrf_checks=True)
    form = _form(browser, member, reward)

    sent = browser.post(
        loyalty_path(member.customer) + "redeem/", form, headers={"Sec-Fetch-Site": "same-origin"}
    )

    assert sent.status_code == 303
    assert not browser.cookies
    assert Redemption.objects.filter(customer=member.customer).count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://attacker.example"},
        {"Origin": "null"},
    ],
)
def test_a_form_another_site_sends_is_refused_and_books_nothing(member, headers):
    reward = RewardFactory(shop=member.shop, points_price=100)
    browser = Client(enforce_csrf_checks=True)
    form = _form(browser, member, reward)
    before = member_for(member.customer).available

    refused = browser.post(loyalty_path(member.customer) + "redeem/", form, headers=headers)

    assert refused.status_code == 403
    assert not Redemption.objects.exists()
    assert member_for(member.customer).available == before > 0


def test_the_shops_own_origin_is_let_through(member):
    reward = RewardFactory(shop=member.shop, points_price=100)
    browser = Client(enforce_csrf_checks=True)
    form = _form(browser, member, reward)

    sent = browser.post(
        loyalty_path(member.customer) + "redeem/", form, headers={"Origin": "http://testserver"}
    )

    assert sent.status_code == 303


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (RedemptionStatus.RESERVED, "is being created. Reload this page in a moment to see it."),
        (RedemptionStatus.FAILED, "could not be created, and your points are back."),
    ],
)
def test_a_code_not_yet_or_never_created_is_not_shown(client, member, status, says):
    reward = RewardFactory(shop=member.shop, name="Gift", points_price=100)
    redemption = Redemption.objects.create(
        shop=member.shop,
        customer=member.customer,
        member=member,
        reward=reward,
        points=100,
        status=status,
        code="RW-NOTYETREAL1",
        ends_at=timezone.now() + timedelta(days=30),
        idempotency_key="test:1",
    )

    response = client.get(loyalty_path(member.customer), {"redeemed": redemption.pk})

    assert f"Your code for Gift {says}" in _text(response)
    assert "RW-NOTYETREAL1" not in response.content.decode()
