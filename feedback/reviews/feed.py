"""The shop's Google product review feed, `/feedback/feeds/<shop>/google-product-reviews.xml`:
every published review in the format of Google's schema, version 2.2 (kept beside this module
in `schema/`, against which the tests validate it), and the ids of reviews taken down since
they were published (`deleted_reviews`).

Each review names its reviewer (their shown name, or "Anonymous" marked `is_anonymous`), when it
was written, its content, its overall rating between 1 and 5, the product (name, URL, GTINs,
SKUs and brand where the product has them), how it was collected (`post_fulfillment`: in
answer to our request after delivery; else `unsolicited`) and the order's number as the
transaction id."""

from xml.etree import ElementTree as ET

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from feedback.models import Review
from feedback.reviews.selectors import feed_deleted_review_ids, feed_reviews, storefront_shop
from feedback.reviews.services import VERIFIED_BUYER
from feedback.reviews.storefront import product_page_url, widget_url
from orders.models import Shop

FEED_MAX_AGE = 3600
ANONYMOUS = "Anonymous"


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = text
    return element


def _product_ids(parent: ET.Element, review: Review) -> None:
    variants = list(review.product.variants.all())
    gtins = list(dict.fromkeys(v.gtin.strip() for v in variants if v.gtin.strip()))
    skus = list(dict.fromkeys(v.sku.strip() for v in variants if v.sku.strip()))
    brand = review.product.brand.strip()
    if not (gtins or skus or brand):
        return
    ids = ET.SubElement(parent, "product_ids")
    # The schema's order: gtins, mpns, skus, brands.
    if gtins:
        group = ET.SubElement(ids, "gtins")
        for gtin in gtins:
            _text(group, "gtin", gtin)
    if skus:
        group = ET.SubElement(ids, "skus")
        for sku in skus:
            _text(group, "sku", sku)
    if brand:
        _text(ET.SubElement(ids, "brands"), "brand", brand)


def _review(parent: ET.Element, shop: Shop, review: Review) -> None:
    element = ET.SubElement(parent, "review")
    _text(element, "review_id", review.public_id)
    reviewer = ET.SubElement(element, "reviewer")
    if review.author_name and review.author_name != VERIFIED_BUYER:
        _text(reviewer, "name", review.author_name)
    else:
        _text(reviewer, "name", ANONYMOUS, is_anonymous="true")
    _text(element, "review_timestamp", review.submitted_at.isoformat())
    if review.title.strip():
        _text(element, "title", review.title)
    _text(element, "content", review.body)
    page = widget_url(shop, review.product)
    _text(element, "review_url", f"{page}#review-{review.public_id}", type="group")
    ratings = ET.SubElement(element, "ratings")
    _text(ratings, "overall", str(review.rating), min="1", max="5")
    product = ET.SubElement(ET.SubElement(element, "products"), "product")
    _product_ids(product, review)
    _text(product, "product_name", review.product.title)
    _text(product, "product_url", product_page_url(shop, review.product))
    _text(element, "collection_method", review.collection_method)
    _text(element, "transaction_id", review.order.number)


def review_feed_xml(shop: Shop) -> bytes:
    feed = ET.Element("feed")
    _text(feed, "version", "2.2")
    _text(ET.SubElement(feed, "publisher"), "name", shop.name)
    reviews = list(feed_reviews(shop=shop))
    if reviews:
        container = ET.SubElement(feed, "reviews")
        for review in reviews:
            _review(container, shop, review)
    deleted = feed_deleted_review_ids(shop=shop)
    if deleted:
        container = ET.SubElement(feed, "deleted_reviews")
        for review_id in deleted:
            _text(container, "review_id", review_id)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


@require_GET
def review_feed(request: HttpRequest, shop: str) -> HttpResponse:
    found = storefront_shop(shop)
    response = HttpResponse(review_feed_xml(found), content_type="application/xml; charset=utf-8")
    patch_cache_control(response, public=True, max_age=FEED_MAX_AGE)
    return response
