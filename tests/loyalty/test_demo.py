"""The demo shop runs a loyalty programme with a year of history, so that every loyalty page
has something to show, and names a demo customer whose page the seed's summary links to."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command

from loyalty.demo.customer import GOODWILL_KEY, demo_customer_find
from loyalty.earning.ledger_check import ledger_check
from loyalty.models import (
    EntryKind,
    LedgerEntry,
    Member,
    PointLot,
    Programme,
    Redemption,
    RedemptionSource,
    RedemptionStatus,
    Referral,
    ReferralStatus,
    RewardKind,
    Subject,
    TierChange,
    TierChangeReason,
)
from loyalty.tokens import customer_id_from_loyalty_token, loyalty_path
from orders.demo import demo_reference_now, demo_seed
from orders.demo.reference import STAFF_USERNAME
from orders.models import Shop
from tests.orders.test_seed_demo import delete_demo_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    return demo_seed(scale=0.1, seed=7)


def test_the_demo_programme_has_three_tiers_and_a_reward_of_each_kind(demo):
    shop = demo.shop
    programme = Programme.objects.get(shop=shop)
    assert programme.is_active
    tiers = list(shop.loyalty_tiers.order_by("rank"))
    assert [t.name for t in tiers] == ["Bronze", "Silver", "Gold"]
    assert [t.threshold for t in tiers] == sorted(t.threshold for t in tiers)
    assert tiers[2].earn_multiplier > tiers[1].earn_multiplier > tiers[0].earn_multiplier
    assert tiers[2].free_shipping_quarterly
    offered = shop.loyalty_rewards.filter(is_active=True, points_price__gt=0)
    assert set(offered.values_list("kind", flat=True)) == set(RewardKind.values)


def test_the_demo_year_is_booked_with_honest_dates_and_adds_up(demo):
    shop = demo.shop
    entries = LedgerEntry.objects.filter(shop=shop)
    first = entries.order_by("created_at").first().created_at
    last = entries.order_by("created_at").last().created_at
    assert last - first > timedelta(days=300)
    assert last <= demo_reference_now()
    kinds = set(entries.values_list("kind", flat=True))
    assert {
        EntryKind.EARN,
        EntryKind.CONFIRM,
        EntryKind.CLAWBACK,
        EntryKind.REDEEM,
        EntryKind.EXPIRE,
        EntryKind.ADJUST,
    } <= kinds
    # A clawback of a returned item, a review bonus, an expired lot.
    assert entries.filter(kind=EntryKind.CLAWBACK, subject=Subject.RETURN_ITEM).exists()
    assert entries.filter(kind=EntryKind.EARN, subject=Subject.REVIEW).exists()
    expired = entries.filter(kind=EntryKind.EXPIRE).first()
    assert expired.idempotency_key == f"expire:lot:{expired.subject_id}"
    assert PointLot.objects.filter(pk=expired.subject_id, remaining=0).exists()
    # Entries are listed in the order they happened: each carries the balance after it.
    member = Member.objects.filter(shop=shop).order_by("-lifetime_earned").first()
    running = 0
    for entry in member.entries.order_by("created_at", "pk"):
        running += entry.available_delta
        assert entry.available_after == running
    assert ledger_check().drift == []


def test_members_sit_in_several_tiers_with_their_moves_on_record(demo):
    shop = demo.shop
    tiers = set(Member.objects.filter(shop=shop).values_list("tier__name", flat=True))
    assert len(tiers) > 1
    assert TierChange.objects.filter(shop=shop, reason=TierChangeReason.QUALIFIED).exists()
    assert not Member.objects.filter(shop=shop, tier__isnull=True).exists()


def test_rewards_were_redeemed_with_the_shops_own_codes(demo):
    shop = demo.shop
    assert not shop.shopify_access_token  # not connected: codes the shop enters itself
    bought = Redemption.objects.filter(shop=shop, source=RedemptionSource.POINTS)
    used = bought.filter(status=RedemptionStatus.USED).first()
    assert used is not None
    assert used.code.startswith("RW-")
    assert used.used_order_id
    assert used.platform_discount_id == ""
    redeem = LedgerEntry.objects.get(shop=shop, idempotency_key=f"redeem:{used.pk}")
    assert redeem.available_delta == -used.points
    assert redeem.created_at == used.created_at


def test_a_referral_is_refused_with_the_guards_reason(demo):
    refused = Referral.objects.get(shop=demo.shop, status=ReferralStatus.REFUSED)
    assert refused.reason.startswith("Self-referral")
    assert Referral.objects.filter(shop=demo.shop).exclude(status=ReferralStatus.REFUSED).exists()


def test_the_demo_customer_is_linked_and_their_page_shows_their_balance(demo, client):
    member = demo_customer_find(demo.shop)
    assert member is not None
    assert member.tier.name != "Gold"
    assert LedgerEntry.objects.filter(member=member, idempotency_key=GOODWILL_KEY).exists()
    assert [_customer_linked(link.url) for link in demo.links] == [member.customer_id]

    response = client.get(loyalty_path(member.customer))

    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(rf"\b{member.available:,}\b", html)
    assert member.pending > 0


def test_staff_read_the_demo_programmes_pages(demo, client):
    client.force_login(get_user_model().objects.get(username=STAFF_USERNAME))
    member = Member.objects.filter(shop=demo.shop).order_by("-lifetime_earned").first()

    for url in (
        "/dashboard/loyalty/",
        "/dashboard/loyalty/members/",
        f"/dashboard/loyalty/members/{member.pk}/",
        "/dashboard/loyalty/settings/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    numbers = client.get("/dashboard/loyalty/").content.decode()
    assert 'id="kpi-issued-value"' in numbers


def test_seed_demo_prints_the_demo_customers_loyalty_page(capsys):
    call_command("seed_demo", scale=0.05, seed=7)

    out = capsys.readouterr().out
    member = demo_customer_find(Shop.objects.get(slug="demo"))
    assert "Loyalty:" in out
    assert member.customer.email in out
    urls = re.findall(r"https?://\S+/loyalty/\S+/", out)
    assert [_customer_linked(url) for url in urls] == [member.customer_id]


def _customer_linked(url: str) -> int | None:
    return customer_id_from_loyalty_token(url.rstrip("/").rsplit("/", 1)[-1])


def _ledger_snapshot() -> list[tuple]:
    return sorted(
        LedgerEntry.objects.values_list(
            "member__customer__email",
            "kind",
            "available_delta",
            "pending_delta",
            "created_at",
            "reason",
            "tier_name",
        )
    )


def test_the_same_seed_gives_the_same_loyalty_year():
    with time_machine.travel(datetime(2026, 12, 7, 15, 30, tzinfo=UTC), tick=True):
        demo_seed(scale=0.05, seed=7)
        first = (_ledger_snapshot(), sorted(Redemption.objects.values_list("code", flat=True)))
        delete_demo_shop()
        demo_seed(scale=0.05, seed=7)
        again = (_ledger_snapshot(), sorted(Redemption.objects.values_list("code", flat=True)))

    assert len(first[0]) > 100
    assert again[0] == first[0]
    assert again[1] == first[1]
