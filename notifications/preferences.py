"""The customer's message preferences page, reached from every message without logging in."""

from django.http import Http404, HttpRequest, HttpResponse

from notifications.services.links import customer_id_from_preferences_token


def preferences_page(request: HttpRequest, token: str) -> HttpResponse:
    if customer_id_from_preferences_token(token) is None:
        raise Http404("This link is not valid.")
    return HttpResponse("Preferences")
