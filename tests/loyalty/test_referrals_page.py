"""The referral link's page: plain HTML that works without JavaScript, in the shop's
language; the friend gives their email, is redirected to their welcome code, and a bad link,
a bad form or a flood of posts is answered as such."""

import re

import pytest
from django.urls import reverse

from loyalty.models import Redemption, Referral, ReferralStatus
from orders.models import Customer
from tests.loyalty.referral_helpers import (
    referral_programme,
    referral_shop,
    referrer_with_history,
)

pytestmark = pytest.mark.django_db

BROWSER = {
    "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux) Firefox/130.0",
    "HTTP_ACCEPT_LANGUAGE": "en",
}


@pytest.fixture
def shop():
    return referral_shop()


@pytest.fixture
def programme(shop):
    return referral_programme(shop)


@pytest.fixture
def referrer(shop, programme):
    return referrer_with_history(shop)


@pytest.fixture(autouse=True)
def fresh_limits():
    from postpurchase.redis import redis_client

    for key in redis_client().scan_iter("pp:ratelimit:loyalty-referral:*"):
        redis_client().delete(key)


def _url(referrer) -> str:
    return reverse("loyalty_referrals:page", args=[referrer.referral_code])


def test_the_page_shows_the_offer_and_a_plain_form(client, referrer):
    response = client.get(_url(referrer).lower())  # a code typed in lower case still opens

    assert response.status_code == 200
    html = response.content.decode()
    assert "Anna invites you to" in html
    assert "15% off your first order" in html
    assert re.search(
        r'<form class="card form" method="post" action="/loyalty/r/[A-Z0-9]{8}/"', html
    )
    assert 'name="email"' in html
    assert 'name="phone"' in html
    assert "<script" not in html
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]


def test_giving_an_email_shows_the_welcome_code(client, shop, referrer):
    response = client.post(_url(referrer), {"email": "ben@example.com", "phone": ""}, **BROWSER)

    assert response.status_code == 303
    welcome = client.get(response["Location"])
    assert welcome.status_code == 200
    referral = Referral.objects.get(referrer=referrer)
    code = Redemption.objects.get(idempotency_key=f"referral_intro:{referral.pk}")
    assert code.customer == Customer.objects.get(shop=shop, email="ben@example.com")
    assert code.code in welcome.content.decode()
    assert referral.status == ReferralStatus.INVITED
    assert len(referral.device_fingerprint) == 64
    # The device is kept only as a hash: nothing of the browser or address is stored as sent.
    assert "Firefox" not in referral.device_fingerprint
    assert "127.0.0" not in referral.device_fingerprint

    again = client.post(_url(referrer), {"email": "BEN@example.com"}, **BROWSER)
    assert client.get(again["Location"]).content.decode().count(code.code) == 1
    assert Referral.objects.count() == 1


def test_a_self_referral_gets_no_code_and_says_why_in_general_terms(client, referrer):
    response = client.post(_url(referrer), {"email": "annasmith+1@gmail.com"}, follow=True)

    html = response.content.decode()
    assert "This welcome is for new customers" in html
    assert not Redemption.objects.exists()
    assert Referral.objects.get().status == ReferralStatus.REFUSED


def test_a_bad_email_or_phone_is_answered_next_to_the_field(client, referrer):
    response = client.post(_url(referrer), {"email": "not-an-email", "phone": "12"})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="email-error"' in html
    assert 'id="phone-error"' in html
    assert 'value="not-an-email"' in html
    assert not Referral.objects.exists()


def test_an_unknown_code_or_a_tampered_welcome_is_a_friendly_404(client, referrer):
    assert client.get(reverse("loyalty_referrals:page", args=["NOSUCHCD"])).status_code == 404
    tampered = reverse("loyalty_referrals:welcome", args=[referrer.referral_code, "1:abc:def"])
    response = client.get(tampered)
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()


def test_a_shop_whose_programme_ended_opens_no_link(client, referrer, programme):
    programme.is_active = False
    programme.save()

    assert client.get(_url(referrer)).status_code == 404


def test_the_page_speaks_the_shops_language(client, shop, referrer):
    shop.locale = "de"
    shop.save()

    html = client.get(_url(referrer)).content.decode()

    assert '<html lang="de">' in html


def test_a_flood_of_sign_ups_from_one_address_is_held_back(client, referrer):
    for n in range(10):
        client.post(_url(referrer), {"email": f"friend{n}@example.com"})

    response = client.post(_url(referrer), {"email": "one.more@example.com"})

    assert response.status_code == 429
    assert "Retry-After" in response
    assert Referral.objects.count() == 10


@pytest.mark.parametrize(
    ("kind", "value", "words"),
    [
        ("percent_off", "100.00", "100% off your first order"),
        ("percent_off", "12.50", "12.5% off your first order"),
        ("amount_off", "5.00", "5.00 EUR off your first order"),
        ("free_shipping", "0", "Free shipping on your first order"),
    ],
)
def test_the_offer_reads_as_people_write_it(kind, value, words):
    from decimal import Decimal

    from loyalty.models import Reward
    from loyalty.referrals.views import offer_words

    assert offer_words(Reward(name="Intro", kind=kind, value=Decimal(value)), "EUR") == words
