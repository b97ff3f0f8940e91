"""Reference views for `make bench` (mounted under /bench/ with BENCH_ENDPOINTS=1): the
framework's ceiling and a one-row read, measured beside the real pages."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from orders.models import Order


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello")


def order_row(request: HttpRequest, pk: int) -> JsonResponse:
    order = Order.objects.only("pk", "status").get(pk=pk)
    return JsonResponse({"id": order.pk, "status": order.status})


urlpatterns = [
    path("hello", hello),
    path("order/<int:pk>", order_row),
]
