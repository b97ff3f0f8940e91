"""The perks a tier applies, each reading the member's tier at the moment it acts:

- the earning multiplier: read by the earning part from `member.tier` when it books points
  (recorded on the entry as `tier_name` and `multiplier`);
- a free-shipping code each quarter for tiers with `free_shipping_quarterly`
  (`member_free_shipping_grant`, once per member and quarter, by its key);
- early access: the tier's `early_access_tag` on the customer in Shopify, added when they reach
  the tier and removed when they leave it (`member_tier_tags_push`, after commit, outside any
  transaction);
- the tier-up message (`loyalty.messages.tier_up_message_schedule`, from the move itself).
The birthday gift (`Tier.birthday_reward`) is issued by the occasions part."""

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from loyalty.models import (
    Member,
    Programme,
    Redemption,
    RedemptionSource,
    Reward,
    RewardKind,
    Tier,
)
from loyalty.rewards.codes import reward_grant
from orders.models import Shop
from orders.shopify_admin import (
    ShopifyRefused,
    customer_tags_add,
    customer_tags_remove,
    is_connected,
)

logger = logging.getLogger(__name__)

PERK_REWARD_NAME = "Free shipping (tier perk)"


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int
    ends_at: datetime

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"


def _zone(shop: Shop) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(shop.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def shop_quarter(shop: Shop, now: datetime) -> Quarter:
    """The calendar quarter the shop is in (its own time zone), and when it ends."""
    zone = _zone(shop)
    local = now.astimezone(zone)
    number = (local.month - 1) // 3 + 1
    next_month = number * 3 + 1
    year = local.year + (1 if next_month > 12 else 0)
    first_of_next = datetime.combine(
        local.date().replace(year=year, month=(next_month - 1) % 12 + 1, day=1), time(0), zone
    )
    return Quarter(local.year, number, (first_of_next - timedelta(microseconds=1)).astimezone(UTC))


def free_shipping_perk_reward(shop_id: int) -> Reward:
    """The reward the quarterly perk issues: the shop's own perk reward, created on first need.

    A reward of its own rather than the catalogue's free shipping: the catalogue's has a points
    price and a validity chosen for buying it, and staff may retire it. The perk's reward is
    inactive, so it never appears in the catalogue and cannot be bought (its price is 0)."""
    with transaction.atomic():
        # The programme row serialises the creation: two workers never make two perk rewards.
        Programme.objects.select_for_update().filter(shop_id=shop_id).first()
        reward = (
            Reward.objects.filter(
                shop_id=shop_id,
                kind=RewardKind.FREE_SHIPPING,
                points_price=0,
                is_active=False,
                name=PERK_REWARD_NAME,
            )
            .order_by("pk")
            .first()
        )
        if reward is None:
            reward = Reward.objects.create(
                shop_id=shop_id,
                name=PERK_REWARD_NAME,
                kind=RewardKind.FREE_SHIPPING,
                points_price=0,
                is_active=False,
                valid_days=92,
            )
        return reward


def free_shipping_key(member_id: int, quarter: Quarter) -> str:
    return f"tier_perk:free_shipping:{member_id}:{quarter.label}"


def member_free_shipping_grant(*, member_id: int, now: datetime | None = None) -> Redemption | None:
    """This quarter's free-shipping code, if the member's tier gives one; at most one per
    member and quarter (by its key). The tier is read on the locked member row, in the
    transaction that issues the code: a member who has just left the tier gets none."""
    now = now or timezone.now()
    member = Member.objects.select_related("shop", "customer").get(pk=member_id)
    quarter = shop_quarter(member.shop, now)
    with transaction.atomic():
        locked = (
            Member.objects.select_for_update(of=("self",)).select_related("tier").get(pk=member_id)
        )
        tier = locked.tier
        if tier is None or not tier.free_shipping_quarterly:
            return None
        if not Programme.objects.filter(shop_id=member.shop_id, is_active=True).exists():
            return None
        reward = free_shipping_perk_reward(member.shop_id)
        return reward_grant(
            customer=member.customer,
            reward=reward,
            source=RedemptionSource.TIER_PERK,
            key=free_shipping_key(member_id, quarter),
            member=locked,
            ends_at=max(quarter.ends_at, now + timedelta(days=7)),
        )


def members_owed_free_shipping(*, now: datetime) -> list[int]:
    """Members in a tier with quarterly free shipping who have no code for this quarter yet."""
    candidates = list(
        Member.objects.filter(
            tier__free_shipping_quarterly=True,
            shop__is_active=True,
            shop__loyalty_programme__is_active=True,
        )
        .select_related("shop")
        .order_by("pk")
    )
    keys = {
        member.pk: free_shipping_key(member.pk, shop_quarter(member.shop, now))
        for member in candidates
    }
    issued = set(
        Redemption.objects.filter(idempotency_key__in=list(keys.values())).values_list(
            "idempotency_key", flat=True
        )
    )
    return [member_id for member_id, key in keys.items() if key not in issued]


def members_free_shipping_grant(*, now: datetime | None = None) -> int:
    """The quarterly run (daily, so a member who reaches the tier mid-quarter gets this
    quarter's code the next day at the latest); returns how many codes were issued."""
    now = now or timezone.now()
    issued = 0
    for member_id in members_owed_free_shipping(now=now):
        try:
            if member_free_shipping_grant(member_id=member_id, now=now) is not None:
                issued += 1
        except Exception:
            logger.exception("free shipping perk failed for member %s", member_id)
    return issued


def member_tier_tags_push(*, member_id: int) -> str:
    """Make the customer's tags in Shopify match their tier now: the current tier's early-access
    tag added, every other tier's removed. Reads the tier when it runs, so pushes that run late
    or out of order still leave the right tags. Returns what it did, for the logs.

    Skipped when the shop is not connected or the customer has no Shopify id. A refusal is
    logged and not retried (asking again gets the same answer); a transient error is raised for
    the task to retry. Called outside any transaction: no lock is held across the call."""
    member = Member.objects.select_related("shop", "customer", "tier").get(pk=member_id)
    shop, customer = member.shop, member.customer
    if not is_connected(shop):
        return "skipped: the shop is not connected to Shopify"
    if not customer.external_id:
        return "skipped: the customer has no Shopify id"
    wanted = member.tier.early_access_tag if member.tier else ""
    others = sorted(
        {
            tag
            for tag in Tier.objects.filter(shop_id=shop.pk).values_list(
                "early_access_tag", flat=True
            )
            if tag and tag != wanted
        }
    )
    try:
        if others:
            customer_tags_remove(shop, customer.external_id, others)
        if wanted:
            customer_tags_add(shop, customer.external_id, [wanted])
    except ShopifyRefused as refused:
        logger.warning("Shopify refused the tier tags of member %s: %s", member_id, refused)
        return "refused"
    return f"added {wanted or '-'}, removed {', '.join(others) or '-'}"
