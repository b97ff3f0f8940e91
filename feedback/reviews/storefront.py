"""What storefronts show of a product's published reviews, public and without login:

- `/feedback/api/<shop>/<product>/reviews.json`: the reviews (paginated), their count, average
  and distribution, incentive marks and the shop's replies, and the schema.org JSON-LD;
- `/feedback/widget/<shop>/<product>/`: the same as a small server-rendered page to put in an
  iframe on the shop's own site (and only there: its `frame-ancestors` is the shop's origin);
- `/feedback/photos/<token>`: a published review's photo.

The shop is named by its public slug and the product by the shop's own id for it (its platform
id), never by our row ids. Answers are cached in Redis under the public address and the
product's version (`feedback.reviews.cache`): an unchanged answer is served without a database
query. They carry an ETag (`If-None-Match` → 304) and a public Cache-Control.
The JSON allows CORS for the shop's own origins only (`Access-Control-Allow-Origin` is sent
only when the request's Origin is one of them)."""

import hashlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.text import Truncator
from django.views.decorators.http import require_GET

from feedback.models import IncentiveKind, Review
from feedback.reviews.cache import (
    CachedAnswer,
    storefront_cache_get,
    storefront_cache_put,
    storefront_version,
)
from feedback.reviews.selectors import (
    RatingSummary,
    photo_shown_get,
    published_reviews,
    rating_summary,
    storefront_product,
    storefront_shop,
)
from orders.branding import shop_brand
from orders.models import Product, Shop
from postpurchase.security import framable_per_response, frame_ancestors_allow

JSON_PAGE_SIZE = 20
# The widget must stay small (< 30 KB with its stylesheet): a few reviews a page, long texts
# cut with a link to the rest in the JSON.
WIDGET_PAGE_SIZE = 5
WIDGET_BODY_CHARS = 500
WIDGET_REPLY_CHARS = 300
JSON_MAX_AGE = 60
WIDGET_MAX_AGE = 300
PHOTO_MAX_AGE = 24 * 3600
INLINE_PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})


# --- The shop's own origins ------------------------------------------------------------------


def _origin(url: str) -> str | None:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def shop_origins(shop: Shop) -> list[str]:
    """The origins of the shop's own storefront: its website, and its platform domain (a
    Shopify shop is served at `*.myshopify.com` too)."""
    candidates = [shop.website_url] if shop.website_url else []
    if shop.domain:
        candidates.append(f"https://{shop.domain}")
    origins = [origin for origin in map(_origin, candidates) if origin]
    return list(dict.fromkeys(origins))


def _allow_origin(request: HttpRequest, response: HttpResponseBase, origins: list[str]) -> None:
    patch_vary_headers(response, ["Origin"])
    origin = request.headers.get("Origin", "")
    if origin and origin.lower() in origins:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Expose-Headers"] = "ETag"


# --- What a review says -----------------------------------------------------------------------


def _absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def widget_url(shop: Shop, product: Product) -> str:
    return _absolute(reverse("feedback:review_widget", args=[shop.slug, product.external_id]))


def product_page_url(shop: Shop, product: Product) -> str:
    """The product's page on the storefront; our widget page when the shop gave none."""
    return product.url or widget_url(shop, product)


def _incentive_label(review: Review) -> str | None:
    if not review.incentivized:
        return None
    if review.incentive_kind == IncentiveKind.POINTS:
        return "The reviewer received loyalty points for writing a review."
    return "The reviewer received a discount for writing a review."


def review_payload(review: Review, *, body_chars: int | None = None) -> dict[str, Any]:
    body = Truncator(review.body).chars(body_chars) if body_chars else review.body
    reply = getattr(review, "reply", None)
    photos = getattr(review, "shown_photos", [])
    return {
        "id": review.public_id,
        "rating": review.rating,
        "title": review.title,
        "body": body,
        "author": review.author_name,
        "verified_buyer": True,
        "submitted_at": review.submitted_at.isoformat(),
        "edited_at": review.edited_at.isoformat() if review.edited_at else None,
        "incentivized": review.incentivized,
        "incentive": _incentive_label(review),
        "photos": [
            _absolute(reverse("feedback:review_photo", args=[photo.token])) for photo in photos
        ],
        "reply": {"body": reply.body, "replied_at": reply.updated_at.isoformat()}
        if reply
        else None,
    }


def product_jsonld(
    shop: Shop,
    product: Product,
    summary: RatingSummary,
    reviews: list[Review],
    *,
    body_chars: int | None = None,
) -> dict[str, Any]:
    """schema.org `Product` with its `AggregateRating` (published reviews) and the `Review`s
    shown."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.title,
        "url": product_page_url(shop, product),
    }
    variants = list(product.variants.all())
    skus = [v.sku for v in variants if v.sku]
    gtins = [v.gtin for v in variants if v.gtin]
    if skus:
        data["sku"] = skus[0]
    if gtins:
        data["gtin"] = gtins[0]
    if product.brand:
        data["brand"] = {"@type": "Brand", "name": product.brand}
    if summary.count:
        data["aggregateRating"] = {
            "@type": "AggregateRating",
            "ratingValue": str(summary.average),
            "reviewCount": summary.count,
            "bestRating": 5,
            "worstRating": 1,
        }
    if reviews:
        data["review"] = [
            {
                "@type": "Review",
                "author": {"@type": "Person", "name": review.author_name},
                "datePublished": review.submitted_at.date().isoformat(),
                **({"name": review.title} if review.title else {}),
                "reviewBody": Truncator(review.body).chars(body_chars)
                if body_chars
                else review.body,
                "reviewRating": {
                    "@type": "Rating",
                    "ratingValue": review.rating,
                    "bestRating": 5,
                    "worstRating": 1,
                },
            }
            for review in reviews
        ]
    return data


def jsonld_script_text(data: dict[str, Any]) -> str:
    """JSON for a `<script type="application/ld+json">` block: `<`, `>` and `&` escaped, so no
    text a reviewer wrote can close the element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- Answers ------------------------------------------------------------------------------------


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 10_000 else 1


def _page(product: Product, size: int, number: int) -> Page:
    return Paginator(published_reviews(product=product), size).get_page(number)


def _answer(
    shop: str, product: str, part: str, build: Callable[[Shop, Product], bytes]
) -> CachedAnswer:
    """The answer from the cache, else from the database (404 for an unknown or inactive shop
    or product), stored for the next request."""
    cached = storefront_cache_get(shop=shop, product=product, part=part)
    if cached is not None:
        return cached
    found_shop = storefront_shop(shop)
    found = storefront_product(shop=found_shop, handle=product)
    version = storefront_version(found.pk)
    body = build(found_shop, found)
    answer = CachedAnswer(
        body=body,
        etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"',
        origins=shop_origins(found_shop),
    )
    storefront_cache_put(
        shop=shop, product=product, product_id=found.pk, version=version, part=part, answer=answer
    )
    return answer


def _json_body(shop: Shop, product: Product, number: int) -> bytes:
    summary = rating_summary(product=product)
    page = _page(product, JSON_PAGE_SIZE, number)
    reviews = list(page.object_list)
    payload = {
        "shop": shop.slug,
        "product": {"id": product.external_id, "name": product.title},
        "count": summary.count,
        "average": str(summary.average) if summary.average is not None else None,
        "distribution": {str(star): n for star, n in summary.distribution.items()},
        "page": page.number,
        "pages": page.paginator.num_pages,
        "reviews": [review_payload(review) for review in reviews],
        "jsonld": product_jsonld(shop, product, summary, reviews),
    }
    return json.dumps(payload, ensure_ascii=False).encode()


def _respond(request: HttpRequest, answer: CachedAnswer, content_type: str) -> HttpResponseBase:
    response = get_conditional_response(request, etag=answer.etag)
    if response is None:
        response = HttpResponse(answer.body, content_type=content_type)
    response["ETag"] = answer.etag
    return response


@require_GET
def reviews_json(request: HttpRequest, shop: str, product: str) -> HttpResponseBase:
    number = _page_number(request)
    answer = _answer(shop, product, f"json:{number}", lambda s, p: _json_body(s, p, number))
    response = _respond(request, answer, "application/json")
    patch_cache_control(response, public=True, max_age=JSON_MAX_AGE)
    _allow_origin(request, response, answer.origins)
    return response


def _widget_body(shop: Shop, product: Product, number: int) -> bytes:
    summary = rating_summary(product=product)
    page = _page(product, WIDGET_PAGE_SIZE, number)
    reviews = list(page.object_list)
    rows = []
    for review in reviews:
        reply = getattr(review, "reply", None)
        rows.append(
            {
                "review": review,
                "body": Truncator(review.body).chars(WIDGET_BODY_CHARS),
                "reply": Truncator(reply.body).chars(WIDGET_REPLY_CHARS) if reply else "",
                "incentive": _incentive_label(review),
                "photos": [
                    reverse("feedback:review_photo", args=[photo.token])
                    for photo in getattr(review, "shown_photos", [])
                ],
            }
        )
    bars = [
        (star, n, round(n * 100 / summary.count) if summary.count else 0)
        for star, n in sorted(summary.distribution.items(), reverse=True)
    ]
    jsonld = product_jsonld(shop, product, summary, reviews, body_chars=WIDGET_BODY_CHARS)
    context = {
        "shop": shop,
        "product": product,
        "brand": shop_brand(shop),
        "summary": summary,
        "bars": bars,
        "rows": rows,
        "page": page,
        "jsonld": jsonld_script_text(jsonld),
        "stylesheet": static("css/review-widget.css"),
    }
    return render_to_string("feedback/reviews/widget.html", context).encode()


@framable_per_response
@require_GET
def review_widget(request: HttpRequest, shop: str, product: str) -> HttpResponseBase:
    number = _page_number(request)
    answer = _answer(shop, product, f"widget:{number}", lambda s, p: _widget_body(s, p, number))
    response = _respond(request, answer, "text/html; charset=utf-8")
    patch_cache_control(response, public=True, max_age=WIDGET_MAX_AGE)
    # Framed by the shop's own storefront only; every other site still may not.
    frame_ancestors_allow(response, answer.origins)
    return response


@require_GET
def review_photo(request: HttpRequest, token: str) -> HttpResponse:
    photo = photo_shown_get(token=token)
    content_type = photo.content_type
    inline = content_type in INLINE_PHOTO_TYPES
    response = HttpResponse(
        bytes(photo.data), content_type=content_type if inline else "application/octet-stream"
    )
    response["Content-Disposition"] = "inline" if inline else "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, public=True, max_age=PHOTO_MAX_AGE)
    return response
