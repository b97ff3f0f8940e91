"""An email shown inside a dashboard page: its own document in a sandboxed frame.

Emails are styled inline (mail clients strip stylesheets), and a page's Content-Security-Policy
forbids inline style; a `srcdoc` frame would inherit the page's policy and lose the email's
look. So the frame loads the email from its own URL, answered with a policy for an email: its
inline styles, no script, nothing fetched but what `images` allows, framable by our own pages
only, and sandboxed even when opened on its own."""

import secrets
from collections.abc import Callable

from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseBase

from orders.models import Shop
from postpurchase.security import framable_by

# A draft's preview is kept this long for its frame to load (and reload).
PREVIEW_SECONDS = 30 * 60
_PREVIEW_KEY = "notifications:email-preview:{shop}:{token}"

View = Callable[..., HttpResponseBase]


def email_frame(*, images: list[str]) -> Callable[[View], View]:
    """The decorator for a view answering an email's HTML as a frame's document."""
    policy = {
        "default-src": [NONE],
        "style-src": [UNSAFE_INLINE],
        "img-src": images,
        "base-uri": [NONE],
        "form-action": [NONE],
        "sandbox": True,
    }

    def decorator(view: View) -> View:
        return framable_by(SELF)(csp(policy)(view))

    return decorator


def email_frame_response(html: str) -> HttpResponse:
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response


def email_preview_stash(*, shop: Shop, html: str) -> str:
    """Keep a rendered draft for its preview frame; returns the token its URL carries."""
    token = secrets.token_urlsafe(16)
    cache.set(_PREVIEW_KEY.format(shop=shop.pk, token=token), html, PREVIEW_SECONDS)
    return token


def email_preview_get(*, shop: Shop, token: str) -> str | None:
    """The draft stashed under `token` for this shop; None once it lapsed, or for another
    shop's token."""
    return cache.get(_PREVIEW_KEY.format(shop=shop.pk, token=token))
