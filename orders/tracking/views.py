"""The tracking page. Public, reached only by its unguessable token; no login, no cookies.

A view costs one query when the page is cached or unchanged: the order is read with its
version (`tracking_order_get`), an unchanged page answers 304, and a cached one is served from
Redis. Only a changed page reads the rest and renders."""

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import require_GET

from orders.branding import shop_brand
from orders.tracking.page import TrackedOrder, page_context, tracking_order_get, tracking_page_build
from orders.tracking.views_count import tracking_page_view_record

# How long a rendered page is kept; a change to the order makes a new key long before.
PAGE_CACHE_SECONDS = 600
# How often an undelivered order's page asks for fresh shipment news.
POLL_SECONDS = 60


def _not_found(request: HttpRequest) -> HttpResponse:
    with translation.override(translation.get_language_from_request(request)):
        return render(request, "orders/tracking/not_found.html", status=404)


def _headers(response: HttpResponse, tracked: TrackedOrder) -> HttpResponse:
    response["ETag"] = f'"{tracked.etag}"'
    response["Last-Modified"] = http_date(tracked.last_modified.timestamp())
    response["Content-Language"] = tracked.language
    # Personal data: no shared cache may keep it, and the browser asks before reusing it.
    patch_cache_control(response, private=True, no_cache=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _render(request: HttpRequest, tracked: TrackedOrder, template: str, part: str) -> str:
    key = f"track:{tracked.order.pk}:{part}:{tracked.etag}"
    body = cache.get(key)
    if body is None:
        with translation.override(tracked.language), timezone.override(tracked.zone):
            now = timezone.now()
            page = tracking_page_build(tracked, now)
            context = {
                **page_context(page, tracked, now),
                "brand": shop_brand(page.shop),
                "poll_seconds": POLL_SECONDS,
            }
            body = render_to_string(template, context)
        cache.set(key, body, PAGE_CACHE_SECONDS)
    return body


def _serve(request: HttpRequest, token: str, template: str, part: str) -> HttpResponse:
    tracked = tracking_order_get(token)
    if tracked is None:
        return _not_found(request)
    # Staff opening the page from the dashboard are not the customer looking. (A visitor
    # without a session cookie costs no query here.)
    if part == "page" and not request.user.is_authenticated:
        tracking_page_view_record(order=tracked.order)
    unchanged = get_conditional_response(
        request, etag=f'"{tracked.etag}"', last_modified=int(tracked.last_modified.timestamp())
    )
    if unchanged is not None:
        return _headers(unchanged, tracked)
    body = _render(request, tracked, template, part)
    return _headers(HttpResponse(body), tracked)


@require_GET
def tracking_page(request: HttpRequest, token: str) -> HttpResponse:
    return _serve(request, token, "orders/tracking/page.html", "page")


@require_GET
def tracking_shipments(request: HttpRequest, token: str) -> HttpResponse:
    """The shipment block alone: what the page polls for while the order is on its way."""
    return _serve(request, token, "orders/tracking/partials/_shipments.html", "shipments")
