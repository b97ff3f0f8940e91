"""The order lookup at `/track/`: order number plus email or postcode."""

from django.http import Http404, HttpRequest, HttpResponse


def tracking_lookup(request: HttpRequest) -> HttpResponse:
    raise Http404  # built next: the form, the identical failure answer and the rate limits
