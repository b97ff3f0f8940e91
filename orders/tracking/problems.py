"""Reporting a problem with an order from its tracking page.

Public like the page itself: the unguessable token is the customer's key. A valid report is
saved with its (re-encoded) photo, put on the order's timeline and emailed to the shop; then
the browser is sent to a confirmation (POST-redirect-GET), so a reload never resubmits."""

from datetime import datetime, timedelta

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from orders.models import Order, Shipment
from orders.services.problems import problem_report_create
from orders.tracking.page import TrackedOrder, order_page_context, tracking_order_get
from orders.tracking.problem_forms import ProblemReportForm
from orders.tracking.views import tracking_link_not_found
from postpurchase.exceptions import DomainError
from postpurchase.shell.customer import customer_page_headers
from postpurchase.tokens import new_public_token

TEMPLATE = "orders/tracking/problem.html"
# Attempts, not reports: each may make us decode a photo. Room for a customer who fixes a
# mistake or two, none for a script.
SUBMISSIONS_PER_DAY = 10


def _next_midnight(now: datetime) -> datetime:
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def _over_limit(order: Order, now: datetime) -> bool:
    """Count one attempt for the order today (UTC); True once past the day's allowance."""
    key = f"track:problem:{order.pk}:{now.date().isoformat()}"
    # add() starts the day's count with its expiry; incr() is atomic in Redis.
    cache.add(key, 0, timeout=int((_next_midnight(now) - now).total_seconds()) + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=60)
        count = 1
    return count > SUBMISSIONS_PER_DAY


def _shipments(order: Order) -> list[Shipment]:
    return list(order.shipments.order_by("shipped_at", "pk"))


def _render(
    request: HttpRequest,
    tracked: TrackedOrder,
    status: int = 200,
    **context: object,
) -> HttpResponse:
    return render(request, TEMPLATE, {**order_page_context(tracked), **context}, status=status)


def _submit(request: HttpRequest, tracked: TrackedOrder) -> HttpResponse:
    order = tracked.order
    now = timezone.now()
    if _over_limit(order, now):
        response = _render(request, tracked, status=429, limited=True)
        response["Retry-After"] = str(int((_next_midnight(now) - now).total_seconds()))
        return response
    form = ProblemReportForm(request.POST, request.FILES, shipments=_shipments(order))
    if form.is_valid():
        photo = form.cleaned_data["photo"]
        try:
            problem_report_create(
                order=order,
                kind=form.cleaned_data["kind"],
                description=form.cleaned_data["description"],
                shipment=form.cleaned_data.get("shipment"),
                photo=photo.data if photo else None,
                photo_content_type=photo.content_type if photo else "",
                submission_key=form.cleaned_data["submission_key"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            url = reverse("tracking:problem", args=[order.tracking_token]) + "?sent=1"
            response = HttpResponseRedirect(url)
            response.status_code = 303  # "see other": the browser follows with a GET
            return response
    # A browser cannot refill a file input: say so when the photo was fine but must be sent again.
    photo_again = bool(request.FILES.get("photo")) and "photo" not in form.errors
    return _render(request, tracked, status=400, form=form, photo_again=photo_again)


@require_http_methods(["GET", "POST"])
def tracking_problem(request: HttpRequest, token: str) -> HttpResponse:
    tracked = tracking_order_get(token)
    if tracked is None:
        return tracking_link_not_found(request)
    with tracked.locale.active():
        if request.method == "POST":
            response = _submit(request, tracked)
        elif request.GET.get("sent"):
            response = _render(request, tracked, sent=True)
        else:
            form = ProblemReportForm(
                initial={"submission_key": new_public_token()},
                shipments=_shipments(tracked.order),
            )
            response = _render(request, tracked, form=form)
    # The customer's words and photo, in a form that posts back.
    customer_page_headers(response, language=tracked.language, posts_form=True)
    return response
