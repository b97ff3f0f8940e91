"""Factories of loyalty's rows; each part of the programme appends its own."""

from decimal import Decimal

import factory

from loyalty.models import Programme, Reward, Tier
from tests.factories import ShopFactory


class LoyaltyProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme

    shop = factory.SubFactory(ShopFactory)
    points_per_unit = Decimal("1.00")


class LoyaltyTierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"Tier {n}")
    rank = factory.Sequence(lambda n: n)
    earn_multiplier = Decimal("1.00")


class LoyaltyRewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"Reward {n}")
    kind = "amount_off"
    value = Decimal("5.00")
    points_price = 500
