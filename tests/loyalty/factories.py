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
