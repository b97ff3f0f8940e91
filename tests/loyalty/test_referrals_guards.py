"""Referral fraud guards: no self-referral (the same customer, email once normalised, phone,
shipping address or name), at most N rewarded referrals a month, and a flag for staff when one
device or address is behind several referrals. Each refusal keeps its reason in words."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from loyalty.models import Redemption, Referral, ReferralStatus
from loyalty.referrals.matching import address_normalised, email_normalised
from loyalty.referrals.services import (
    referral_friend_ordered,
    referral_invite,
    referral_on_order_confirmed,
    referral_review_clear,
)
from tests.factories import CustomerFactory, OrderFactory, UserFactory
from tests.loyalty.referral_helpers import (
    referral_programme,
    referral_shop,
    referrer_with_history,
)

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


def test_emails_are_compared_without_case_tags_or_gmail_dots():
    assert email_normalised(" Anna.Smith+promo@GoogleMail.com ") == "annasmith@gmail.com"
    assert email_normalised("anna.smith+x@example.com") == "anna.smith@example.com"


def test_addresses_are_compared_in_one_spelling():
    assert address_normalised(
        address1="12 Main Street", address2="Flat 3", postcode="SW1A 1AA", country="GB"
    ) == address_normalised(
        address1="12, main st.", address2="apt 3", postcode="sw1a1aa", country="gb"
    )
    assert address_normalised(address1="Hauptstraße 5", postcode="10115") == address_normalised(
        address1="Hauptstr. 5", postcode="10115"
    )


@pytest.mark.parametrize(
    ("email", "phone", "reason"),
    [
        ("anna.smith@gmail.com", "", "the friend is the referrer's own customer record"),
        ("a.n.n.a.smith+friend@gmail.com", "", "the friend's email is the referrer's"),
        ("someone.new@example.com", "07911 123456", "the friend's phone number is the referrer's"),
    ],
)
def test_a_self_referral_is_refused_with_its_reason(referrer, email, phone, reason):
    invitation = referral_invite(member_id=referrer.pk, email=email, phone=phone)

    referral = invitation.referral
    assert referral.status == ReferralStatus.REFUSED
    assert reason in referral.reason
    assert invitation.redemption is None
    assert not Redemption.objects.filter(source="referral").exists()


def test_someone_who_has_ordered_before_is_not_a_new_customer(shop, referrer):
    known = CustomerFactory(shop=shop, email="ben@example.com")
    OrderFactory(shop=shop, customer=known)

    referral = referral_invite(member_id=referrer.pk, email="BEN@example.com").referral

    assert referral.status == ReferralStatus.REFUSED
    assert "has ordered from the shop before" in referral.reason


def test_the_referral_page_never_changes_a_known_customers_profile(shop, referrer):
    # Anyone may type anyone's phone: the referrer's phone given with a new email makes a new
    # customer without it, and the referrer's record keeps its email.
    referral_invite(member_id=referrer.pk, email="new.person@example.com", phone="+447911123456")

    referrer.customer.refresh_from_db()
    assert referrer.customer.email == "Anna.Smith@gmail.com"


def _friend_order(shop, referral, **fields):
    values = {
        "shop": shop,
        "customer": referral.friend,
        "email": referral.friend.email,
        "placed_at": timezone.now(),
        "paid_at": timezone.now(),
        "financial_status": "paid",
        "shipping_name": "Ben Jones",
        "shipping_address1": "7 Elm Road",
        "shipping_postcode": "M1 1AE",
        "shipping_country": "GB",
    }
    return OrderFactory(**(values | fields))


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            {
                "shipping_address1": "12, Main St.",
                "shipping_address2": "apt 3",
                "shipping_postcode": "sw1a1aa",
            },
            "ships to the referrer's address",
        ),
        ({"shipping_name": "SMITH, Anna"}, "is in the referrer's name"),
        ({"email": "annasmith+2@gmail.com"}, "placed with the referrer's email"),
        ({"phone": "+447911123456"}, "gives the referrer's phone number"),
    ],
)
def test_a_first_order_matching_the_referrer_is_refused_with_its_reason(
    shop, referrer, fields, reason
):
    referral = referral_invite(member_id=referrer.pk, email="ben@example.com").referral
    assert referral.status == ReferralStatus.INVITED
    order = _friend_order(shop, referral, **fields)

    referral = referral_friend_ordered(order_id=order.pk)

    assert referral.status == ReferralStatus.REFUSED
    assert reason in referral.reason
    assert order.number in referral.reason


def test_a_genuine_friends_first_order_waits_for_confirmation(shop, referrer):
    referral = referral_invite(member_id=referrer.pk, email="ben@example.com").referral
    order = _friend_order(shop, referral)

    referral = referral_friend_ordered(order_id=order.pk)

    assert referral.status == ReferralStatus.ORDERED
    assert referral.friend_order == order
    assert referral.reason == ""
    # A later order is not a first order.
    second = _friend_order(shop, referral)
    assert referral_friend_ordered(order_id=second.pk) is None


def test_the_second_referral_from_one_device_is_flagged_and_so_is_the_first(shop, referrer):
    first = referral_invite(member_id=referrer.pk, email="ben@example.com", device="d" * 64)
    other = referral_invite(member_id=referrer.pk, email="cleo@example.com", device="e" * 64)
    second = referral_invite(member_id=referrer.pk, email="dan@example.com", device="d" * 64)

    first.referral.refresh_from_db()
    assert second.referral.status == ReferralStatus.FLAGGED
    assert second.referral.reason == "Flagged: the same device is behind 2 referrals."
    assert first.referral.status == ReferralStatus.FLAGGED
    assert other.referral.status == ReferralStatus.INVITED
    # The friend still gets their welcome: what is held is the referrer's reward.
    assert second.redemption is not None


def test_one_address_behind_several_referrals_is_flagged(shop, referrer):
    ben = referral_invite(member_id=referrer.pk, email="ben@example.com").referral
    dan = referral_invite(member_id=referrer.pk, email="dan@example.com").referral
    referral_friend_ordered(order_id=_friend_order(shop, ben).pk)

    dan = referral_friend_ordered(
        order_id=_friend_order(
            shop, dan, shipping_address1="7 elm rd", shipping_name="Dan Brown"
        ).pk
    )

    ben.refresh_from_db()
    assert dan.status == ReferralStatus.FLAGGED
    assert "the same shipping address is behind 2 referrals" in dan.reason
    assert ben.status == ReferralStatus.FLAGGED
    # Not rewarded while flagged; once staff clear it, it is.
    assert referral_on_order_confirmed(ben.friend_order_id) is None
    referral_review_clear(referral_id=ben.pk, actor=UserFactory(username="sam"))
    ben.refresh_from_db()
    assert ben.status == ReferralStatus.ORDERED
    assert ben.reason.startswith("Cleared by sam (was: Flagged")
    assert referral_on_order_confirmed(ben.friend_order_id).status == ReferralStatus.REWARDED


def test_at_most_the_monthly_cap_of_referrals_is_rewarded(shop, referrer, programme):
    orders = []
    for name in ("ben", "cleo", "dan"):
        referral = referral_invite(member_id=referrer.pk, email=f"{name}@example.com").referral
        order = _friend_order(
            shop, referral, shipping_address1=f"{len(name)}{name} Lane", shipping_name=name.title()
        )
        referral_friend_ordered(order_id=order.pk)
        orders.append(order)

    results = [referral_on_order_confirmed(order.pk) for order in orders]

    assert [r.status for r in results] == [
        ReferralStatus.REWARDED,
        ReferralStatus.REWARDED,
        ReferralStatus.REFUSED,
    ]
    assert results[2].reason == (
        "Monthly cap: the referrer already had 2 referrals rewarded this month (at most 2)."
    )
    referrer.refresh_from_db()
    assert referrer.available == 2 * programme.referral_points
    assert Referral.objects.filter(referrer=referrer, status="rewarded").count() == 2


def test_last_months_rewards_do_not_count_against_this_months_cap(shop, referrer):
    referral = referral_invite(member_id=referrer.pk, email="ben@example.com").referral
    Referral.objects.filter(referrer=referrer).update(
        status=ReferralStatus.REWARDED, rewarded_at=timezone.now() - timedelta(days=40)
    )
    CustomerFactory(shop=shop)  # another friend, invited afresh
    again = referral_invite(member_id=referrer.pk, email="cleo@example.com").referral
    again2 = referral_invite(member_id=referrer.pk, email="dan@example.com").referral
    for friend_referral, street in ((again, "1 Oak Lane"), (again2, "2 Ash Lane")):
        order = _friend_order(shop, friend_referral, shipping_address1=street, shipping_name=street)
        referral_friend_ordered(order_id=order.pk)
        assert referral_on_order_confirmed(order.pk).status == ReferralStatus.REWARDED
    assert referral.pk != again.pk
    assert Decimal(referrer.__class__.objects.get(pk=referrer.pk).available) == 1000
