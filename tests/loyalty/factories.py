"""Loyalty factories; each part appends its own in a block."""

from decimal import Decimal

import factory

from loyalty.models import Programme, Reward, RewardKind, Tier
from tests.factories import ShopFactory

# --- The customer's page and the API (the same three as the tiers' block) -------------------


class LoyaltyProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme
        django_get_or_create = ("shop",)

    shop = factory.SubFactory(ShopFactory)
    name = "Rewards"


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"Tier {n}")
    rank = factory.Sequence(lambda n: n)
    threshold = Decimal("0")


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward

    shop = factory.SubFactory(ShopFactory)
    name = "5 USD off"
    kind = RewardKind.AMOUNT_OFF
    value = Decimal("5.00")
    points_price = 500


# --- end of the customer's page and the API ---
