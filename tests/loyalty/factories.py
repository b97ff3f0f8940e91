"""Factories of loyalty's rows; each part of the programme appends its own."""

from decimal import Decimal

import factory

from loyalty.models import Programme, Reward, RewardKind, Tier
from tests.factories import ShopFactory


class LoyaltyProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme
        django_get_or_create = ("shop",)

    shop = factory.SubFactory(ShopFactory)
    name = "Rewards"
    points_per_unit = Decimal("1.00")


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"Tier {n}")
    rank = factory.Sequence(lambda n: n)
    threshold = Decimal("0")
    earn_multiplier = Decimal("1.00")


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"Reward {n}")
    kind = RewardKind.AMOUNT_OFF
    value = Decimal("5.00")
    points_price = 500


def three_tiers(shop, *, basis: str = "spend") -> tuple[Tier, Tier, Tier]:
    """Bronze (0), Silver (200) and Gold (500: 1.5x points, quarterly free shipping, early
    access) in a programme on `basis`."""
    LoyaltyProgrammeFactory(shop=shop, tier_basis=basis)
    bronze = TierFactory(shop=shop, name="Bronze", rank=0, threshold=Decimal("0"))
    silver = TierFactory(shop=shop, name="Silver", rank=1, threshold=Decimal("200"))
    gold = TierFactory(
        shop=shop,
        name="Gold",
        rank=2,
        threshold=Decimal("500"),
        earn_multiplier=Decimal("1.5"),
        free_shipping_quarterly=True,
        early_access_tag="vip-early-access",
    )
    return bronze, silver, gold
