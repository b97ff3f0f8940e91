"""The tracking page. Public, reached only by its unguessable token; no login, no cookies.

A view of a page that has not changed since it was last rendered costs one Redis round trip
and no query (`orders.tracking.cache`); an unchanged page answers 304. Otherwise the order is
read with its version in one query (`tracking_order_get`): a client that holds that version
gets a 304, and only a changed page reads the rest and renders."""

from datetime import datetime

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_GET

from orders.branding import shop_brand
from orders.services.page_view_counts import tracking_page_view_record
from orders.tracking.cache import (
    CachedPage,
    tracking_cache_generations,
    tracking_cache_get,
    tracking_cache_put,
)
from orders.tracking.invalidation import tracking_page_cached
from orders.tracking.page import TrackedOrder, page_context, tracking_order_get, tracking_page_build
from postpurchase.shell.customer import customer_page_headers

# How often an undelivered order's page asks for fresh shipment news.
POLL_SECONDS = 60
_TEMPLATES = {
    "page": "orders/tracking/page.html",
    "shipments": "orders/tracking/partials/_shipments.html",
}


def tracking_link_not_found(request: HttpRequest) -> HttpResponse:
    """The answer to a token that names no order, on every page reached by one (tracking,
    problem reports, the returns portal), in the visitor's language."""
    language = translation.get_language_from_request(request)
    with translation.override(language):
        context = {"language": language}
        response = render(request, "orders/tracking/not_found.html", context, status=404)
    customer_page_headers(response, language=language)
    return response


def _respond(request: HttpRequest, page: CachedPage) -> HttpResponseBase:
    etag = f'"{page.etag}"'
    modified = int(page.last_modified.timestamp())
    response = get_conditional_response(request, etag=etag, last_modified=modified)
    if response is None:
        response = HttpResponse(page.body)
    response["ETag"] = etag
    response["Last-Modified"] = http_date(modified)
    # The browser may keep the page, and asks (with its ETag) before reusing it.
    return customer_page_headers(response, language=page.language, revalidate=True)


def _render(tracked: TrackedOrder, part: str, now: datetime) -> str:
    with tracked.locale.active():
        page = tracking_page_build(tracked, now)
        context = {
            **page_context(page, tracked, now),
            "brand": shop_brand(page.shop),
            "poll_seconds": POLL_SECONDS,
        }
        return render_to_string(_TEMPLATES[part], context)


def _rendered(tracked: TrackedOrder, part: str) -> CachedPage:
    order = tracked.order
    generations = tracking_cache_generations(order_id=order.pk, shop_id=order.shop_id)
    page = CachedPage(
        etag=tracked.etag,
        last_modified=tracked.last_modified,
        language=tracked.language,
        body=_render(tracked, part, timezone.now()),
    )
    tracking_page_cached(order.pk)
    tracking_cache_put(
        token=order.tracking_token,
        order_id=order.pk,
        shop_id=order.shop_id,
        part=part,
        generations=generations,
        page=page,
    )
    return page


def _serve(request: HttpRequest, token: str, part: str) -> HttpResponseBase:
    # Staff opening the page from the dashboard are not the customer looking. (A visitor
    # without a session cookie costs no query here.)
    count_view = part == "page" and not request.user.is_authenticated
    cached = tracking_cache_get(token, part, count_view=count_view)
    if cached is not None:
        return _respond(request, cached)
    tracked = tracking_order_get(token)
    if tracked is None:
        return tracking_link_not_found(request)
    if count_view:
        tracking_page_view_record(order=tracked.order)
    unchanged = CachedPage(
        etag=tracked.etag,
        last_modified=tracked.last_modified,
        language=tracked.language,
        body="",
    )
    if get_conditional_response(
        request,
        etag=f'"{tracked.etag}"',
        last_modified=int(tracked.last_modified.timestamp()),
    ):
        return _respond(request, unchanged)
    return _respond(request, _rendered(tracked, part))


@require_GET
def tracking_page(request: HttpRequest, token: str) -> HttpResponseBase:
    return _serve(request, token, "page")


@require_GET
def tracking_shipments(request: HttpRequest, token: str) -> HttpResponseBase:
    """The shipment block alone: what the page polls for while the order is on its way."""
    return _serve(request, token, "shipments")
