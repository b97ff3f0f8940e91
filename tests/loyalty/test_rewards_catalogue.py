"""The reward catalogue: the active rewards sold for points in the shop's order, and the rules
a reward keeps (a percentage up to 100, a free product of the shop, a points price)."""

import pytest
from django.core.exceptions import ValidationError

from loyalty.models import RewardKind
from loyalty.rewards.catalogue import reward_create, reward_update, rewards_available
from tests.factories import ProductFactory
from tests.loyalty.factories import RewardFactory

pytestmark = pytest.mark.django_db


def test_the_catalogue_lists_the_shops_active_rewards_for_points_in_order(shop, other_shop):
    dear = RewardFactory(shop=shop, position=0, points_price=900)
    cheap = RewardFactory(shop=shop, position=0, points_price=200)
    last = RewardFactory(shop=shop, position=1, points_price=100)
    RewardFactory(shop=shop, is_active=False)
    RewardFactory(shop=shop, points_price=0)  # only granted, never sold
    RewardFactory(shop=other_shop)

    assert list(rewards_available(shop=shop)) == [cheap, dear, last]


@pytest.mark.parametrize(
    ("fields", "field_at_fault"),
    [
        ({"kind": RewardKind.PERCENT_OFF, "value": 150}, "value"),
        ({"kind": RewardKind.PERCENT_OFF, "value": 0}, "value"),
        ({"kind": RewardKind.AMOUNT_OFF, "value": 0}, "value"),
        ({"kind": RewardKind.FREE_PRODUCT, "value": 0}, "product"),
        ({"kind": RewardKind.AMOUNT_OFF, "value": 5, "points_price": 0}, "points_price"),
    ],
)
def test_a_reward_breaking_a_rule_is_refused_by_field(shop, fields, field_at_fault):
    with pytest.raises(ValidationError) as refused:
        reward_create(shop=shop, name="Reward", **{"points_price": 500, **fields})
    assert field_at_fault in refused.value.message_dict
    assert not shop.loyalty_rewards.exists()


def test_a_free_product_must_be_one_of_the_shops_products(shop, other_shop):
    theirs = ProductFactory(shop=other_shop)
    with pytest.raises(ValidationError) as refused:
        reward_create(
            shop=shop, name="Free tea", kind=RewardKind.FREE_PRODUCT, product=theirs, points_price=9
        )
    assert "product" in refused.value.message_dict

    ours = ProductFactory(shop=shop)
    reward = reward_create(
        shop=shop, name="Free tea", kind=RewardKind.FREE_PRODUCT, product=ours, points_price=9
    )
    assert reward.product == ours


def test_a_granted_only_reward_may_cost_no_points_and_new_rewards_go_last(shop):
    first = reward_create(
        shop=shop, name="10% off", kind=RewardKind.PERCENT_OFF, value=10, points_price=300
    )
    gift = reward_create(
        shop=shop, name="Birthday", kind=RewardKind.FREE_SHIPPING, points_price=0, for_points=False
    )
    assert (first.position, gift.position) == (0, 1)


def test_an_update_keeps_the_rules(shop):
    reward = RewardFactory(shop=shop, kind=RewardKind.PERCENT_OFF, value=10)
    with pytest.raises(ValidationError):
        reward_update(reward=reward, value=101)
    reward.refresh_from_db()
    assert reward.value == 10
    assert reward_update(reward=reward, value=20).value == 20
