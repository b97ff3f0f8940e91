"""The customer's returns portal: find the order, choose what goes back, review, confirm, then
follow the return and print its slip.

Public like the tracking page: the order's unguessable tracking token is the customer's key,
and `/returns/` finds it with the same lookup (and the same two limits) as `/track/`.

Two steps without JavaScript: "Review" checks the choices with `return_quote` and shows exactly
what comes back, carrying every choice in hidden fields; "Confirm return" files it. A file
input cannot be carried in a hidden field, so a photo sent with "Review" is kept in the cache
under the form's one-time submission key (bytes and content type, 30 minutes) and read back
on "Confirm"; if it has expired by then, the service asks for it again and the form returns
with the choices kept."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import segno
from django.core.cache import cache
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from orders.models import LineItem, Order, Variant
from orders.photos import Photo
from orders.tracking.lookup import LookupPage, order_lookup_respond
from orders.tracking.page import TrackedOrder, order_page_context, tracking_order_get
from orders.tracking.ratelimit import RateLimit
from orders.tracking.views import tracking_link_not_found
from postpurchase.exceptions import DomainError
from postpurchase.shell.customer import customer_page_headers
from postpurchase.tokens import new_public_token, sha256_hex
from returns.models import Resolution, ReturnPolicy, ReturnRequest
from returns.portal.forms import (
    BLOCKED_LABELS,
    METHOD_INSTRUCTIONS,
    METHOD_LABELS,
    RESOLUTION_LABELS,
    STATUS_LABELS,
    ReturnForm,
)
from returns.portal.selectors import (
    return_reasons_active,
    return_request_for_order,
    return_request_for_submission,
    return_requests_for_order,
)
from returns.services import (
    Quote,
    ReturnableLine,
    return_policy_for,
    return_quote,
    return_request_cancel,
    return_request_create,
    returnable_lines,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Each POST may decode photos: room for a customer correcting a few mistakes, none for a script.
SUBMIT_LIMIT_PER_ORDER = RateLimit("returns-submit", limit=30, window=60 * 60)
PHOTOS_KEPT_FOR = 30 * 60


def _see_other(url: str) -> HttpResponse:
    response = HttpResponseRedirect(url)
    response.status_code = 303  # the browser GETs the next page, never re-POSTs
    return response


def _render(
    request: HttpRequest, tracked: TrackedOrder, template: str, status: int = 200, **context
) -> HttpResponse:
    order = tracked.order
    context = {
        **order_page_context(tracked),
        "currency": order.currency,
        "start_url": reverse("returns:start", args=[order.tracking_token]),
        **context,
    }
    return render(request, f"returns/portal/{template}", context, status=status)


# --- /returns/: the lookup -----------------------------------------------------------------


RETURNS_LOOKUP = LookupPage(
    title=gettext_lazy("Return or exchange an item"),
    intro=gettext_lazy(
        "Enter your order number and the email address or postcode from your order to start "
        "a return."
    ),
    action="returns:lookup",
    destination=lambda order: reverse("returns:start", args=[order.tracking_token]),
)


@require_http_methods(["GET", "POST"])
def returns_lookup(request: HttpRequest) -> HttpResponse:
    # The tracking lookup's rules and counters, shared: trying here and there is one budget.
    return order_lookup_respond(request, RETURNS_LOOKUP)


# --- /returns/<token>/: choose, review, confirm ---------------------------------------------


def _photos_key(order: Order, submission_key: str) -> str:
    # Hashed: the key is whatever the browser sent, and only ever a short safe cache key.
    return f"returns:photos:{order.pk}:{sha256_hex(submission_key)[:32]}"


def _photos_kept(order: Order, submission_key: str) -> dict[int, Photo]:
    stored = cache.get(_photos_key(order, submission_key)) or {}
    return {int(pk): Photo(data, content_type) for pk, (data, content_type) in stored.items()}


def _photos_keep(order: Order, submission_key: str, photos: dict[int, Photo]) -> None:
    if not photos:
        return
    kept = _photos_kept(order, submission_key) | photos
    stored = {pk: (photo.data, photo.content_type) for pk, photo in kept.items()}
    cache.set(_photos_key(order, submission_key), stored, timeout=PHOTOS_KEPT_FOR)


@dataclass(frozen=True)
class BlockedLine:
    """A line of the order that cannot be returned, and why, in the customer's words."""

    line: LineItem
    label: "StrOrPromise"


@dataclass
class Choosing:
    """Everything the start page is built from."""

    policy: ReturnPolicy
    form: ReturnForm
    lines: list[ReturnableLine]

    @property
    def blocked(self) -> list[BlockedLine]:
        return [
            BlockedLine(entry.line, BLOCKED_LABELS.get(entry.blocked_by, entry.blocked_by))
            for entry in self.lines
            if not entry.is_returnable
        ]


def _choosing(
    request: HttpRequest, order: Order, *, bound: bool, initial: dict | None = None
) -> Choosing:
    policy = return_policy_for(order.shop)
    lines = returnable_lines(order, policy)
    reasons = return_reasons_active(shop=order.shop)
    if bound:
        form = ReturnForm(
            request.POST,
            request.FILES,
            lines=lines,
            reasons=reasons,
            policy=policy,
            currency=order.currency,
        )
    else:
        form = ReturnForm(
            initial=initial or {"submission_key": new_public_token()},
            lines=lines,
            reasons=reasons,
            policy=policy,
            currency=order.currency,
        )
    return Choosing(policy=policy, form=form, lines=lines)


def _start_page(
    request: HttpRequest, tracked: TrackedOrder, choosing: Choosing, status: int = 200
) -> HttpResponse:
    form = choosing.form
    key = form.data.get("submission_key", "") if form.is_bound else form.initial["submission_key"]
    photos_kept = _photos_kept(tracked.order, key) if key else {}
    groups = form.line_groups()
    for group in groups:
        group["photo_kept"] = group["entry"].line.pk in photos_kept
    return _render(
        request,
        tracked,
        "start.html",
        status=status,
        form=form,
        groups=groups,
        blocked=choosing.blocked,
        photos_kept=photos_kept,
        returns=[
            _summary(rr, tracked.order) for rr in return_requests_for_order(order=tracked.order)
        ],
    )


def _summary(return_request: ReturnRequest, order: Order) -> dict:
    return {
        "rma": return_request.rma,
        "status": return_request.status,
        "status_label": STATUS_LABELS.get(return_request.status, return_request.status),
        "created_at": return_request.created_at,
        "url": reverse("returns:detail", args=[order.tracking_token, return_request.rma]),
    }


def _review_rows(quote: Quote, choosing: Choosing) -> list[dict]:
    variants: dict[int, Variant] = {
        variant.pk: variant for entry in choosing.lines for variant in entry.exchange_variants
    }
    rows = []
    for item in quote.items:
        variant = variants.get(item.choice.exchange_variant_id or 0)
        rows.append(
            {
                "line": item.line,
                "quantity": item.choice.quantity,
                "reason": item.reason.label,
                "resolution": item.choice.resolution,
                "resolution_label": RESOLUTION_LABELS[item.choice.resolution],
                "variant": (variant.title or str(variant)) if variant else "",
                "comment": item.choice.comment,
                "has_photo": bool(item.choice.photo),
                "value": item.value,
                "amount": item.amount,
            }
        )
    return rows


def _hidden_fields(form: ReturnForm, sent: QueryDict) -> list[tuple[str, str]]:
    """Every choice as it was `sent`, for the confirm step; files cannot travel this way."""
    return [
        (name, value)
        for name in form.fields
        if not name.startswith("photo_")
        for value in sent.getlist(name)
    ]


def _review(request: HttpRequest, tracked: TrackedOrder) -> HttpResponse:
    order = tracked.order
    choosing = _choosing(request, order, bound=True)
    form = choosing.form
    if not form.is_valid():
        return _start_page(request, tracked, choosing, status=400)
    key = form.cleaned_data["submission_key"]
    method = form.cleaned_data["method"]
    kept = _photos_kept(order, key)
    try:
        quote = return_quote(
            order=order, items=form.item_choices(kept), method=method, policy=choosing.policy
        )
    except DomainError as exc:
        form.add_error(None, str(exc))
        _photos_keep(order, key, form.new_photos())  # a good photo need not be sent again
        return _start_page(request, tracked, choosing, status=400)
    _photos_keep(order, key, form.new_photos())
    chosen = {item.choice.resolution for item in quote.items}
    return _render(
        request,
        tracked,
        "review.html",
        quote=quote,
        rows=_review_rows(quote, choosing),
        method_label=METHOD_LABELS.get(method, method),
        instructions=METHOD_INSTRUCTIONS.get(method, ""),
        hidden=_hidden_fields(form, request.POST),
        chosen=chosen,
        # A fee only ever comes off money going back: an exchange alone pays none.
        pays_back=bool(chosen & {Resolution.REFUND, Resolution.STORE_CREDIT}),
    )


def _detail_url(order: Order, return_request: ReturnRequest) -> str:
    return reverse("returns:detail", args=[order.tracking_token, return_request.rma])


def _confirm(request: HttpRequest, tracked: TrackedOrder) -> HttpResponse:
    order = tracked.order
    key = request.POST.get("submission_key", "")
    # A second click on "Confirm" (or a reload) finds the return the first one filed.
    existing = return_request_for_submission(order=order, submission_key=key)
    if existing is not None:
        return _see_other(_detail_url(order, existing))
    choosing = _choosing(request, order, bound=True)
    form = choosing.form
    if not form.is_valid():
        return _start_page(request, tracked, choosing, status=400)
    try:
        return_request, _created = return_request_create(
            order=order,
            items=form.item_choices(_photos_kept(order, key)),
            method=form.cleaned_data["method"],
            submission_key=key,
        )
    except (DomainError, IntegrityError) as exc:
        # Two confirms at once: the one that lost finds what the winner filed.
        existing = return_request_for_submission(order=order, submission_key=key)
        if existing is not None:
            return _see_other(_detail_url(order, existing))
        if isinstance(exc, IntegrityError):
            raise
        form.add_error(None, str(exc))
        return _start_page(request, tracked, choosing, status=400)
    cache.delete(_photos_key(order, key))
    return _see_other(_detail_url(order, return_request))


def _submit_limited(request: HttpRequest, tracked: TrackedOrder) -> HttpResponse | None:
    verdict = SUBMIT_LIMIT_PER_ORDER.hit(str(tracked.order.pk))
    if verdict.allowed:
        return None
    response = _render(
        request, tracked, "limited.html", status=429, limited_minutes=verdict.retry_after_minutes
    )
    response["Retry-After"] = str(verdict.retry_after)
    return response


@require_http_methods(["GET", "POST"])
def returns_start(request: HttpRequest, token: str) -> HttpResponse:
    tracked = tracking_order_get(token)
    if tracked is None:
        return tracking_link_not_found(request)
    with tracked.locale.active():
        step = request.POST.get("step", "")
        if request.method != "POST":
            response = _start_page(request, tracked, _choosing(request, tracked.order, bound=False))
        elif limited := _submit_limited(request, tracked):
            response = limited
        elif step == "confirm":
            response = _confirm(request, tracked)
        elif step == "edit":
            # Back from the review with every choice (and the same key) as the starting point;
            # an unbound form, so nothing shows as an error before it is sent again.
            initial = request.POST.dict()
            initial.pop("csrfmiddlewaretoken", None)
            choosing = _choosing(request, tracked.order, bound=False, initial=initial)
            response = _start_page(request, tracked, choosing)
        else:
            response = _review(request, tracked)
    customer_page_headers(response, language=tracked.language, posts_form=True)
    return response


# --- /returns/<token>/r/<rma>/: the return, its slip ----------------------------------------


def _items(return_request: ReturnRequest) -> list[dict]:
    return [
        {
            "line": item.line_item,
            "quantity": item.quantity,
            "reason": item.reason.label,
            "resolution": item.resolution,
            "resolution_label": RESOLUTION_LABELS.get(item.resolution, item.resolution),
            "variant": (item.exchange_variant.title or str(item.exchange_variant))
            if item.resolution == Resolution.EXCHANGE and item.exchange_variant
            else "",
            "comment": item.comment,
            "value": item.value,
            "amount": item.amount,
        }
        for item in return_request.items.all()
    ]


def _detail_page(
    request: HttpRequest,
    tracked: TrackedOrder,
    return_request: ReturnRequest,
    status: int = 200,
    error: str = "",
) -> HttpResponse:
    policy = return_policy_for(tracked.order.shop)
    events = [
        {"at": event.at, "label": STATUS_LABELS.get(event.to_status, event.to_status)}
        for event in return_request.events.all()
    ]
    items = _items(return_request)
    chosen = {item["resolution"] for item in items}
    return _render(
        request,
        tracked,
        "detail.html",
        status=status,
        rr=return_request,
        chosen=chosen,
        pays_back=bool(chosen & {Resolution.REFUND, Resolution.STORE_CREDIT}),
        status_label=STATUS_LABELS.get(return_request.status, return_request.status),
        events=list(reversed(events)),  # newest first, as on the tracking page
        items=items,
        method_label=METHOD_LABELS.get(return_request.method, return_request.method),
        method_instructions=METHOD_INSTRUCTIONS.get(return_request.method, ""),
        policy=policy,
        is_cancellable=return_request.can_cancel,
        shows_slip=return_request.awaits_items,
        error=error,
    )


@require_http_methods(["GET", "POST"])
def returns_detail(request: HttpRequest, token: str, rma: str) -> HttpResponse:
    tracked = tracking_order_get(token)
    return_request = return_request_for_order(order=tracked.order, rma=rma) if tracked else None
    if tracked is None or return_request is None:
        return tracking_link_not_found(request)
    with tracked.locale.active():
        if request.method == "POST":
            try:
                return_request_cancel(return_request=return_request)
            except DomainError:
                response = _detail_page(
                    request,
                    tracked,
                    return_request,
                    status=400,
                    error=translation.gettext("This return can no longer be cancelled."),
                )
            else:
                response = _see_other(_detail_url(tracked.order, return_request))
        else:
            response = _detail_page(request, tracked, return_request)
    customer_page_headers(response, language=tracked.language, posts_form=True)
    return response


def _qr_svg(text: str) -> str:
    # Inline, so the slip prints with nothing fetched; segno escapes nothing we pass (an RMA is
    # letters, digits and '-').
    return segno.make(text, error="m").svg_inline(scale=4, border=4, title=text, omitsize=True)


@require_GET
def returns_slip(request: HttpRequest, token: str, rma: str) -> HttpResponse:
    tracked = tracking_order_get(token)
    return_request = return_request_for_order(order=tracked.order, rma=rma) if tracked else None
    if tracked is None or return_request is None:
        return tracking_link_not_found(request)
    with tracked.locale.active():
        policy = return_policy_for(tracked.order.shop)
        response = _render(
            request,
            tracked,
            "slip.html",
            rr=return_request,
            items=_items(return_request),
            policy=policy,
            method_label=METHOD_LABELS.get(return_request.method, return_request.method),
            qr_svg=mark_safe(_qr_svg(return_request.rma)),  # noqa: S308 - our own SVG
            units=sum(item.quantity for item in return_request.items.all()),
        )
    customer_page_headers(response, language=tracked.language)
    return response
