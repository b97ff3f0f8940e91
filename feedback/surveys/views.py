"""The survey's customer pages, reached by the order's signed feedback token (no login):

- `/feedback/<token>/score/<n>/` — the one-tap link of each score in the email. A GET records
  the score once: the first score wins, and a repeated tap, a mail scanner's fetch or a tap on
  another score changes nothing (the page then shows the score recorded). A HEAD records
  nothing. Then it redirects to the survey's page.
- `/feedback/<token>/` — one question per screen: the score (links again) while there is
  none; then thanks and the "why" (a plain form, posted back); then thanks.

A bad, tampered or expired (180 days) token, or an order with no survey, gets the friendly
"this link does not work" page with a 404. Both pages are rate limited per visitor's address."""

from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_http_methods

from feedback.models import SurveyAnswer, SurveyRequest
from feedback.surveys.context import survey_question, survey_scale_labels
from feedback.surveys.forms import SurveyCommentForm
from feedback.surveys.selectors import survey_request_for_token, survey_request_to_answer
from feedback.surveys.services import survey_answer_record, survey_comment_record
from orders.branding import shop_brand
from orders.tracking.lookup import client_address
from orders.tracking.ratelimit import RateLimit
from postpurchase.exceptions import DomainError
from postpurchase.shell.customer import customer_locale, customer_page_headers

# A person taps a score or two and writes one answer; a script probing tokens hits the limit.
# The visitor's address as the order lookup counts it: behind the deployment's own proxies
# (`TRUSTED_PROXY_COUNT`), the client they name, not the proxy every customer comes through.
PAGE_LIMIT_PER_ADDRESS = RateLimit("feedback-survey", limit=60, window=10 * 60)


def survey_link_not_found(request: HttpRequest) -> HttpResponse:
    language = translation.get_language_from_request(request)
    with translation.override(language):
        response = render(
            request, "feedback/surveys/not_found.html", {"language": language}, status=404
        )
    customer_page_headers(response, language=language)
    return response


def _limited(request: HttpRequest) -> HttpResponse | None:
    verdict = PAGE_LIMIT_PER_ADDRESS.hit(client_address(request))
    if verdict.allowed:
        return None
    language = translation.get_language_from_request(request)
    with translation.override(language):
        context = {"language": language, "limited_minutes": verdict.retry_after_minutes}
        response = render(request, "feedback/surveys/limited.html", context, status=429)
    response["Retry-After"] = str(verdict.retry_after)
    customer_page_headers(response, language=language)
    return response


def _page_url(token: str) -> str:
    return reverse("feedback:survey", args=[token])


def _see_other(url: str) -> HttpResponse:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


@require_http_methods(["GET", "HEAD"])
def survey_score(request: HttpRequest, token: str, score: int) -> HttpResponseBase:
    if limited := _limited(request):
        return limited
    survey = survey_request_to_answer(token)
    if survey is None or not survey.accepts_score(score):
        return survey_link_not_found(request)
    # A HEAD (link checkers, some mail scanners) only learns where the link goes. An answered
    # survey keeps its first score whatever is tapped, so a repeated tap writes nothing and
    # takes no lock: the service would find the answer and change nothing.
    if request.method == "GET" and not survey.is_answered:
        try:
            survey_answer_record(request=survey, score=score, channel="email")
        except DomainError:
            return survey_link_not_found(request)
    response = _see_other(_page_url(token))
    return customer_page_headers(response, language=translation.get_language())


def _answer_of(survey: SurveyRequest) -> SurveyAnswer | None:
    return SurveyAnswer.objects.filter(request=survey).first()


def _render(
    request: HttpRequest, survey: SurveyRequest, token: str, language: str, **context: object
) -> HttpResponse:
    shop, order = survey.shop, survey.order
    low, high = survey.scale
    low_label, high_label = survey_scale_labels(survey.kind)
    context = {
        "shop": shop,
        "brand": shop_brand(shop),
        "language": language,
        "order": order,
        "survey": survey,
        "question": survey_question(survey.kind, shop.name),
        "scale_min": low,
        "scale_max": high,
        "low_label": low_label,
        "high_label": high_label,
        "scores": [
            {"score": n, "url": reverse("feedback:score", args=[token, n])}
            for n in range(low, high + 1)
        ],
        **context,
    }
    return render(request, "feedback/surveys/page.html", context)


@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponseBase:
    if limited := _limited(request):
        return limited
    survey = survey_request_for_token(token)
    if survey is None:
        return survey_link_not_found(request)
    locale = customer_locale(customer=survey.customer, shop=survey.shop)
    with locale.active():
        answer = _answer_of(survey)
        form = SurveyCommentForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and answer is not None:
            if answer.has_comment:
                return _see_other(_page_url(token))
            if form.is_valid():
                survey_comment_record(answer=answer, comment=form.cleaned_data["comment"])
                return _see_other(_page_url(token))
        response = _render(request, survey, token, locale.language, answer=answer, form=form)
        if request.method == "POST" and answer is not None:
            response.status_code = 400
    return customer_page_headers(response, language=locale.language, posts_form=True)
