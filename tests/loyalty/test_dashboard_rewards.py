"""The reward catalogue's screens: the list with what each reward gives and how many codes it
gave, adding and changing a reward with the error next to the field and nothing saved on bad
input, retiring and offering again, removing only a reward that never gave a code, every change
in the settings log, agents reading without changing, another shop's reward not found."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from loyalty.dashboard.forms import RewardForm
from loyalty.ledger import member_for
from loyalty.models import Redemption, RedemptionStatus, Reward
from loyalty.programme.services import programme_start, reward_change
from loyalty.rewards.catalogue import rewards_available
from orders.models import SettingsChange, StaffRole
from postpurchase.exceptions import DomainError
from postpurchase.permissions import StaffPermissionDenied
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    ShopFactory,
    StaffMembershipFactory,
)

pytestmark = pytest.mark.django_db

REWARDS = "/dashboard/loyalty/rewards/"


def loyalty_reward_post(shop, reward: Reward | None = None, **changes: str) -> dict[str, str]:
    """The reward form as the page shows it (a new reward: a valid amount off), with `changes`
    typed over it."""
    form = RewardForm(instance=reward, shop=shop)
    data: dict[str, str] = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False or value == "":
            continue
        data[name] = "on" if value is True else str(value)
    if reward is None:
        data.update(name="7 off", kind="amount_off", value="7", points_price="700", valid_days="60")
        data["is_active"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def shop():
    shop = ShopFactory(currency="EUR")
    programme_start(shop_id=shop.pk, actor=None)
    return shop


def _staff(client, shop, role: str):
    user = StaffMembershipFactory(shop=shop, role=role).user
    client.force_login(user)
    return user


def _reward(shop, name: str = "Free shipping") -> Reward:
    return Reward.objects.get(shop=shop, name=name)


def _redeemed(reward: Reward, status: str = RedemptionStatus.ISSUED) -> Redemption:
    member = member_for(CustomerFactory(shop=reward.shop))
    return Redemption.objects.create(
        shop=reward.shop,
        customer=member.customer,
        member=member,
        reward=reward,
        points=reward.points_price,
        status=status,
        code=f"RW-{Redemption.objects.count():08d}",
        ends_at=timezone.now() + timedelta(days=30),
        idempotency_key=f"test:{Redemption.objects.count()}",
    )


def _fingerprint(shop) -> tuple[Any, ...]:
    rewards = list(Reward.objects.filter(shop=shop).order_by("pk").values())
    return rewards, SettingsChange.objects.filter(shop=shop).count()


# The list -------------------------------------------------------------------------------------


def test_the_list_shows_each_rewards_kind_value_price_status_and_codes_given(client, shop):
    _staff(client, shop, StaffRole.AGENT)
    shipping = _reward(shop)
    _redeemed(shipping)
    _redeemed(shipping, RedemptionStatus.USED)
    # Neither a code being created nor one that failed counts as redeemed.
    _redeemed(shipping, RedemptionStatus.FAILED)
    reward_change(
        shop_id=shop.pk,
        actor=None,
        reward_id=_reward(shop, "10 % off").pk,
        values={"is_active": False},
    )

    response = client.get(REWARDS)

    assert response.status_code == 200
    rows = {
        row.split("</th>")[0].split(">")[-2].split("<")[0]: row
        for row in response.content.decode().split('<th scope="row"')[1:]
    }
    assert "Free shipping" in rows["Free shipping"]
    assert ">300<" in rows["Free shipping"]
    assert ">2</td>" in rows["Free shipping"]
    assert "Offered" in rows["Free shipping"]
    assert "5.00 EUR" in rows["5 EUR off"]
    assert "10 %" in rows["10 % off"]
    assert "Retired" in rows["10 % off"]
    # Agents read: no add, retire or remove.
    page = response.content.decode()
    assert reverse("loyalty_dashboard:reward_add") not in page
    assert "Retire<" not in page
    assert "/offer/" not in page


def test_a_manager_sees_the_actions_and_no_remove_for_a_reward_that_gave_codes(client, shop):
    _staff(client, shop, StaffRole.MANAGER)
    _redeemed(_reward(shop))

    page = client.get(REWARDS).content.decode()

    assert reverse("loyalty_dashboard:reward_add") in page
    assert reverse("loyalty_dashboard:reward_remove", args=[_reward(shop, "10 % off").pk]) in page
    assert reverse("loyalty_dashboard:reward_remove", args=[_reward(shop).pk]) not in page


def test_a_shop_without_a_programme_is_offered_to_start_one(client):
    shop = ShopFactory()
    _staff(client, shop, StaffRole.OWNER)

    assert "Start a programme" in client.get(REWARDS).content.decode()
    assert client.get(reverse("loyalty_dashboard:reward_add")).status_code == 302


# Adding and changing --------------------------------------------------------------------------


def test_a_reward_is_added_and_recorded(client, shop):
    user = _staff(client, shop, StaffRole.MANAGER)

    response = client.post(
        reverse("loyalty_dashboard:reward_add"),
        loyalty_reward_post(shop, name="Half off", kind="percent_off", value="50"),
    )

    assert response.status_code == 302
    reward = Reward.objects.get(shop=shop, name="Half off")
    assert (reward.kind, reward.value, reward.points_price, reward.valid_days) == (
        "percent_off",
        Decimal("50.00"),
        700,
        60,
    )
    assert reward.position == Reward.objects.filter(shop=shop).count() - 1
    change = SettingsChange.objects.get(shop=shop, action="loyalty.reward_added")
    assert change.actor == user
    assert change.subject == "Half off"
    assert change.changes["points_price"] == [None, 700]


@pytest.mark.parametrize(
    ("typed", "field", "says"),
    [
        ({"kind": "percent_off", "value": "150"}, "value", "A percentage between 1 and 100."),
        ({"kind": "amount_off", "value": "0"}, "value", "An amount above 0."),
        ({"kind": "free_product"}, "product", "Choose the product it gives."),
        ({"points_price": "0"}, "points_price", "needs a price above 0"),
        ({"valid_days": "0"}, "valid_days", "at least one day"),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_a_bad_reward_is_refused_next_to_its_field_and_nothing_is_saved(
    client, shop, typed, field, says
):
    _staff(client, shop, StaffRole.OWNER)
    before = _fingerprint(shop)

    response = client.post(
        reverse("loyalty_dashboard:reward_add"), loyalty_reward_post(shop, **typed)
    )

    assert response.status_code == 400
    form = response.context["form"]
    assert any(says in error for error in form.errors[field])
    page = response.content.decode()
    assert f'id="id_{field}"' in page
    assert "field--invalid" in page
    assert _fingerprint(shop) == before


def test_a_change_is_saved_and_recorded_with_before_and_after(client, shop):
    user = _staff(client, shop, StaffRole.OWNER)
    reward = _reward(shop)

    response = client.post(
        reverse("loyalty_dashboard:reward", args=[reward.pk]),
        loyalty_reward_post(shop, reward, points_price="450", valid_days="30"),
    )

    assert response.status_code == 302
    reward.refresh_from_db()
    assert (reward.points_price, reward.valid_days) == (450, 30)
    change = SettingsChange.objects.get(shop=shop, action="loyalty.reward_changed")
    assert change.actor == user
    assert change.changes == {"points_price": [300, 450], "valid_days": [90, 30]}
    # Shown in the settings page's log, in words.
    log = client.get("/dashboard/loyalty/settings/").content.decode()
    assert "Reward changed" in log
    assert "points price: 300 → 450" in log


def test_a_bad_change_saves_nothing_and_keeps_what_was_typed(client, shop):
    _staff(client, shop, StaffRole.OWNER)
    reward = _reward(shop, "10 % off")
    before = _fingerprint(shop)

    response = client.post(
        reverse("loyalty_dashboard:reward", args=[reward.pk]),
        loyalty_reward_post(shop, reward, name="Tenth off", value="101"),
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="Tenth off"' in page
    assert "<h1>10 % off</h1>" in page
    assert _fingerprint(shop) == before


def test_another_shops_product_is_refused_by_the_service(shop):
    other = ShopFactory()
    product = ProductFactory(shop=other)
    with pytest.raises(DomainError):
        reward_change(
            shop_id=shop.pk,
            actor=None,
            reward_id=_reward(shop).pk,
            values={"kind": "free_product", "product": product},
        )
    assert _reward(shop).kind == "free_shipping"


# Retiring, offering again and removing --------------------------------------------------------


def test_a_retired_reward_is_no_longer_offered_and_comes_back_when_offered_again(client, shop):
    user = _staff(client, shop, StaffRole.MANAGER)
    reward = _reward(shop)
    _redeemed(reward)
    url = reverse("loyalty_dashboard:reward_offer", args=[reward.pk])

    assert client.post(url, {"offered": "0"}).status_code == 302
    assert reward not in rewards_available(shop=shop)
    client.post(url, {"offered": "0"})  # a repeated click changes nothing more
    assert client.post(url, {"offered": "1"}).status_code == 302
    assert reward in rewards_available(shop=shop)

    changes = SettingsChange.objects.filter(shop=shop, action="loyalty.reward_changed")
    assert [c.changes for c in changes.order_by("pk")] == [
        {"is_active": [True, False]},
        {"is_active": [False, True]},
    ]
    assert {c.actor for c in changes} == {user}
    assert Redemption.objects.filter(reward=reward).count() == 1


def test_a_reward_with_redemptions_cannot_be_deleted(client, shop):
    _staff(client, shop, StaffRole.OWNER)
    reward = _reward(shop)
    _redeemed(reward, RedemptionStatus.FAILED)
    before = _fingerprint(shop)

    response = client.post(
        reverse("loyalty_dashboard:reward_remove", args=[reward.pk]), follow=True
    )

    assert "was issued to customers, so it stays" in response.content.decode()
    assert _fingerprint(shop) == before


def test_a_reward_that_never_gave_a_code_is_removed_and_recorded(client, shop):
    user = _staff(client, shop, StaffRole.OWNER)
    reward = _reward(shop, "10 % off")

    response = client.post(reverse("loyalty_dashboard:reward_remove", args=[reward.pk]))

    assert response.status_code == 302
    assert not Reward.objects.filter(pk=reward.pk).exists()
    change = SettingsChange.objects.get(shop=shop, action="loyalty.reward_removed")
    assert (change.actor, change.subject) == (user, "10 % off")


# Who may ---------------------------------------------------------------------------------------


def test_an_agent_reads_a_reward_and_cannot_change_it(client, shop):
    agent = _staff(client, shop, StaffRole.AGENT)
    reward = _reward(shop)
    before = _fingerprint(shop)

    page = client.get(reverse("loyalty_dashboard:reward", args=[reward.pk]))
    assert page.status_code == 200
    assert page.context["form"].fields["points_price"].disabled
    assert "Save the reward" not in page.content.decode()

    refused = [
        client.get(reverse("loyalty_dashboard:reward_add")),
        client.post(reverse("loyalty_dashboard:reward_add"), loyalty_reward_post(shop)),
        client.post(
            reverse("loyalty_dashboard:reward", args=[reward.pk]),
            loyalty_reward_post(shop, reward, points_price="1"),
        ),
        client.post(reverse("loyalty_dashboard:reward_offer", args=[reward.pk]), {"offered": "0"}),
        client.post(reverse("loyalty_dashboard:reward_remove", args=[reward.pk])),
    ]
    assert [r.status_code for r in refused] == [403] * 5
    assert _fingerprint(shop) == before
    # The services check the actor themselves.
    with pytest.raises(StaffPermissionDenied):
        reward_change(shop_id=shop.pk, actor=agent, reward_id=reward.pk, values={"points_price": 1})


def test_another_shops_reward_is_not_found(client, shop):
    _staff(client, shop, StaffRole.OWNER)
    other = ShopFactory()
    programme_start(shop_id=other.pk, actor=None)
    theirs = _reward(other)
    before = _fingerprint(other)

    assert client.get(reverse("loyalty_dashboard:reward", args=[theirs.pk])).status_code == 404
    posts = [
        client.post(
            reverse("loyalty_dashboard:reward", args=[theirs.pk]),
            loyalty_reward_post(other, theirs, points_price="1"),
        ),
        client.post(reverse("loyalty_dashboard:reward_offer", args=[theirs.pk]), {"offered": "0"}),
        client.post(reverse("loyalty_dashboard:reward_remove", args=[theirs.pk])),
    ]
    assert [r.status_code for r in posts] == [404] * 3
    assert _fingerprint(other) == before
    with pytest.raises(DomainError):
        reward_change(shop_id=shop.pk, actor=None, reward_id=theirs.pk, values={"points_price": 1})


def test_a_given_only_reward_cannot_be_offered_for_points_without_a_price(client, shop):
    _staff(client, shop, StaffRole.MANAGER)
    welcome = Reward.objects.get(shop=shop, name__startswith="Welcome")
    before = _fingerprint(shop)

    response = client.post(
        reverse("loyalty_dashboard:reward_offer", args=[welcome.pk]), {"offered": "1"}, follow=True
    )

    assert "needs a points price above 0" in response.content.decode()
    assert _fingerprint(shop) == before


def test_a_reward_a_tier_or_the_programme_gives_cannot_be_deleted(client, shop):
    _staff(client, shop, StaffRole.OWNER)
    birthday = Reward.objects.get(shop=shop, name__startswith="Birthday")
    welcome = Reward.objects.get(shop=shop, name__startswith="Welcome")
    before = _fingerprint(shop)

    page = client.get(REWARDS).content.decode()
    assert reverse("loyalty_dashboard:reward_remove", args=[birthday.pk]) not in page
    assert reverse("loyalty_dashboard:reward_remove", args=[welcome.pk]) not in page
    for reward in (birthday, welcome):
        response = client.post(
            reverse("loyalty_dashboard:reward_remove", args=[reward.pk]), follow=True
        )
        assert "choose another one there first" in response.content.decode()

    assert _fingerprint(shop) == before
