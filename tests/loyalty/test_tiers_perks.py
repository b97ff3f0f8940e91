"""Perks applied, not only listed: a free-shipping code each quarter, the early-access tag in
Shopify (through a fake Admin API, the real client running), and one tier-up message per move;
each reads the tier at the moment it acts."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from loyalty.ledger import member_for
from loyalty.models import Redemption, RedemptionSource, RewardKind
from loyalty.tasks import member_tier_tags_push_task
from loyalty.tiers.perks import (
    member_free_shipping_grant,
    member_tier_tags_push,
    members_free_shipping_grant,
)
from loyalty.tiers.services import member_tier_recompute
from notifications.models import Message
from orders.shopify_admin import ShopifyTransientError
from tests.factories import CustomerFactory, OrderFactory, ShopFactory
from tests.loyalty.factories import three_tiers
from tests.loyalty.tiers_helpers import run_loyalty_tasks

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 2, 10, 15, 0, tzinfo=UTC)
GRAPHQL = "/admin/api/2026-10/graphql.json"


@pytest.fixture
def shop():
    return ShopFactory(timezone="UTC", shopify_access_token="shpat_tiers")


@pytest.fixture
def tiers(shop):
    return three_tiers(shop)


@pytest.fixture
def customer(shop):
    return CustomerFactory(shop=shop, external_id="207119551")


@pytest.fixture
def member(tiers, customer):
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        return member_for(customer)


def _spend(shop, customer, total: str, at: datetime) -> None:
    OrderFactory(
        shop=shop, customer=customer, total=Decimal(total), paid_at=at, financial_status="paid"
    )


@pytest.fixture
def gold(shop, customer, member):
    _spend(shop, customer, "600", T0)
    member_tier_recompute(member_id=member.pk, now=T0)
    member.refresh_from_db()
    assert member.tier.name == "Gold"
    return member


def test_a_gold_member_gets_one_free_shipping_code_per_quarter(gold):
    with time_machine.travel(datetime(2026, 2, 20, 3, tzinfo=UTC), tick=False):
        assert members_free_shipping_grant() == 1
        assert members_free_shipping_grant() == 0  # the same quarter: nothing more
    with time_machine.travel(datetime(2026, 4, 1, 3, tzinfo=UTC), tick=False):
        assert members_free_shipping_grant() == 1

    codes = list(Redemption.objects.filter(member=gold).order_by("created_at"))
    assert [code.idempotency_key for code in codes] == [
        f"tier_perk:free_shipping:{gold.pk}:2026Q1",
        f"tier_perk:free_shipping:{gold.pk}:2026Q2",
    ]
    assert {code.source for code in codes} == {RedemptionSource.TIER_PERK}
    assert codes[0].ends_at == datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=UTC)
    reward = codes[0].reward
    # The perk's own reward: free shipping, never in the catalogue, never sold for points.
    assert (reward.kind, reward.points_price, reward.is_active) == (
        RewardKind.FREE_SHIPPING,
        0,
        False,
    )
    assert codes[1].reward == reward


def test_the_perk_reads_the_tier_when_it_is_granted(shop, customer, gold):
    # The review (a year and a day on) finds no spend: Gold is left before the code is granted.
    review = datetime(2027, 2, 11, 2, tzinfo=UTC)
    member_tier_recompute(member_id=gold.pk, now=review)

    assert member_free_shipping_grant(member_id=gold.pk, now=review) is None
    assert not Redemption.objects.filter(
        idempotency_key=f"tier_perk:free_shipping:{gold.pk}:2027Q1"
    ).exists()


def test_a_member_in_a_tier_without_the_perk_gets_no_code(shop, customer, member):
    _spend(shop, customer, "250", T0)
    member_tier_recompute(member_id=member.pk, now=T0)

    assert members_free_shipping_grant(now=T0) == 0
    assert member_free_shipping_grant(member_id=member.pk, now=T0) is None


def test_moving_up_sets_the_tag_and_this_quarters_code_going(
    shop, customer, member, django_capture_on_commit_callbacks
):
    _spend(shop, customer, "600", T0)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        member_tier_recompute(member_id=member.pk, now=T0)

    names = [callback.name for callback in callbacks if hasattr(callback, "name")]
    assert "loyalty.tasks.member_tier_tags_push_task" in names
    assert "loyalty.tasks.member_free_shipping_grant_task" in names


def _answer(httpserver, name: str) -> None:
    body = {"data": {name: {"node": {"id": "gid://shopify/Customer/207119551"}, "userErrors": []}}}
    httpserver.expect_oneshot_request(GRAPHQL, method="POST").respond_with_json(body)


def _sent(httpserver, index: int) -> dict:
    return json.loads(httpserver.log[index][0].get_data())


def test_the_early_access_tag_is_added_on_reaching_gold_and_removed_on_leaving_it(
    shop, customer, member, httpserver, settings, django_capture_on_commit_callbacks
):
    settings.SHOPIFY_ADMIN_API_URL = httpserver.url_for("/admin/api/2026-10")
    _spend(shop, customer, "600", T0)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        member_tier_recompute(member_id=member.pk, now=T0)
    _answer(httpserver, "tagsAdd")
    run_loyalty_tasks(
        [c for c in callbacks if getattr(c, "name", "").endswith("tags_push_task")],
        django_capture_on_commit_callbacks,
    )

    added = _sent(httpserver, 0)
    assert "tagsAdd(id: $id, tags: $tags)" in added["query"]
    assert added["variables"] == {
        "id": "gid://shopify/Customer/207119551",
        "tags": ["vip-early-access"],
    }
    assert httpserver.log[0][0].headers["X-Shopify-Access-Token"] == "shpat_tiers"

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        member_tier_recompute(member_id=member.pk, now=datetime(2027, 2, 11, 2, tzinfo=UTC))
    _answer(httpserver, "tagsRemove")
    run_loyalty_tasks(callbacks, django_capture_on_commit_callbacks)

    removed = _sent(httpserver, 1)
    assert "tagsRemove(id: $id, tags: $tags)" in removed["query"]
    assert removed["variables"]["tags"] == ["vip-early-access"]
    assert len(httpserver.log) == 2


def test_no_tag_is_pushed_for_a_shop_not_connected_or_a_customer_without_a_shopify_id(
    shop, customer, gold, httpserver, settings
):
    settings.SHOPIFY_ADMIN_API_URL = httpserver.url_for("/admin/api/2026-10")
    customer.external_id = ""
    customer.save()
    assert member_tier_tags_push(member_id=gold.pk).startswith("skipped")
    shop.shopify_access_token = ""
    shop.save()
    assert member_tier_tags_push(member_id=gold.pk).startswith("skipped")
    assert httpserver.log == []


def test_a_transient_shopify_error_is_retried(gold, httpserver, settings):
    settings.SHOPIFY_ADMIN_API_URL = httpserver.url_for("/admin/api/2026-10")
    httpserver.expect_oneshot_request(GRAPHQL, method="POST").respond_with_data("", status=503)

    with pytest.raises(ShopifyTransientError):
        member_tier_tags_push(member_id=gold.pk)
    assert ShopifyTransientError in member_tier_tags_push_task.autoretry_for


def test_one_tier_up_message_per_move_up_and_none_for_joining_or_a_review(
    shop, customer, member, gold
):
    messages = Message.objects.filter(customer=customer, kind="loyalty_tier_up")
    assert messages.count() == 1
    message = messages.get()
    assert message.context["tier_name"] == "Gold"
    assert message.context["previous_tier_name"] == "Bronze"
    assert message.context["free_shipping_quarterly"] is True

    member_tier_recompute(member_id=gold.pk, now=T0 + timedelta(hours=1))  # nothing changes
    member_tier_recompute(member_id=gold.pk, now=datetime(2027, 2, 11, 2, tzinfo=UTC))  # down

    assert messages.count() == 1
