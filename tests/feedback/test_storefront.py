"""What storefronts show: the JSON endpoint (aggregate, JSON-LD, ETag/304, CORS for the shop's
own origin only, cache renewed when a review changes) and the widget (small, framed by the
shop's own site only, with the same JSON-LD)."""

import json
import re

import pytest
from django.contrib.staticfiles import finders

from feedback.models import IncentiveKind
from feedback.reviews.services import (
    review_incentive_save,
    review_publish,
    review_reply_save,
)
from feedback.reviews.storefront import WIDGET_PAGE_SIZE
from tests.factories import ProductFactory, StaffMembershipFactory
from tests.feedback.helpers import add_line, delivered_order, review

pytestmark = pytest.mark.django_db

HELD_TEXT = "Email me at someone@example.org and I will tell you more about it."


@pytest.fixture(autouse=True)
def fresh_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def shop_site(shop):
    shop.website_url = "https://www.acme-goods.example/"
    shop.save(update_fields=["website_url"])
    return shop


@pytest.fixture
def product(shop_site):
    return ProductFactory(
        shop=shop_site, title="Canvas Tote", url="https://www.acme-goods.example/p/tote"
    )


def _reviewed(shop, product, rating, **fields):
    order = delivered_order(shop, products=0)
    return review(order, line=add_line(order, product=product), rating=rating, **fields)


def _json_url(shop, product, page=1) -> str:
    return f"/feedback/api/{shop.slug}/{product.external_id}/reviews.json?page={page}"


def _widget_url(shop, product) -> str:
    return f"/feedback/widget/{shop.slug}/{product.external_id}/"


def test_the_json_has_published_reviews_aggregate_and_matching_jsonld(client, shop_site, product):
    for rating in (5, 4, 4, 1):
        _reviewed(shop_site, product, rating)
    _reviewed(shop_site, product, 5, body=HELD_TEXT)  # held: not counted

    data = client.get(_json_url(shop_site, product)).json()

    assert data["count"] == 4
    assert data["average"] == "3.5"
    assert data["distribution"] == {"1": 1, "2": 0, "3": 0, "4": 2, "5": 1}
    assert len(data["reviews"]) == 4
    jsonld = data["jsonld"]
    assert jsonld["@type"] == "Product"
    assert jsonld["aggregateRating"]["ratingValue"] == "3.5"
    assert jsonld["aggregateRating"]["reviewCount"] == 4
    assert {r["@type"] for r in jsonld["review"]} == {"Review"}


def test_identifiers_are_public_ones(client, shop_site, product):
    _reviewed(shop_site, product, 5)

    assert (
        client.get(f"/feedback/api/{shop_site.slug}/{product.pk}/reviews.json").status_code == 404
    )
    data = client.get(_json_url(shop_site, product)).json()
    assert data["product"]["id"] == product.external_id
    assert "pk" not in json.dumps(data)


def test_etag_answers_304_and_a_change_renews_it(
    client, shop_site, product, django_capture_on_commit_callbacks
):
    written = _reviewed(shop_site, product, 5)
    first = client.get(_json_url(shop_site, product))
    etag = first["ETag"]

    again = client.get(_json_url(shop_site, product), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert "max-age=60" in first["Cache-Control"]
    assert "public" in first["Cache-Control"]

    manager = StaffMembershipFactory(shop=shop_site).user
    with django_capture_on_commit_callbacks(execute=True):
        review_reply_save(review=written, actor=manager, body="Thanks for your kind words!")

    changed = client.get(_json_url(shop_site, product), HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["reviews"][0]["reply"]["body"] == "Thanks for your kind words!"


def test_cors_only_for_the_shops_own_origin(client, shop_site, product):
    _reviewed(shop_site, product, 5)
    url = _json_url(shop_site, product)

    own = client.get(url, HTTP_ORIGIN="https://www.acme-goods.example")
    platform = client.get(url, HTTP_ORIGIN=f"https://{shop_site.domain}")
    other = client.get(url, HTTP_ORIGIN="https://evil.example")
    none = client.get(url)

    assert own["Access-Control-Allow-Origin"] == "https://www.acme-goods.example"
    assert platform["Access-Control-Allow-Origin"] == f"https://{shop_site.domain}"
    assert "Access-Control-Allow-Origin" not in other
    assert "Access-Control-Allow-Origin" not in none
    assert "Origin" in own["Vary"]


def test_incentivised_reviews_and_replies_are_shown_as_such(client, shop_site, product):
    manager = StaffMembershipFactory(shop=shop_site).user
    review_incentive_save(
        shop=shop_site, actor=manager, kind=IncentiveKind.DISCOUNT, discount_text="10% off"
    )
    written = _reviewed(shop_site, product, 2)
    review_reply_save(review=written, actor=manager, body="Sorry to hear that, we will call you.")

    data = client.get(_json_url(shop_site, product)).json()["reviews"][0]
    html = client.get(_widget_url(shop_site, product)).content.decode()

    assert data["incentivized"] is True
    assert "discount" in data["incentive"]
    assert "Incentivized review" in html
    assert "Sorry to hear that, we will call you." in html
    assert f"Reply from {shop_site.name}" in html


@pytest.mark.parametrize("url", [_json_url, _widget_url])
def test_an_unchanged_answer_is_served_from_the_cache_without_a_query(
    client, shop_site, product, django_assert_num_queries, url
):
    _reviewed(shop_site, product, 5)
    first = client.get(url(shop_site, product), HTTP_ORIGIN="https://www.acme-goods.example")

    with django_assert_num_queries(0):
        again = client.get(url(shop_site, product), HTTP_ORIGIN="https://www.acme-goods.example")
        unchanged = client.get(url(shop_site, product), HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 200
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert again["Cache-Control"] == first["Cache-Control"]
    assert again["Content-Security-Policy"] == first["Content-Security-Policy"]
    assert again.get("Access-Control-Allow-Origin") == first.get("Access-Control-Allow-Origin")
    assert unchanged.status_code == 304


def test_what_an_address_names_is_kept_a_minute_at_most(client, shop_site, product):
    from feedback.reviews.cache import ADDRESS_TTL_SECONDS
    from postpurchase.redis import redis_client

    _reviewed(shop_site, product, 5)
    client.get(_json_url(shop_site, product))

    key = f"pp:feedback:storefront:addr:{shop_site.slug}:{product.external_id}"
    # A shop that changes its site or leaves is served as before for this long at most, no
    # longer than the JSON's own max-age lets a browser keep it.
    assert 0 < redis_client().ttl(key) <= ADDRESS_TTL_SECONDS <= 60


def test_an_unknown_product_is_not_found_and_nothing_is_stored(client, shop_site):
    from postpurchase.redis import redis_client

    response = client.get(f"/feedback/api/{shop_site.slug}/no-such-product/reviews.json")

    assert response.status_code == 404
    assert not list(redis_client().scan_iter(match="pp:feedback:storefront:*"))


def test_the_widget_carries_jsonld_with_the_aggregate(client, shop_site, product):
    for rating in (5, 3):
        _reviewed(shop_site, product, rating)

    html = client.get(_widget_url(shop_site, product)).content.decode()

    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    data = json.loads(block)
    assert data["aggregateRating"]["ratingValue"] == "4.0"
    assert data["aggregateRating"]["reviewCount"] == 2


def test_text_a_reviewer_wrote_cannot_close_the_jsonld_block(client, shop_site, product):
    manager = StaffMembershipFactory(shop=shop_site).user
    written = _reviewed(shop_site, product, 4, title="</script><script>alert(1)</script>")
    if not written.is_published:
        review_publish(review=written, actor=manager)

    html = client.get(_widget_url(shop_site, product)).content.decode()

    assert "<script>alert(1)" not in html


def _stylesheet_bytes() -> int:
    with open(finders.find("css/review-widget.css"), "rb") as sheet:
        return len(sheet.read())


def test_the_widget_with_its_stylesheet_weighs_under_30_kb_at_its_fullest(
    client, shop_site, product
):
    manager = StaffMembershipFactory(shop=shop_site).user
    longest = ("A long and careful review of the tote. " * 200)[:5000]
    for _ in range(WIDGET_PAGE_SIZE + 2):
        written = _reviewed(shop_site, product, 4, title=("Sturdy tote " * 20)[:150], body=longest)
        assert written.is_published
        review_reply_save(review=written, actor=manager, body=("Thank you for it. " * 200)[:3000])

    response = client.get(_widget_url(shop_site, product))

    total = len(response.content) + _stylesheet_bytes()
    assert total < 30 * 1024, total
    assert 'rel="next"' in response.content.decode()


def test_the_widget_may_be_framed_by_the_shops_site_only(client, shop_site, product):
    _reviewed(shop_site, product, 5)

    response = client.get(_widget_url(shop_site, product))

    policy = response["Content-Security-Policy"]
    ancestors = re.search(r"frame-ancestors ([^;]+)", policy).group(1).split()
    assert sorted(ancestors) == sorted(
        ["https://www.acme-goods.example", f"https://{shop_site.domain}"]
    )
    assert "X-Frame-Options" not in response
    assert "'unsafe-inline'" not in policy
    assert client.get("/track/")["X-Frame-Options"] == "DENY"


def test_a_shop_without_a_site_keeps_the_widget_unframable(client, shop, product):
    shop.website_url = ""
    shop.domain = None
    shop.save(update_fields=["website_url", "domain"])

    response = client.get(_widget_url(shop, product))

    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_a_published_reviews_photo_is_served_and_a_held_ones_is_not(client, shop_site, product):
    from orders.photos import photo_clean
    from tests.feedback.helpers import jpeg_upload

    shown = _reviewed(shop_site, product, 5, photos=[photo_clean(jpeg_upload())])
    held = _reviewed(shop_site, product, 5, body=HELD_TEXT, photos=[photo_clean(jpeg_upload())])

    url = client.get(_json_url(shop_site, product)).json()["reviews"][0]["photos"][0]
    response = client.get(url.removeprefix("https://shop.test"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert shown.photos.get().token in url
    assert client.get(f"/feedback/photos/{held.photos.get().token}").status_code == 404
