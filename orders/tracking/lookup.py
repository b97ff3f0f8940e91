"""The order lookup at `/track/`: order number plus the email or the shipping postcode of the
order, leading to the order's tracking page.

It must not tell anyone whether an order exists. Every failure (unknown number, wrong email or
postcode, another shop's number, an empty or over-long field) gets the same 200 page, byte for
byte apart from the CSRF token: the form is shown empty again rather than echoing what was
typed, and the same query runs whatever was typed.

Guessing is slowed by two fixed-window limits, both charged before the order is read (a
limited request reads nothing):
- per client address, 10 failed lookups in 10 minutes. Every attempt is charged up front, so
  a burst of parallel requests cannot overshoot, and a lookup that succeeds is given back:
  people sharing one address (an office, a carrier's NAT) are only held back by failures.
- per order number as typed (normalised), 5 attempts an hour, successes included, from any
  address: this bounds a guesser spread over many addresses. It is keyed by what was typed,
  existing or not, so being limited says nothing about the order either.
"""

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q, Value
from django.db.models.functions import Replace, Upper
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from orders.links import tracking_page_path
from orders.models import Order
from orders.tracking.lookup_forms import (
    TrackingLookupForm,
    order_number_normalise,
    postcode_normalise,
)
from orders.tracking.ratelimit import RateLimit, Verdict
from postpurchase.shell.customer import customer_page_headers

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

LOOKUP_LIMIT_PER_ADDRESS = RateLimit("track-lookup-address", limit=10, window=10 * 60)
LOOKUP_LIMIT_PER_NUMBER = RateLimit("track-lookup-number", limit=5, window=60 * 60)

_TEMPLATE = "orders/tracking/lookup.html"


def tracking_lookup_order_find(*, number: str, contact: str) -> Order | None:
    """The order with this number whose email (any case) or shipping postcode (any spacing or
    case) is `contact`, in any active shop; the latest placed when two shops share a number.
    Always one query, even for input that cannot match, so no answer comes back faster."""
    number = order_number_normalise(number)
    contact = contact.strip()
    postcode = postcode_normalise(contact)
    # Emails always hold an '@' and postcodes never do, so the field says which it is.
    matches_contact = Q(email__iexact=contact) if "@" in contact else Q(postcode_key=postcode)
    orders = (
        Order.objects.alias(
            number_key=Upper("number"),
            postcode_key=Upper(Replace("shipping_postcode", Value(" "), Value(""))),
        )
        .filter(matches_contact, shop__is_active=True, number_key__in=[number, f"#{number}"])
        .only("tracking_token")
        .order_by("-placed_at", "-pk")
    )
    if not number or not postcode:
        # An empty value would match orders with a blank email or postcode; still ask.
        orders = orders.filter(pk__lt=0)
    return orders.first()


def client_address(request: HttpRequest) -> str:
    """Who is asking, for the per-address limit: REMOTE_ADDR, unless the deployment declares
    how many proxies of its own sit in front (`TRUSTED_PROXY_COUNT`); a client can write any
    X-Forwarded-For it likes, so only the entries those proxies appended are believed. An IPv6
    client usually holds a whole /64, so the /64 is what is counted."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if proxies > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network((ip, 64), strict=False))
    return str(ip)


@dataclass(frozen=True)
class LookupPage:
    """What a lookup page says and where a match leads: the tracking page's, or another page
    keyed by the order's token (the returns portal's), on the same rules and counters."""

    title: "StrOrPromise"
    intro: "StrOrPromise"
    action: str
    destination: Callable[[Order], str]


def _page(
    request: HttpRequest, lookup: LookupPage, *, status: int = 200, **context: object
) -> HttpResponse:
    # Always an empty form: echoing what was typed would make failures differ.
    context = {
        "form": TrackingLookupForm(),
        "language": translation.get_language(),
        "lookup": lookup,
        **context,
    }
    return render(request, _TEMPLATE, context, status=status)


def _limited(request: HttpRequest, lookup: LookupPage, verdict: Verdict) -> HttpResponse:
    response = _page(request, lookup, status=429, limited_minutes=verdict.retry_after_minutes)
    response["Retry-After"] = str(verdict.retry_after)
    return response


def _lookup(request: HttpRequest, lookup: LookupPage) -> HttpResponse:
    address = client_address(request)
    verdict = LOOKUP_LIMIT_PER_ADDRESS.hit(address)
    if not verdict.allowed:
        return _limited(request, lookup, verdict)
    typed_number = order_number_normalise(request.POST.get("number", ""))
    if typed_number:
        verdict = LOOKUP_LIMIT_PER_NUMBER.hit(typed_number)
        if not verdict.allowed:
            return _limited(request, lookup, verdict)
    form = TrackingLookupForm(request.POST)
    fields = form.cleaned_data if form.is_valid() else {"number": "", "contact": ""}
    order = tracking_lookup_order_find(number=fields["number"], contact=fields["contact"])
    if order is None:
        return _page(request, lookup, not_found=True)
    LOOKUP_LIMIT_PER_ADDRESS.refund(address)
    response = HttpResponseRedirect(lookup.destination(order))
    response.status_code = 303  # See Other: the browser GETs the page, never re-POSTs
    return response


def order_lookup_respond(request: HttpRequest, lookup: LookupPage) -> HttpResponse:
    """The lookup form (GET) and its answer (POST), in the visitor's language."""
    language = translation.get_language_from_request(request)
    with translation.override(language):
        response = _lookup(request, lookup) if request.method == "POST" else _page(request, lookup)
    customer_page_headers(response, language=language, posts_form=True)
    return response


TRACKING_LOOKUP = LookupPage(
    title=gettext_lazy("Find your order"),
    intro=gettext_lazy(
        "Enter your order number and the email address or postcode from your order to see "
        "where it is."
    ),
    action="tracking:lookup",
    destination=tracking_page_path,
)


@require_http_methods(["GET", "POST"])
def tracking_lookup(request: HttpRequest) -> HttpResponse:
    return order_lookup_respond(request, TRACKING_LOOKUP)
