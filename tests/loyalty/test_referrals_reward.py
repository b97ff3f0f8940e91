"""The referrer's points: once, when the friend's first order is past its return window, and
never for an order cancelled or refunded; the referral-rewarded message goes with them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty.models import EntryKind, LedgerEntry, ReferralStatus, Subject
from loyalty.referrals.services import (
    referral_friend_order_cancelled,
    referral_friend_ordered,
    referral_invite,
    referral_on_order_confirmed,
    referrals_confirm_due,
)
from notifications.models import Message
from orders.models import Order
from orders.services import order_cancel
from tests.factories import OrderFactory
from tests.loyalty.referral_helpers import (
    referral_programme,
    referral_shop,
    referrer_with_history,
)
from tests.loyalty.tiers_helpers import deliver_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return referral_shop()


@pytest.fixture
def programme(shop):
    return referral_programme(shop)


@pytest.fixture
def referrer(shop, programme):
    return referrer_with_history(shop)


@pytest.fixture
def referral(referrer):
    return referral_invite(member_id=referrer.pk, email="ben@example.com").referral


def _first_order(shop, referral, **fields) -> Order:
    now = timezone.now()
    values = {
        "shop": shop,
        "customer": referral.friend,
        "email": "ben@example.com",
        "placed_at": now,
        "paid_at": now,
        "financial_status": "paid",
        "shipping_name": "Ben Jones",
        "shipping_address1": "7 Elm Road",
        "shipping_postcode": "M1 1AE",
    }
    order = OrderFactory(**(values | fields))
    referral_friend_ordered(order_id=order.pk)
    return order


def _referral_entries(referrer):
    return LedgerEntry.objects.filter(member=referrer, subject=Subject.REFERRAL)


def test_the_referrer_is_rewarded_once_when_the_first_order_is_confirmed(
    shop, referrer, referral, programme
):
    order = _first_order(shop, referral)

    first = referral_on_order_confirmed(order.pk)
    again = referral_on_order_confirmed(order.pk)

    assert first.status == ReferralStatus.REWARDED
    assert again is None  # nothing left to confirm
    entry = _referral_entries(referrer).get()
    assert (entry.kind, entry.available_delta, entry.idempotency_key) == (
        EntryKind.EARN,
        500,
        f"referral:{referral.pk}",
    )
    referrer.refresh_from_db()
    assert referrer.available == 500
    message = Message.objects.get(customer=referrer.customer, kind="loyalty_referral_rewarded")
    assert (message.context["points"], message.context["balance"]) == (500, 500)
    assert message.recipient == "Anna.Smith@gmail.com"


def test_a_cancelled_first_order_earns_nothing_and_the_next_order_counts(shop, referrer, referral):
    order = _first_order(shop, referral)
    order_cancel(order=order, reason="changed mind")
    referral_friend_order_cancelled(order_id=order.pk)

    referral.refresh_from_db()
    assert referral.status == ReferralStatus.INVITED
    assert referral.friend_order is None
    assert "was cancelled or refunded" in referral.reason
    assert referral_on_order_confirmed(order.pk) is None
    assert not _referral_entries(referrer).exists()

    second = _first_order(shop, referral)
    assert referral_on_order_confirmed(second.pk).status == ReferralStatus.REWARDED


def test_an_order_cancelled_after_it_counted_is_not_rewarded_at_confirmation(
    shop, referrer, referral
):
    order = _first_order(shop, referral)
    Order.objects.filter(pk=order.pk).update(status="cancelled")

    assert referral_on_order_confirmed(order.pk) is None

    referral.refresh_from_db()
    assert referral.status == ReferralStatus.INVITED
    assert not _referral_entries(referrer).exists()


def test_the_sweep_rewards_only_orders_delivered_and_past_their_return_window(
    shop, referrer, referral
):
    order = _first_order(shop, referral)
    now = timezone.now()
    delivered = {
        "status": "delivered",
        "delivered_at": now - timedelta(days=shop.return_window_days - 1),
    }
    Order.objects.filter(pk=order.pk).update(**delivered)

    assert referrals_confirm_due(now=now) == 0
    assert referrals_confirm_due(now=now + timedelta(days=2)) == 1
    assert referrals_confirm_due(now=now + timedelta(days=3)) == 0

    referral.refresh_from_db()
    assert referral.status == ReferralStatus.REWARDED
    assert _referral_entries(referrer).count() == 1


def test_a_paid_order_event_records_the_friends_first_order(
    shop, referrer, referral, django_capture_on_commit_callbacks
):
    from tests.loyalty.tiers_helpers import ingest, order_data

    friend = referral.friend
    friend.external_id = "555"
    friend.save()
    ingest(shop, order_data(friend, "F1", "40.00", name="Ben Jones"))
    deliver_events(django_capture_on_commit_callbacks)

    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ORDERED
    assert referral.friend_order.external_id == "F1"
