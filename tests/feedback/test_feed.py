"""The Google product review feed validates against Google's schema (version 2.2, kept in
feedback/reviews/schema/), with every published review and the ones taken down since."""

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import xmlschema
from django.conf import settings

from feedback.models import ReviewRule
from feedback.reviews.services import review_reject
from tests.factories import ProductFactory, StaffMembershipFactory
from tests.feedback.helpers import add_line, delivered_order, review

pytestmark = pytest.mark.django_db

SCHEMA = (
    Path(settings.BASE_DIR) / "feedback" / "reviews" / "schema" / "google-product-reviews-2.2.xsd"
)


def _feed(client, shop):
    response = client.get(f"/feedback/feeds/{shop.slug}/google-product-reviews.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    return response.content


def test_the_feed_validates_and_says_what_google_asks(client, shop):
    manager = StaffMembershipFactory(shop=shop).user
    with_gtin = ProductFactory(
        shop=shop, title="Canvas Tote", brand="Northwind", url="https://acme.example/p/tote"
    )
    without_gtin = ProductFactory(shop=shop, title="Wool Socks")
    first = delivered_order(shop, products=0)
    kept = review(
        first,
        line=add_line(first, product=with_gtin, gtin="0012345678905", sku="TOTE-1"),
        rating=5,
        title="Roomy",
    )
    second = delivered_order(shop, products=0, customer__first_name="", shipping_name="")
    anonymous = review(second, line=add_line(second, product=without_gtin, sku=""), rating=2)
    third = delivered_order(shop, products=0)
    removed = review(third, line=add_line(third, product=without_gtin), rating=4)
    review_reject(review=removed, actor=manager, rule=ReviewRule.SPAM)

    xml = _feed(client, shop)

    xmlschema.XMLSchema(SCHEMA).validate(xml)  # raises when it does not validate
    root = ET.fromstring(xml)  # noqa: S314 - our own output
    ids = [e.text for e in root.iter("review_id") if e is not None]
    assert root.find("deleted_reviews/review_id").text == removed.public_id
    assert kept.public_id in ids
    by_id = {r.find("review_id").text: r for r in root.iter("review")}
    tote = by_id[kept.public_id]
    assert tote.find("ratings/overall").attrib == {"min": "1", "max": "5"}
    assert tote.find("ratings/overall").text == "5"
    assert tote.find("collection_method").text == "post_fulfillment"
    assert tote.find("transaction_id").text == first.number
    assert tote.find("products/product/product_ids/gtins/gtin").text == "0012345678905"
    assert tote.find("products/product/product_ids/skus/sku").text == "TOTE-1"
    assert tote.find("products/product/product_ids/brands/brand").text == "Northwind"
    assert tote.find("products/product/product_url").text == "https://acme.example/p/tote"
    socks = by_id[anonymous.public_id]
    assert socks.find("products/product/product_ids/gtins") is None
    assert socks.find("reviewer/name").attrib == {"is_anonymous": "true"}
    assert socks.find("products/product/product_name").text == "Wool Socks"


def test_an_empty_shops_feed_validates(client, shop):
    xmlschema.XMLSchema(SCHEMA).validate(_feed(client, shop))


def test_another_shops_reviews_are_not_in_the_feed(client, shop, other_shop):
    review(delivered_order(other_shop))

    assert b"<review>" not in _feed(client, shop)
