"""Loyalty's own messages: declared with their default templates (email and SMS), rendered
from the context the earning and expiry services give them."""

import pytest

from loyalty.messages import POINTS_EARNED, POINTS_EXPIRING
from notifications.services import message_render
from postpurchase.message_kinds import message_kind

pytestmark = pytest.mark.django_db

EARNED = {
    "shop_name": "Northwind",
    "customer_first_name": "Ada",
    "order_number": "#1042",
    "points": 120,
    "is_pending": True,
    "available": 300,
    "pending": 120,
}


def test_loyalty_declares_its_kinds_on_email_and_sms():
    for name in (POINTS_EARNED, POINTS_EXPIRING):
        kind = message_kind(name)
        assert (kind.app, kind.channels, kind.is_periodic) == ("loyalty", ("email", "sms"), True)


def test_the_points_earned_message_says_pending_then_yours(shop):
    pending = message_render(kind=POINTS_EARNED, channel="email", context=EARNED, shop=shop)
    confirmed = message_render(
        kind=POINTS_EARNED, channel="sms", context=EARNED | {"is_pending": False}, shop=shop
    )

    assert pending.subject == "120 points on their way from Northwind"
    assert "once the order's return window has closed" in pending.body_text
    assert "<strong>#1042</strong>" in pending.body_html
    assert "You have 300 points to spend and 120 on their way." in pending.body_text
    assert "the 120 points from order #1042 are yours to spend" in confirmed.body_text


def test_the_expiring_message_names_the_points_and_the_day(shop):
    context = {
        "shop_name": "Northwind",
        "customer_first_name": "",
        "points": 150,
        "available": 420,
        "expires_on": "1 July 2027",
    }
    email = message_render(kind=POINTS_EXPIRING, channel="email", context=context, shop=shop)
    sms = message_render(kind=POINTS_EXPIRING, channel="sms", context=context, shop=shop)

    assert email.subject == "150 of your Northwind points expire on 1 July 2027"
    assert email.body_text.startswith("Hi there,")
    assert "Northwind: 150 of your points expire on 1 July 2027." in sms.body_text
