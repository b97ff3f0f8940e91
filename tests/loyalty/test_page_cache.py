"""The loyalty page from the cache: a page with nothing changed is served with no SQL in one
Redis round trip; every change to what it shows makes the next view render afresh; each
request still gets its own CSRF token and one-time redeem key; a member's page is never
another's; German and English are kept apart; no page outlives what the clock changes."""

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.tracking_probe import redis_calls
from loyalty.earning.orders import order_points_earn
from loyalty.ledger import member_for, points_release, points_reserve
from loyalty.models import (
    EarningStatus,
    Member,
    OrderEarning,
    Programme,
    Redemption,
    RedemptionSource,
    RedemptionStatus,
    Referral,
)
from loyalty.pages import cache as page_cache
from loyalty.pages.invalidation import customer_redacted_page_stale
from loyalty.rewards.codes import reward_grant
from loyalty.tiers.services import member_tier_recompute
from loyalty.tokens import loyalty_path
from orders.models import FinancialStatus
from postpurchase.events import Event
from postpurchase.redis import redis_client
from tests.factories import CustomerFactory, LineItemFactory, OrderFactory
from tests.loyalty.earning_helpers import order_with_lines
from tests.loyalty.factories import LoyaltyProgrammeFactory, RewardFactory, TierFactory
from tests.loyalty.page_helpers import credit, member_with_history
from tests.test_human_labels import visible_text

pytestmark = pytest.mark.django_db

_KEY = re.compile(r'name="key" value="([0-9a-f]{32})"')


def _forget_all_pages() -> None:
    client = redis_client()
    keys = list(client.scan_iter(match="pp:loyalty:page:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def no_cached_pages():
    _forget_all_pages()
    yield
    _forget_all_pages()


@pytest.fixture
def programme(shop):
    return LoyaltyProgrammeFactory(shop=shop, name="Club Points")


@pytest.fixture
def member(programme):
    member = member_with_history(programme.shop)
    RewardFactory(shop=programme.shop, name="5 USD off", points_price=10)
    return member


def _text(response) -> str:
    return " ".join(visible_text(response.content.decode()).split())


def _served_from_cache(client, path: str):
    """The view's answer and whether it came from the cache: no SQL, one Redis round trip."""
    with redis_calls() as trips, CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return response, (len(queries) == 0 and trips == ["EVALSHA"])


def _without_per_request_parts(html: str) -> str:
    return _KEY.sub("KEY", html)


def test_an_unchanged_page_is_served_without_sql_in_one_round_trip(client, member):
    path = loyalty_path(member.customer)
    first = client.get(path)

    with redis_calls() as trips, CaptureQueriesContext(connection) as queries:
        again = client.get(path)

    assert len(queries) == 0
    assert trips == ["EVALSHA"]
    assert again.status_code == first.status_code == 200
    assert _without_per_request_parts(again.content.decode()) == _without_per_request_parts(
        first.content.decode()
    )
    assert "+120 for order #1042 (pending)" in _text(again)
    for header in (
        "Cache-Control",
        "Content-Language",
        "Content-Security-Policy",
        "Referrer-Policy",
        "X-Robots-Tag",
        "X-Frame-Options",
        "Content-Type",
        "Vary",
    ):
        assert again.get(header) == first.get(header), header
    assert "no-store" in again["Cache-Control"]
    assert "private" in again["Cache-Control"]


def test_a_head_is_served_from_the_cache_too(client, member):
    path = loyalty_path(member.customer)
    client.get(path)

    with CaptureQueriesContext(connection) as queries:
        response = client.head(path)

    assert response.status_code == 200
    assert len(queries) == 0


def _book(member: Member) -> str:
    """An order's points, whose balance is written without `save()` (no signal)."""
    order = order_with_lines(member.shop, member.customer, number="#2001")
    # A line id that the history's made-up keys (`earn:line:1`, `earn:line:2`) cannot name.
    LineItemFactory(order=order, pk=90001, unit_price=Decimal("11.00"), quantity=3)
    order_points_earn(order_id=order.pk)
    return "+33 for order #2001 (pending)"


def _credit(member: Member) -> str:
    credit(member, 7, "adjust:later")
    return "+7: adjusted by the shop"


def _reserve(member: Member) -> str:
    points_reserve(member.pk, 25)
    return "25 points are being turned into a code."


def _release(member: Member) -> str:
    points_reserve(member.pk, 25)
    member_page_renders(member)  # cached with the points held
    points_release(member.pk, 25)
    return "120 points to spend"


def _tier(member: Member) -> str:
    shop = member.shop
    TierFactory(shop=shop, name="Bronze", rank=0, threshold=Decimal("0"))
    TierFactory(shop=shop, name="Platinum", rank=1, threshold=Decimal("100"))
    member_page_renders(member)  # cached in Bronze
    OrderFactory(
        shop=shop,
        customer=member.customer,
        total=Decimal("150.00"),
        financial_status=FinancialStatus.PAID,
        paid_at=timezone.now() - timedelta(days=1),
    )
    member_tier_recompute(member_id=member.pk)
    return "Platinum"


def _code_issued(member: Member) -> str:
    reward = RewardFactory(shop=member.shop, name="Gift card", points_price=0, is_active=False)
    redemption = Redemption.objects.create(
        shop=member.shop,
        customer=member.customer,
        member=member,
        reward=reward,
        source=RedemptionSource.BIRTHDAY,
        status=RedemptionStatus.RESERVED,
        code="RW-HELD12345",
        ends_at=timezone.now() + timedelta(days=30),
        idempotency_key="test:held",
    )
    member_page_renders(member)  # cached while the code is being created
    redemption.status = RedemptionStatus.ISSUED
    redemption.save(update_fields=["status", "updated_at"])
    return "RW-HELD12345"


def _earning_dated(member: Member) -> str:
    earning = OrderEarning.objects.get(member=member)
    earning.confirm_at = None
    earning.save(update_fields=["confirm_at", "updated_at"])
    member_page_renders(member)  # cached without a date
    earning.confirm_at = timezone.now() + timedelta(days=3)
    earning.save(update_fields=["confirm_at", "updated_at"])
    return "yours on"


def _spend(member: Member) -> str:
    """An order that moves the 12-month spend but not the tier: no member row is saved."""
    shop = member.shop
    bronze = TierFactory(shop=shop, name="Bronze", rank=0, threshold=Decimal("0"))
    TierFactory(shop=shop, name="Gold", rank=1, threshold=Decimal("500"))
    Member.objects.filter(pk=member.pk).update(tier=bronze)
    member_page_renders(member)  # cached with 500.00 to go
    OrderFactory(
        shop=shop,
        customer=member.customer,
        total=Decimal("200.00"),
        financial_status=FinancialStatus.PAID,
        paid_at=timezone.now() - timedelta(days=1),
    )
    member_tier_recompute(member_id=member.pk)
    return "Spend 300.00 USD more within 12 months to reach Gold."


def _referral(member: Member) -> str:
    friend = CustomerFactory(shop=member.shop)
    Referral.objects.create(shop=member.shop, referrer=member, friend=friend)
    return "Invite a friend"


def _programme(member: Member) -> str:
    programme = Programme.objects.get(shop=member.shop)
    programme.name = "Star Club"
    programme.save(update_fields=["name", "updated_at"])
    return "Star Club"


def _shop_tier(member: Member) -> str:
    tier = TierFactory(shop=member.shop, name="Bronze", rank=0, threshold=Decimal("0"))
    Member.objects.filter(pk=member.pk).update(tier=tier)
    member_page_renders(member)
    tier.name = "Copper"
    tier.save(update_fields=["name", "updated_at"])
    return "Copper"


def _reward(member: Member) -> str:
    reward = RewardFactory(shop=member.shop, name="Tote bag", points_price=10)
    reward.points_price = 20
    reward.save(update_fields=["points_price", "updated_at"])
    return "Tote bag"


def _shop(member: Member) -> str:
    member.shop.name = "Renamed Goods"
    member.shop.save(update_fields=["name", "updated_at"])
    return "Renamed Goods"


def member_page_renders(member: Member) -> None:
    Client().get(loyalty_path(member.customer))


@pytest.mark.parametrize(
    "change",
    [
        _book,
        _credit,
        _reserve,
        _release,
        _tier,
        _spend,
        _code_issued,
        _earning_dated,
        _referral,
        _programme,
        _shop_tier,
        _reward,
        _shop,
    ],
)
def test_every_change_to_what_the_page_shows_renders_it_afresh(
    client, member, change: Callable[[Member], str]
):
    path = loyalty_path(member.customer)
    client.get(path)
    _response, cached = _served_from_cache(client, path)
    assert cached

    shows = change(member)

    response, cached = _served_from_cache(client, path)
    assert not cached
    assert shows in _text(response)
    _response, cached = _served_from_cache(client, path)
    assert cached


@pytest.mark.django_db(transaction=True)
def test_the_versions_are_renewed_again_when_the_change_commits(client, programme):
    member = member_for(CustomerFactory(shop=programme.shop))
    path = loyalty_path(member.customer)
    version = f"pp:loyalty:page:v:m:{member.pk}"
    client.get(path)

    with transaction.atomic():
        credit(member, 5, "adjust:commit")
        credit(member, 6, "adjust:commit-again")
        at_once = redis_client().get(version)
        client.get(path)  # a view before the commit, as another process would render it
        assert redis_client().get(version) == at_once

    assert redis_client().get(version) != at_once
    response, cached = _served_from_cache(client, path)
    assert not cached
    assert "11 points to spend" in _text(response)


def test_an_erased_customer_gets_the_404_at_once(client, member):
    path = loyalty_path(member.customer)
    client.get(path)
    member.customer.__class__.objects.filter(pk=member.customer_id).update(
        redacted_at=timezone.now()
    )

    customer_redacted_page_stale(
        Event(1, "customer_redacted", member.shop_id, {"customer_id": member.customer_id})
    )

    assert client.get(path).status_code == 404


def test_a_programme_switched_off_shows_nothing_from_the_cache(client, member):
    path = loyalty_path(member.customer)
    client.get(path)

    programme = Programme.objects.get(shop=member.shop)
    programme.is_active = False
    programme.save(update_fields=["is_active", "updated_at"])

    assert client.get(path).status_code == 404


def test_another_members_token_never_sees_this_members_page(client, member):
    neighbour = member_for(CustomerFactory(shop=member.shop))
    credit(neighbour, 4321, "adjust:neighbour")
    mine, theirs = loyalty_path(member.customer), loyalty_path(neighbour.customer)
    client.get(mine)
    client.get(theirs)

    my_page, my_cached = _served_from_cache(client, mine)
    their_page, their_cached = _served_from_cache(client, theirs)

    assert my_cached
    assert their_cached
    assert "4,321 points to spend" in _text(their_page)
    assert "4,321" not in _text(my_page)
    assert "#1042" not in _text(their_page)
    assert mine in my_page.content.decode()
    assert theirs not in my_page.content.decode()


def test_a_redeem_from_a_cached_page_needs_no_cookie_and_a_cross_site_one_is_refused(member):
    browser = Client(enforce_csrf_checks=True)
    path = loyalty_path(member.customer)
    browser.get(path)
    page, cached = _served_from_cache(browser, path)
    html = page.content.decode()
    form = {
        "reward": re.search(r'name="reward" value="(\d+)"', html).group(1),
        "key": _KEY.search(html).group(1),
    }

    forged = browser.post(path + "redeem/", form, headers={"Sec-Fetch-Site": "cross-site"})
    sent = browser.post(path + "redeem/", form, headers={"Sec-Fetch-Site": "same-origin"})

    assert cached
    assert "Set-Cookie" not in page.headers
    assert "csrfmiddlewaretoken" not in html
    assert f'action="{path}redeem/"' in html
    assert forged.status_code == 403
    assert sent.status_code == 303
    assert Redemption.objects.filter(customer=member.customer).count() == 1


def test_each_serving_gets_its_own_redeem_key_and_a_resent_form_redeems_once(client, member):
    path = loyalty_path(member.customer)
    client.get(path)
    first, first_cached = _served_from_cache(client, path)
    second, second_cached = _served_from_cache(client, path)
    first_key = _KEY.search(first.content.decode()).group(1)
    second_key = _KEY.search(second.content.decode()).group(1)
    reward = re.search(r'name="reward" value="(\d+)"', first.content.decode()).group(1)
    form = {"reward": reward, "key": first_key}

    sent = client.post(path + "redeem/", form)
    again = client.post(path + "redeem/", form)

    assert first_cached
    assert second_cached
    assert first_key != second_key
    assert sent["Location"] == again["Location"]
    assert Redemption.objects.filter(customer=member.customer).count() == 1


def test_german_and_english_pages_are_cached_apart(client, member):
    path = loyalty_path(member.customer)
    english = client.get(path)
    customer = member.customer
    customer.locale = "de-DE"
    customer.save(update_fields=["locale", "updated_at"])

    _german, german_cached = _served_from_cache(client, path)
    german_again, again_cached = _served_from_cache(client, path)

    assert english["Content-Language"] == "en"
    assert "points to spend" in _text(english)
    assert not german_cached
    assert again_cached
    assert german_again["Content-Language"] == "de"
    assert "Punkte zum Einlösen" in _text(german_again)
    keys = {k.decode() for k in redis_client().scan_iter(match="pp:loyalty:page:body:*")}
    assert {key.split(":")[5] for key in keys} == {"en", "de"}


def test_history_pages_are_cached_each_and_a_redeemed_notice_never(client, member):
    path = loyalty_path(member.customer)
    client.get(path)
    client.get(path, {"page": "1"})

    _first, cached = _served_from_cache(client, path + "?page=1")
    _notice, notice_cached = _served_from_cache(client, path + "?redeemed=1")
    _other, other_cached = _served_from_cache(client, path + "?page=1&utm_source=mail")

    assert cached
    assert not notice_cached
    assert not other_cached


def test_a_page_lives_no_longer_than_its_soonest_code(client, member):
    reward = RewardFactory(shop=member.shop, name="Flash sale", points_price=0, is_active=False)
    code = reward_grant(
        customer=member.customer, reward=reward, source=RedemptionSource.BIRTHDAY, key="b:1"
    )
    Redemption.objects.filter(pk=code.pk).update(ends_at=timezone.now() + timedelta(minutes=10))
    client.get(loyalty_path(member.customer))

    [key] = list(redis_client().scan_iter(match="pp:loyalty:page:body:*"))

    assert 0 < redis_client().ttl(key) <= 600


def test_a_page_lives_no_longer_than_the_day_nor_an_hour(client, member):
    client.get(loyalty_path(member.customer))

    [key] = list(redis_client().scan_iter(match="pp:loyalty:page:body:*"))
    now = timezone.localtime(timezone.now())
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)

    assert 0 < redis_client().ttl(key) <= min(page_cache.MAX_AGE, (midnight - now).seconds + 1)


def test_points_coming_into_the_expiring_list_end_the_page(client, member):
    from loyalty.models import PointLot

    lot = PointLot.objects.filter(member=member, remaining__gt=0).order_by("pk").first()
    PointLot.objects.filter(pk=lot.pk).update(
        expires_at=timezone.now() + timedelta(days=60, minutes=5)
    )
    client.get(loyalty_path(member.customer))

    [key] = list(redis_client().scan_iter(match="pp:loyalty:page:body:*"))

    assert 0 < redis_client().ttl(key) <= 300


def test_an_earning_confirmed_after_the_window_is_shown_at_once(client, member):
    earning = OrderEarning.objects.get(member=member)
    path = loyalty_path(member.customer)
    client.get(path)

    earning.status = EarningStatus.CONFIRMED
    earning.save(update_fields=["status", "updated_at"])

    assert "On their way" not in _text(client.get(path))
