"""The headers of every page a customer reaches by a link in a message or by the order lookup,
whichever app serves it: tracking, problem reports, the returns portal, message preferences.
Their layout is `templates/shell/customer.html`.

Each such page is about someone (their order, return or preferences) and is reached by an
unguessable token or a lookup, so:
- no shared cache keeps it (`private`), and the browser keeps nothing either (`no-store`: a
  form carries a CSRF token), except a page served with a validator, the tracking page with its
  ETag, which the browser may keep but must check before reusing (`no-cache`);
- no search engine lists it or follows its links (`X-Robots-Tag`, and the layout's robots tag);
- no other site learns its address: `no-referrer`, or `same-origin` on a page that posts a
  form (under no-referrer browsers POST with `Origin: null`, which the CSRF check refuses;
  same-origin still tells other sites nothing). The layout's referrer tag says the same;
- it says which language it speaks (the customer's, or the visitor's).
No other site may frame it, and it runs only our own scripts and styles: the
Content-Security-Policy (`frame-ancestors 'none'`), X-Frame-Options and the Permissions-Policy
come from the project's middleware (django-csp's settings, `postpurchase.security`), and no
customer page opts out of them.
"""

import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpResponseBase
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control

ROBOTS = "noindex, nofollow"
REFERRER_POLICY = "no-referrer"
REFERRER_POLICY_WITH_FORM = "same-origin"


def customer_page_headers(
    response: HttpResponseBase,
    *,
    language: str,
    posts_form: bool = False,
    revalidate: bool = False,
) -> HttpResponseBase:
    """Give `response` the headers every customer page sends; returns it.

    `posts_form`: the page holds a form that posts back (its referrer policy must allow it).
    `revalidate`: the response carries a validator (an ETag) and may be kept by the browser,
    which must ask before reusing it."""
    if revalidate:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = ROBOTS
    response["Referrer-Policy"] = REFERRER_POLICY_WITH_FORM if posts_form else REFERRER_POLICY
    response["Content-Language"] = language
    return response


@dataclass(frozen=True)
class CustomerLocale:
    """The language and time zone a customer reads a page or a message in."""

    language: str
    zone: zoneinfo.ZoneInfo

    @property
    def zone_name(self) -> str:
        return str(self.zone).replace("_", " ")

    @contextmanager
    def active(self) -> Iterator["CustomerLocale"]:
        """Translations and the template's times in the customer's language and zone."""
        with translation.override(self.language), timezone.override(self.zone):
            yield self


def _language(*locales: str) -> str:
    for locale in locales:
        if locale:
            try:
                return translation.get_supported_language_variant(translation.to_language(locale))
            except LookupError:
                continue
    return settings.LANGUAGE_CODE


def _zone(*names: str) -> zoneinfo.ZoneInfo:
    for name in names:
        if name:
            try:
                return zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
    return zoneinfo.ZoneInfo("UTC")


def customer_locale(*, customer: Any | None, shop: Any) -> CustomerLocale:
    """The one place that decides how every customer page (tracking, returns portal, problem
    report, preferences) and every message speaks and tells the time: the customer's own
    language and zone when known and valid, else the shop's, else the site's and UTC.
    `customer` and `shop` need only `locale` and `timezone` (the kernel names no app's model)."""
    customer_locale_name = getattr(customer, "locale", "") if customer is not None else ""
    customer_zone_name = getattr(customer, "timezone", "") if customer is not None else ""
    return CustomerLocale(
        language=_language(customer_locale_name, shop.locale),
        zone=_zone(customer_zone_name, shop.timezone),
    )
