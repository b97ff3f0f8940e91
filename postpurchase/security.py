"""Security headers every response carries, beside django-csp's Content-Security-Policy (see
`CONTENT_SECURITY_POLICY` in settings): the Permissions-Policy, and the one way a page may be
framed by another site; and the cross-site check of a POST a customer's link authorises."""

from collections.abc import Callable
from functools import wraps

from csp.decorators import csp_replace
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, HttpResponseForbidden
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

PERMISSIONS_POLICY_HEADER = "Permissions-Policy"


def permissions_policy_value(features: dict[str, list[str]]) -> str:
    """`{"camera": []}` → `camera=()`: an empty allowlist turns the feature off everywhere."""
    return ", ".join(f"{name}=({' '.join(allowed)})" for name, allowed in features.items())


class PermissionsPolicyMiddleware:
    """Sets `Permissions-Policy` from `settings.PERMISSIONS_POLICY` on every response that has
    none yet: no page of ours uses the camera, microphone, location, payment or USB, so none
    may, nor anything it frames."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.value = permissions_policy_value(settings.PERMISSIONS_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if self.value and PERMISSIONS_POLICY_HEADER not in response:
            response[PERMISSIONS_POLICY_HEADER] = self.value
        return response


View = Callable[..., HttpResponseBase]


def framable_by(*sources: str) -> Callable[[View], View]:
    """Let other pages frame this view's page: its CSP `frame-ancestors` becomes `sources`
    (e.g. `"'self'"`, or a storefront's origin for the review widget) and X-Frame-Options is
    dropped. Every other page may be framed by nobody (`frame-ancestors 'none'`).

        @framable_by("https://shop.example")
        def review_widget(request): ...
    """
    if not sources:
        raise ValueError("Name who may frame the page.")

    def decorator(view: View) -> View:
        framed = xframe_options_exempt(csp_replace({"frame-ancestors": list(sources)})(view))
        # Read by the test that checks every URL's headers: the page says it may be framed.
        framed.framable_by = sources  # type: ignore[attr-defined]
        return framed

    return decorator


# What `framable_by` says of a view whose every response names its own framers.
PER_RESPONSE = ("per response",)


def framable_per_response(view: View) -> View:
    """Mark a view whose responses each say who may frame them (`frame_ancestors_allow`): the
    review widget, framed by the storefront of the shop it belongs to, which only the request
    names. A response that names nobody keeps `frame-ancestors 'none'`."""
    view.framable_by = PER_RESPONSE  # type: ignore[attr-defined]
    return view


def frame_ancestors_allow(response: HttpResponseBase, sources: list[str]) -> HttpResponseBase:
    """Let `sources` (origins such as `https://shop.example`) frame this one response, as
    `framable_by` does for a whole view; nothing changes when `sources` is empty."""
    if sources:
        response._csp_replace = {"frame-ancestors": list(sources)}  # type: ignore[attr-defined]
        response.xframe_options_exempt = True  # type: ignore[attr-defined]
    response.framed_by = tuple(sources)  # type: ignore[attr-defined]
    return response


# Fetch metadata a browser sends with a request the page it came from made on its own site
# (or the customer typed, "none"); anything else came from another site.
_OWN_SITE = frozenset({"same-origin", "none"})


def _from_another_site(request: HttpRequest) -> bool:
    fetched_from = request.headers.get("Sec-Fetch-Site")
    if fetched_from is not None:
        return fetched_from not in _OWN_SITE
    origin = request.headers.get("Origin")
    if origin is None:
        # Not a browser of this decade (they all send Sec-Fetch-Site, and Origin with every
        # cross-site POST): a client sending its own requests, with nothing a cookie lends it.
        return False
    own = f"{request.scheme}://{request.get_host()}"
    return origin != own and origin not in settings.CSRF_TRUSTED_ORIGINS


def link_post(view: View) -> View:
    """For a POST authorised by the signed token in its own address (a customer's link), not by
    a cookie: no CSRF cookie is needed, because another site cannot forge the request without
    knowing the token, and the page that holds the form then sets no cookie either. What
    stays refused is a form another site makes a browser send (`Sec-Fetch-Site`, else
    `Origin`): a 403 that changes nothing."""

    @csrf_exempt
    @wraps(view)
    def checked(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        if request.method not in ("GET", "HEAD", "OPTIONS") and _from_another_site(request):
            return HttpResponseForbidden("This form was sent from another site.")
        return view(request, *args, **kwargs)

    return checked
