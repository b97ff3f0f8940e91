"""The buyer's review page, `/feedback/<token>/review/`: each delivered product of the order
with its own form (stars, title, text, photos, "first name only"); a product already reviewed
shows the review to edit. Public like the tracking page: the signed order token is the key.

Each form posts on its own and the browser is sent back with a GET (POST-redirect-GET): a
reload never resubmits. Works without JavaScript; the customer's language and zone come from
`customer_locale`."""

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_http_methods

from feedback.reviews.forms import ReviewForm
from feedback.reviews.selectors import ReviewableLine, review_order_for_token, reviewable_lines
from feedback.reviews.services import ReviewDraft, review_submit
from orders.branding import shop_brand
from orders.models import Order
from orders.tracking.ratelimit import RateLimit
from postpurchase.exceptions import DomainError
from postpurchase.shell.customer import CustomerLocale, customer_locale, customer_page_headers

TEMPLATE = "feedback/reviews/review_page.html"
# Each POST may decode photos: room for a customer editing a few reviews, none for a script.
SUBMIT_LIMIT_PER_ORDER = RateLimit("feedback-review-submit", limit=30, window=60 * 60)


def review_link_not_found(request: HttpRequest) -> HttpResponse:
    """A friendly 404 for a review link that was mistyped, tampered with or has expired."""
    language = translation.get_language_from_request(request)
    with translation.override(language):
        response = render(
            request, "feedback/reviews/not_found.html", {"language": language}, status=404
        )
    customer_page_headers(response, language=language)
    return response


def _prefix(entry: ReviewableLine) -> str:
    return f"line-{entry.line.pk}"


def _render(
    request: HttpRequest,
    order: Order,
    locale: CustomerLocale,
    *,
    bound: tuple[int, ReviewForm] | None = None,
    status: int = 200,
    **context: object,
) -> HttpResponse:
    entries = []
    for entry in reviewable_lines(order):
        if bound is not None and bound[0] == entry.line.pk:
            form = bound[1]
        else:
            form = ReviewForm(prefix=_prefix(entry), initial=ReviewForm.initial_from(entry.review))
        entries.append((entry, form))
    context = {
        "order": order,
        "shop": order.shop,
        "brand": shop_brand(order.shop),
        "language": locale.language,
        "entries": entries,
        "action": request.path,
        **context,
    }
    return render(request, TEMPLATE, context, status=status)


def _submit(request: HttpRequest, order: Order, locale: CustomerLocale) -> HttpResponse:
    verdict = SUBMIT_LIMIT_PER_ORDER.hit(str(order.pk))
    if not verdict.allowed:
        response = _render(request, order, locale, status=429, limited=verdict)
        response["Retry-After"] = str(verdict.retry_after)
        return response
    try:
        line_id = int(request.POST.get("line", ""))
    except ValueError:
        line_id = 0
    entry = next((e for e in reviewable_lines(order) if e.line.pk == line_id), None)
    if entry is None:
        return _render(request, order, locale, status=400, not_reviewable=True)
    form = ReviewForm(request.POST, request.FILES, prefix=_prefix(entry))
    if form.is_valid():
        data = form.cleaned_data
        draft = ReviewDraft(
            line_item_id=entry.line.pk,
            rating=int(data["rating"]),
            title=data["title"],
            body=data["body"],
            first_name_only=data["first_name_only"],
            photos=data["photos"],
        )
        try:
            review_submit(order=order, draft=draft)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            response = HttpResponseRedirect(f"{request.path}?saved={entry.line.pk}#saved")
            response.status_code = 303  # the browser follows with a GET
            return response
    return _render(request, order, locale, bound=(entry.line.pk, form), status=400)


def _saved(order: Order, raw: str | None) -> ReviewableLine | None:
    if not raw or not raw.isdigit():
        return None
    return next((e for e in reviewable_lines(order) if e.line.pk == int(raw)), None)


@require_http_methods(["GET", "POST"])
def review_page(request: HttpRequest, token: str) -> HttpResponse:
    order = review_order_for_token(token)
    if order is None:
        return review_link_not_found(request)
    locale = customer_locale(customer=order.customer, shop=order.shop)
    with locale.active():
        if request.method == "POST":
            response = _submit(request, order, locale)
        else:
            saved = _saved(order, request.GET.get("saved"))
            response = _render(request, order, locale, saved=saved)
    # The customer's words and photos, in forms that post back.
    customer_page_headers(response, language=locale.language, posts_form=True)
    return response
