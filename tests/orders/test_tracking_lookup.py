"""The order lookup at /track/: the right pair leads to the tracking page, every wrong one gets
the very same answer, and guessing is rate-limited per address and per order number."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import OrderStatus
from orders.tracking.lookup import (
    LOOKUP_LIMIT_PER_ADDRESS,
    LOOKUP_LIMIT_PER_NUMBER,
    client_address,
    tracking_lookup_order_find,
)
from orders.tracking.ratelimit import RateLimit
from postpurchase.redis import redis_client
from tests.factories import OrderFactory, ShopFactory

pytestmark = pytest.mark.django_db

LOOKUP = "/track/"
NOT_FOUND = (
    "We could not find an order with those details. Check the order number and use the email "
    "address or postcode from your order."
)
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.fixture(autouse=True)
def fresh_limits():
    """Each test starts with no attempts counted (each xdist worker has its own Redis db)."""
    redis_client().flushdb()
    yield
    redis_client().flushdb()


@pytest.fixture
def order(shop):
    return OrderFactory(
        shop=shop, number="#7001", email="Ada.Lovelace@Example.com", shipping_postcode="SW1A 1AA"
    )


def look_up(client, number, contact, ip="192.0.2.10", **extra):
    return client.post(LOOKUP, {"number": number, "contact": contact}, REMOTE_ADDR=ip, **extra)


def body(response) -> str:
    """The page without its per-response CSRF token."""
    return _CSRF.sub('name="csrfmiddlewaretoken" value=""', response.content.decode())


def test_the_form_asks_for_number_and_email_or_postcode_with_labelled_fields(client):
    response = client.get(LOOKUP)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Order tracking" in html  # the generic header: no shop known yet
    assert '<label for="id_number">Order number</label>' in html
    assert '<label for="id_contact">Email or postcode of the shipping address</label>' in html
    assert 'id="id_number"' in html
    assert 'id="id_contact"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'method="post"' in html
    assert "<script" not in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_the_form_refuses_a_post_without_its_csrf_token(order):
    client = Client(enforce_csrf_checks=True)

    response = look_up(client, "#7001", "ada.lovelace@example.com")

    assert response.status_code == 403


def test_the_form_page_lets_the_browser_send_its_origin_with_the_post(client):
    """Under a no-referrer policy browsers send `Origin: null` with a form POST, and Django's
    CSRF check refuses it: the lookup would fail in every real browser."""
    response = client.get(LOOKUP)

    assert response["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in response.content.decode()


@pytest.mark.parametrize(
    ("number", "email"),
    [
        ("#7001", "Ada.Lovelace@Example.com"),
        ("7001", "ada.lovelace@example.com"),
        ("  #7001 ", " ADA.LOVELACE@EXAMPLE.COM "),
    ],
)
def test_the_right_number_and_email_lead_to_the_tracking_page(client, order, number, email):
    response = look_up(client, number, email)

    assert response.status_code == 303
    assert response["Location"] == f"/track/{order.tracking_token}/"
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"


@pytest.mark.parametrize("postcode", ["SW1A 1AA", "sw1a1aa", "  Sw1A   1aA  "])
def test_the_right_number_and_postcode_lead_to_the_tracking_page(client, order, postcode):
    response = look_up(client, "7001", postcode)

    assert response.status_code == 303
    assert response["Location"] == f"/track/{order.tracking_token}/"


def test_a_number_stored_without_hash_and_with_letters_is_found_in_any_case(client, shop):
    order = OrderFactory(shop=shop, number="WEB-88", email="b@example.com")

    response = look_up(client, "#web-88", "B@example.com")

    assert response["Location"] == f"/track/{order.tracking_token}/"


def test_a_cancelled_order_is_still_found(client, shop):
    order = OrderFactory(
        shop=shop, number="#7002", email="c@example.com", status=OrderStatus.CANCELLED
    )

    response = look_up(client, "#7002", "c@example.com")

    assert response["Location"] == f"/track/{order.tracking_token}/"


def test_when_two_shops_share_number_and_email_the_latest_placed_order_is_found(client):
    now = timezone.now()
    OrderFactory(number="#7003", email="d@example.com", placed_at=now - timedelta(days=30))
    latest = OrderFactory(number="#7003", email="d@example.com", placed_at=now - timedelta(days=2))

    response = look_up(client, "#7003", "d@example.com")

    assert response["Location"] == f"/track/{latest.tracking_token}/"


def test_every_wrong_pair_gets_the_same_status_and_body(client, order, other_shop):
    other = OrderFactory(shop=other_shop, number="#8001", email="someone@else.example")
    OrderFactory(shop=order.shop, number="#7004", email="", shipping_postcode="")  # digital order
    closed_shop = ShopFactory(is_active=False)
    OrderFactory(shop=closed_shop, number="#7005", email="e@example.com")
    wrong_pairs = [
        ("#7001", "someone@else.example"),  # wrong email
        ("#7001", "EC1A 1BB"),  # wrong postcode
        ("#999999", "ada.lovelace@example.com"),  # unknown number
        (other.number, order.email),  # another shop's number with this order's email
        ("", ""),  # empty fields
        ("#7001", "   "),  # only spaces for the contact
        ("#7004", ""),  # an order with no email and no postcode is not matched by nothing
        ("#7005", "e@example.com"),  # an inactive shop's order
        ("#7001" * 20, "ada.lovelace@example.com"),  # longer than any order number
    ]

    responses = [
        look_up(client, number, contact, ip=f"198.51.100.{i}")
        for i, (number, contact) in enumerate(wrong_pairs)
    ]

    assert {r.status_code for r in responses} == {200}
    assert len({body(r) for r in responses}) == 1
    assert NOT_FOUND in responses[0].content.decode()
    assert all("no-store" in r["Cache-Control"] for r in responses)
    # nothing typed is echoed back, so nothing tells one failure from another
    assert "7001" not in responses[0].content.decode()


def test_blank_input_never_matches_an_order_without_email_or_postcode(shop):
    OrderFactory(shop=shop, number="#7004", email="", shipping_postcode="")

    assert tracking_lookup_order_find(number="#7004", contact="") is None
    assert tracking_lookup_order_find(number="#7004", contact="   ") is None
    assert tracking_lookup_order_find(number="", contact="") is None


def test_after_ten_failures_from_one_address_even_the_right_pair_is_refused(client, order):
    for attempt in range(LOOKUP_LIMIT_PER_ADDRESS.limit):
        assert look_up(client, f"#{9000 + attempt}", "x@example.com").status_code == 200

    response = look_up(client, "#7001", "ada.lovelace@example.com")

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 600
    assert "Too many attempts. For your security you can try again in 10 minutes." in (
        re.sub(r"\s+", " ", response.content.decode())
    )
    assert "no-store" in response["Cache-Control"]
    assert look_up(client, "#7001", "ada.lovelace@example.com", ip="192.0.2.99").status_code == 303


def test_a_forwarded_for_header_does_not_escape_the_address_limit(client, order):
    for attempt in range(LOOKUP_LIMIT_PER_ADDRESS.limit):
        look_up(
            client, f"#{9000 + attempt}", "x@example.com", HTTP_X_FORWARDED_FOR=f"10.0.0.{attempt}"
        )

    response = look_up(client, "#7001", "ada.lovelace@example.com", HTTP_X_FORWARDED_FOR="10.9.9.9")

    assert response.status_code == 429


def test_a_successful_lookup_does_not_use_up_the_address_limit(client, shop):
    orders = [OrderFactory(shop=shop, email="f@example.com") for _ in range(3)]
    for attempt in range(LOOKUP_LIMIT_PER_ADDRESS.limit - 1):
        look_up(client, f"#{9000 + attempt}", "x@example.com")

    answers = [look_up(client, o.number, "f@example.com").status_code for o in orders]

    assert answers == [303, 303, 303]
    assert look_up(client, "#9999", "x@example.com").status_code == 200
    assert look_up(client, "#9998", "x@example.com").status_code == 429


def test_an_order_number_is_limited_across_addresses(client, order):
    for attempt in range(LOOKUP_LIMIT_PER_NUMBER.limit):
        look_up(client, "#7001", f"guess{attempt}@example.com", ip=f"203.0.113.{attempt}")

    response = look_up(client, "7001", "ada.lovelace@example.com", ip="203.0.113.200")

    assert response.status_code == 429
    assert 3500 < int(response["Retry-After"]) <= 3600
    assert "try again in 60 minutes" in re.sub(r"\s+", " ", response.content.decode())
    assert look_up(client, "#7006", "x@example.com", ip="203.0.113.201").status_code == 200


def test_the_number_limit_looks_the_same_for_an_unknown_number(client, order):
    limited = {}
    for number in ("#7001", "#424242"):
        for attempt in range(LOOKUP_LIMIT_PER_NUMBER.limit):
            look_up(client, number, "nobody@example.com", ip=f"203.0.113.{attempt}")
        limited[number] = look_up(client, number, "nobody@example.com", ip="203.0.113.99")

    assert {r.status_code for r in limited.values()} == {429}
    assert body(limited["#7001"]) == body(limited["#424242"])


def test_a_limited_lookup_reads_no_order(client, order):
    for attempt in range(LOOKUP_LIMIT_PER_ADDRESS.limit):
        look_up(client, f"#{9000 + attempt}", "x@example.com")

    with CaptureQueriesContext(connection) as queries:
        response = look_up(client, "#7001", "ada.lovelace@example.com")

    assert response.status_code == 429
    assert not [q for q in queries.captured_queries if "orders_order" in q["sql"]]
    assert len(queries) == 0


def test_a_failed_lookup_runs_the_same_single_query_as_a_successful_one(client, order):
    with CaptureQueriesContext(connection) as found:
        look_up(client, "#7001", "ada.lovelace@example.com")
    with CaptureQueriesContext(connection) as empty:
        look_up(client, "", "", ip="192.0.2.11")

    assert len(found) == len(empty) == 1


def test_the_page_speaks_the_visitors_language(client):
    response = client.get(LOOKUP, HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")

    assert '<html lang="de">' in response.content.decode()
    assert response["Content-Language"] == "de"


def test_client_address_counts_an_ipv6_slash_64_as_one_client(rf):
    first = rf.get("/", REMOTE_ADDR="2001:db8:1:2::1")
    second = rf.get("/", REMOTE_ADDR="2001:db8:1:2:ffff::9")
    elsewhere = rf.get("/", REMOTE_ADDR="2001:db8:1:3::1")

    assert client_address(first) == client_address(second) == "2001:db8:1:2::/64"
    assert client_address(elsewhere) != client_address(first)


def test_a_rate_limit_allows_its_limit_per_window_and_says_when_to_retry():
    limit = RateLimit("test-limit", limit=2, window=120)

    verdicts = [limit.hit("key") for _ in range(3)]
    other_key = limit.hit("other")

    assert [v.allowed for v in verdicts] == [True, True, False]
    assert 110 < verdicts[-1].retry_after <= 120
    assert verdicts[-1].retry_after_minutes == 2
    assert other_key.allowed


def test_a_refunded_hit_can_be_used_again():
    limit = RateLimit("test-refund", limit=1, window=60)

    first = limit.hit("key")
    limit.refund("key")
    second = limit.hit("key")
    third = limit.hit("key")

    assert (first.allowed, second.allowed, third.allowed) == (True, True, False)
