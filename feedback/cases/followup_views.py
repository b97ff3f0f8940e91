"""The customer's answer to "did we make it right?": one tap on a link from the follow-up
message, no login. The link is signed and names the resolution; the first answer stands, so a
second tap (or the other button) shows the answer already given."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET

from feedback.cases.services import case_followup_answer
from feedback.cases.tokens import resolution_id_from_token
from feedback.models import CaseResolution
from orders.branding import shop_brand
from postpurchase.shell.customer import customer_locale, customer_page_headers

_ANSWERS = {"yes": True, "no": False}


def _not_found(request: HttpRequest) -> HttpResponse:
    """A forged, mistyped or expired link: a customer page saying so, in their language."""
    language = translation.get_language_from_request(request)
    with translation.override(language):
        response = render(
            request, "feedback/cases/followup_not_found.html", {"language": language}, status=404
        )
    customer_page_headers(response, language=language)
    return response


@require_GET
def case_followup(request: HttpRequest, token: str, answer: str) -> HttpResponse:
    resolution_id = resolution_id_from_token(token)
    if answer not in _ANSWERS or resolution_id is None:
        return _not_found(request)
    if not CaseResolution.objects.filter(pk=resolution_id).exists():
        return _not_found(request)
    resolution = case_followup_answer(resolution_id=resolution_id, made_right=_ANSWERS[answer])
    case = resolution.case
    locale = customer_locale(customer=case.customer, shop=case.shop)
    with locale.active():
        response = render(
            request,
            "feedback/cases/followup.html",
            {
                "shop": case.shop,
                "brand": shop_brand(case.shop),
                "language": locale.language,
                "made_right": resolution.made_right,
                "changed": resolution.made_right != _ANSWERS[answer],
            },
        )
    customer_page_headers(response, language=locale.language)
    return response
