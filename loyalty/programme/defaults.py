"""A programme's first rows: three tiers on 12-month spend (Bronze from 0, Silver at 1.25x with
a birthday gift, Gold at 1.5x with free shipping each quarter and early access), a catalogue
bought with points (free shipping, an amount off, a free product when there is one, a percent
off) and the two rewards that are granted, never bought: the referred friend's introduction
and the birthday gift. Used by a shop starting its programme from the dashboard and by the
demo shop, which starts its own a year ago."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from loyalty.models import Programme, Reward, RewardKind, Tier
from orders.models import Product, Shop

SILVER_FROM = Decimal("250")
GOLD_FROM = Decimal("1000")
EARLY_ACCESS_TAG = "loyalty-gold"


@dataclass(frozen=True)
class ProgrammeStarted:
    programme: Programme
    tiers: list[Tier]
    # The catalogue, bought with points, cheapest first.
    rewards: list[Reward]


def _catalogue(shop: Shop, free_product: Product | None) -> list[Reward]:
    currency = shop.currency
    bought = [
        Reward(shop=shop, name="Free shipping", kind=RewardKind.FREE_SHIPPING, points_price=300),
        Reward(
            shop=shop,
            name=f"5 {currency} off",
            kind=RewardKind.AMOUNT_OFF,
            value=Decimal("5"),
            points_price=500,
        ),
    ]
    if free_product is not None:
        bought.append(
            Reward(
                shop=shop,
                name=f"A free {free_product.title}",
                kind=RewardKind.FREE_PRODUCT,
                product=free_product,
                points_price=800,
            )
        )
    bought.append(
        Reward(
            shop=shop,
            name="10 % off",
            kind=RewardKind.PERCENT_OFF,
            value=Decimal("10"),
            points_price=1000,
        )
    )
    return bought


def _granted(shop: Shop, what: str) -> Reward:
    return Reward(
        shop=shop,
        name=f"{what}: 10 {shop.currency} off",
        kind=RewardKind.AMOUNT_OFF,
        value=Decimal("10"),
        points_price=0,
        is_active=False,
    )


def programme_rows_create(
    *,
    shop: Shop,
    gold_from: Decimal = GOLD_FROM,
    free_product: Product | None = None,
    at: datetime | None = None,
    **programme_fields: Any,
) -> ProgrammeStarted:
    """Create the programme (with `programme_fields` over the model's defaults), its tiers and
    its rewards, all as of `at` (now by default). The caller checks who may and locks the shop."""
    at = at or timezone.now()
    bought = _catalogue(shop, free_product)
    welcome, birthday = _granted(shop, "Welcome"), _granted(shop, "Birthday")
    rewards = [*bought, welcome, birthday]
    for position, reward in enumerate(rewards):
        reward.position, reward.created_at, reward.updated_at = position, at, at
    Reward.objects.bulk_create(rewards)
    tiers = [
        Tier(shop=shop, name="Bronze", rank=0, threshold=Decimal("0")),
        Tier(
            shop=shop,
            name="Silver",
            rank=1,
            threshold=SILVER_FROM,
            earn_multiplier=Decimal("1.25"),
            birthday_reward=birthday,
        ),
        Tier(
            shop=shop,
            name="Gold",
            rank=2,
            threshold=gold_from,
            earn_multiplier=Decimal("1.5"),
            free_shipping_quarterly=True,
            early_access_tag=EARLY_ACCESS_TAG,
            birthday_reward=birthday,
        ),
    ]
    for tier in tiers:
        tier.created_at, tier.updated_at = at, at
    Tier.objects.bulk_create(tiers)
    programme = Programme.objects.create(
        shop=shop,
        referral_friend_reward=welcome,
        created_at=at,
        updated_at=at,
        **programme_fields,
    )
    return ProgrammeStarted(programme, tiers, bought)
