"""Factories of loyalty's rows, one block per part of the programme."""

import factory

from loyalty.models import Reward, RewardKind
from tests.factories import ShopFactory

# --- Rewards ---------------------------------------------------------------------------------


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"Reward {n}")
    kind = RewardKind.AMOUNT_OFF
    value = 5
    points_price = 500
    valid_days = 30
