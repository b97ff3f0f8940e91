"""Reporting a problem with an order from its tracking page."""

from django.http import Http404, HttpRequest, HttpResponse


def tracking_problem(request: HttpRequest, token: str) -> HttpResponse:
    raise Http404  # built next: the form, the validated photo, the email to the shop
