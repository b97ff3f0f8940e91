"""A shop with a referral programme and a referrer with an order history, for the referral
tests (each file wraps them in its fixtures)."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from loyalty.ledger import member_for
from tests.factories import CustomerFactory, OrderFactory, ShopFactory
from tests.loyalty.factories import LoyaltyProgrammeFactory, RewardFactory


def referral_shop():
    return ShopFactory(timezone="UTC", locale="en-GB")


def referral_programme(shop):
    intro = RewardFactory(shop=shop, name="Welcome 15%", kind="percent_off", value=Decimal("15"))
    return LoyaltyProgrammeFactory(
        shop=shop, referral_friend_reward=intro, referral_points=500, referral_monthly_cap=2
    )


def referrer_with_history(shop):
    customer = CustomerFactory(
        shop=shop,
        email="Anna.Smith@gmail.com",
        phone="+447911123456",
        first_name="Anna",
        last_name="Smith",
    )
    OrderFactory(
        shop=shop,
        customer=customer,
        paid_at=timezone.now() - timedelta(days=40),
        financial_status="paid",
        shipping_name="Anna Smith",
        shipping_address1="12 Main Street",
        shipping_address2="Flat 3",
        shipping_postcode="SW1A 1AA",
        shipping_country="GB",
    )
    return member_for(customer)
