"""The customer's loyalty page: the balance, pending points with their date, the history in
words, the tier, rewards, codes, expiring points and the referral link; in the customer's
language, small, and a 404 for any link that is not one of ours."""

import zoneinfo
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import signing
from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from loyalty.ledger import member_for
from loyalty.models import EntryKind, Member, PointLot, RedemptionSource, Subject
from loyalty.pages.cache import member_page_stale
from loyalty.pages.selectors import HISTORY_PER_PAGE
from loyalty.rewards.codes import reward_grant
from loyalty.tokens import loyalty_path, loyalty_url
from orders.models import FinancialStatus
from tests.factories import CustomerFactory, OrderFactory, ShopFactory
from tests.loyalty.factories import LoyaltyProgrammeFactory, RewardFactory, TierFactory
from tests.loyalty.page_helpers import book, credit, member_with_history
from tests.test_human_labels import visible_text

pytestmark = pytest.mark.django_db
BUDGET = 40 * 1024


@pytest.fixture
def programme(shop):
    return LoyaltyProgrammeFactory(shop=shop, name="Club Points")


def _text(response) -> str:
    return " ".join(visible_text(response.content.decode()).split())


def test_each_entry_of_the_history_reads_in_plain_words(client, programme):
    member = member_with_history(programme.shop)

    response = client.get(loyalty_path(member.customer))

    text = _text(response)
    assert response.status_code == 200
    assert "120 points to spend" in text
    for line in (
        "+120 for order #1042 (pending)",
        "120 points for order #1042 confirmed",
        "\u2212120: item returned",
        "+50 for your review",
        "\u2212500: reward redeemed",
        "\u221230 expired",
        "+600: adjusted by the shop",
    ):
        assert line in text


def test_pending_points_say_when_they_become_yours(client, programme):
    member = member_with_history(programme.shop)
    confirm_at = member.earnings.get().confirm_at

    text = _text(client.get(loyalty_path(member.customer)))

    assert f"+80 for order #1043 · yours on {_day(confirm_at)}" in text


def test_an_undelivered_orders_points_wait_for_the_return_window(client, programme):
    member = member_with_history(programme.shop)
    member.earnings.update(confirm_at=None)

    text = _text(client.get(loyalty_path(member.customer)))

    assert "+80 for order #1043 · yours after your return window" in text


def test_the_history_is_paginated(client, programme):
    member = member_for(CustomerFactory(shop=programme.shop))
    for n in range(HISTORY_PER_PAGE + 5):
        credit(member, n + 1, f"k{n}")

    first = _text(client.get(loyalty_path(member.customer)))
    second = _text(client.get(loyalty_path(member.customer), {"page": 2}))

    assert f"1–{HISTORY_PER_PAGE} of {HISTORY_PER_PAGE + 5} entries" in first
    assert "+25: adjusted by the shop" in first
    assert "+1: adjusted by the shop" not in first
    assert "+1: adjusted by the shop" in second


def test_the_page_fits_a_phone_and_weighs_under_40_kb_with_its_stylesheet(client, programme):
    member = member_with_history(programme.shop)
    for n in range(4):
        RewardFactory(shop=programme.shop, name=f"Reward {n}", points_price=100 * (n + 1))
    for n in range(HISTORY_PER_PAGE):
        credit(member, 5, f"more:{n}")

    response = client.get(loyalty_path(member.customer))

    html = response.content.decode()
    stylesheet = Path(settings.BASE_DIR, "static", "css", "customer.css").read_bytes()
    assert len(response.content) + len(stylesheet) < BUDGET
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert "<script" not in html


def test_the_page_speaks_the_customers_language(client, programme):
    member = member_with_history(programme.shop)
    member.customer.locale = "de-DE"
    member.customer.save(update_fields=["locale"])

    response = client.get(loyalty_path(member.customer))

    text = _text(response)
    assert response["Content-Language"] == "de"
    assert '<html lang="de">' in response.content.decode()
    assert "Punkte zum Einlösen" in text
    assert "+120 für Bestellung #1042 (ausstehend)" in text
    assert "\u2212120: Artikel zurückgegeben" in text
    assert "+600: vom Shop angepasst" in text


def test_a_forged_or_expired_token_gets_the_same_404(client, programme, time_machine):
    member = member_with_history(programme.shop)
    token = loyalty_path(member.customer).split("/")[2]
    forged = signing.dumps(member.customer.pk, salt="another.salt", compress=False)

    assert client.get(f"/loyalty/{token}x/").status_code == 404
    assert client.get(f"/loyalty/{forged}/").status_code == 404
    assert client.get("/loyalty/not-a-token/").status_code == 404
    time_machine.move_to(timezone.now() + timedelta(days=366))
    expired = client.get(f"/loyalty/{token}/")
    assert expired.status_code == 404
    assert "This link does not work" in expired.content.decode()
    assert "120" not in _text(expired)


def test_a_shop_without_an_active_programme_shows_nothing(client, shop):
    customer = CustomerFactory(shop=shop)
    assert client.get(loyalty_path(customer)).status_code == 404

    LoyaltyProgrammeFactory(shop=shop, is_active=False)
    assert client.get(loyalty_path(customer)).status_code == 404
    assert not Member.objects.filter(customer=customer).exists()


def test_each_customer_sees_only_their_own_shops_programme(client, programme):
    member = member_with_history(programme.shop)
    other_shop = ShopFactory()
    stranger = CustomerFactory(shop=other_shop)

    mine = _text(client.get(loyalty_path(member.customer)))
    theirs = client.get(loyalty_path(stranger))

    assert "#1042" in mine
    assert theirs.status_code == 404


def test_a_customer_who_never_earned_sees_a_zero_balance(client, programme):
    customer = CustomerFactory(shop=programme.shop)

    text = _text(client.get(loyalty_path(customer)))

    assert "0 points to spend" in text
    assert "Your points will appear here after your first order." in text
    assert Member.objects.filter(customer=customer, available=0).exists()


def test_the_tier_and_the_way_to_the_next_one(client, programme):
    shop = programme.shop
    bronze = TierFactory(shop=shop, name="Bronze", rank=0, threshold=Decimal("0"))
    TierFactory(shop=shop, name="Gold", rank=1, threshold=Decimal("500"))
    member = member_for(CustomerFactory(shop=shop))
    Member.objects.filter(pk=member.pk).update(tier=bronze)
    OrderFactory(
        shop=shop,
        customer=member.customer,
        total=Decimal("200.00"),
        financial_status=FinancialStatus.PAID,
        paid_at=timezone.now() - timedelta(days=30),
    )
    OrderFactory(  # outside the 12 months: it no longer counts
        shop=shop,
        customer=member.customer,
        total=Decimal("900.00"),
        financial_status=FinancialStatus.PAID,
        paid_at=timezone.now() - timedelta(days=400),
    )

    response = client.get(loyalty_path(member.customer))

    text = _text(response)
    assert "Bronze" in text
    assert "Spend 300.00 USD more within 12 months to reach Gold." in text
    assert 'value="40"' in response.content.decode()


def test_codes_to_use_and_points_about_to_expire(client, programme):
    member = member_with_history(programme.shop)
    reward = RewardFactory(shop=programme.shop, name="Free shipping", points_price=300)
    code = reward_grant(
        customer=member.customer, reward=reward, source=RedemptionSource.BIRTHDAY, key="bday:1"
    )
    soon = timezone.now() + timedelta(days=10)
    later = timezone.now() + timedelta(days=90)
    lots = list(PointLot.objects.filter(member=member, remaining__gt=0).order_by("pk"))
    PointLot.objects.filter(pk=lots[0].pk).update(expires_at=soon)
    PointLot.objects.filter(pk__in=[lot.pk for lot in lots[1:]]).update(expires_at=later)

    text = _text(client.get(loyalty_path(member.customer)))

    assert f"{code.code} Free shipping" in text
    assert f"{lots[0].remaining} points expire on {_day(soon)}" in text
    assert text.count("points expire on") == 1


def test_the_referral_link_can_be_shared_without_javascript(client, programme):
    member = member_for(CustomerFactory(shop=programme.shop))

    html = client.get(loyalty_path(member.customer)).content.decode()

    link = f"{settings.PUBLIC_BASE_URL}/loyalty/r/{member.referral_code}/"
    assert f'value="{link}" readonly' in html
    assert 'href="mailto:?subject=' in html
    assert 'href="sms:?body=' in html
    assert member.referral_code in html.split('href="sms:?body=')[1].split('"')[0]


def test_a_message_carries_an_absolute_link_to_the_page(programme):
    customer = CustomerFactory(shop=programme.shop)

    assert loyalty_url(customer) == settings.PUBLIC_BASE_URL + loyalty_path(customer)


def _day(moment) -> str:
    """A date as the page writes it for the factory's customer (English, London)."""
    with timezone.override(zoneinfo.ZoneInfo("Europe/London")), translation.override("en"):
        return date_filter(timezone.localtime(moment), "DATE_FORMAT")


def test_the_pages_queries_do_not_grow_with_the_history(client, programme):
    member = member_with_history(programme.shop)
    RewardFactory(shop=programme.shop, points_price=10)
    path = loyalty_path(member.customer)
    client.get(path)  # the session and the member row exist from here on
    member_page_stale(member.pk)  # rendered, not served from the cache

    with CaptureQueriesContext(connection) as short:
        client.get(path)
    for n in range(HISTORY_PER_PAGE):
        order = OrderFactory(shop=programme.shop, customer=member.customer)
        book(
            member,
            EntryKind.EARN,
            f"earn:line:x{n}",
            Subject.ORDER_LINE,
            pending=5,
            order_id=order.pk,
        )
    with CaptureQueriesContext(connection) as long:
        client.get(path)

    assert len(long) == len(short)
