"""Ops' view of rewards (editable under the catalogue's rules) and of redemptions (read-only,
found by their code)."""

import pytest
from django.urls import reverse

from loyalty.ledger import Booking, entry_book, member_for
from loyalty.models import EntryKind, Reward, Subject
from loyalty.rewards.redemption import reward_redeem
from tests.factories import CustomerFactory
from tests.loyalty.factories import RewardFactory

pytestmark = pytest.mark.django_db


def test_redemptions_are_found_by_code_and_cannot_be_edited(admin_client, shop):
    member = member_for(CustomerFactory(shop=shop))
    entry_book(member.pk, Booking(EntryKind.ADJUST, "fund", Subject.STAFF, available=2000))
    reward = RewardFactory(shop=shop)
    wanted = reward_redeem(member=member, reward=reward, key="a")
    reward_redeem(member=member, reward=reward, key="b")
    url = reverse("admin:loyalty_redemption_changelist")

    response = admin_client.get(url, {"q": wanted.code, "status": "issued"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [wanted]
    change = reverse("admin:loyalty_redemption_change", args=[wanted.pk])
    assert admin_client.post(change, {"status": "used"}).status_code == 403
    assert admin_client.get(reverse("admin:loyalty_redemption_add")).status_code == 403


def test_a_reward_breaking_the_rules_is_refused_in_admin(admin_client, shop):
    form = {
        "shop": shop.pk,
        "name": "Too much",
        "kind": "percent_off",
        "value": "150",
        "points_price": "500",
        "valid_days": "30",
        "is_active": "on",
        "position": "0",
    }
    url = reverse("admin:loyalty_reward_add")

    refused = admin_client.post(url, form)
    accepted = admin_client.post(url, form | {"value": "15"})

    assert refused.status_code == 200
    assert "A percentage off is more than 0 and at most 100." in refused.content.decode()
    assert accepted.status_code == 302
    assert Reward.objects.get().value == 15
