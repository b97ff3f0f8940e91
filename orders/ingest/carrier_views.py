"""Carrier tracking webhooks: `POST /webhooks/carriers/<provider>/`.

Authenticate first (401, nothing stored), then store the delivery (400 with the field at fault
when it cannot be used) and answer at once; processing runs in Celery."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from orders.ingest import easypost
from orders.ingest.errors import PayloadError
from orders.models import WebhookProvider

# Credentials the sender may attach (basic auth on the URL, cookies) are never stored.
_UNSTORED_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


def _stored_headers(request: HttpRequest) -> dict[str, str]:
    return {
        name: value
        for name, value in request.headers.items()
        if name.lower() not in _UNSTORED_HEADERS
    }


def _easypost_receive(request: HttpRequest) -> JsonResponse:
    shop = easypost.shop_for_signature(
        body=request.body, signature=request.headers.get(easypost.SIGNATURE_HEADER, "")
    )
    if shop is None:
        return JsonResponse({"error": "missing or invalid signature"}, status=401)
    try:
        event, created = easypost.delivery_receive(
            shop=shop, body=request.body, headers=_stored_headers(request)
        )
    except PayloadError as exc:
        return JsonResponse(exc.as_dict(), status=400)
    if not created:
        return JsonResponse({"status": "duplicate"})
    return JsonResponse({"status": "ignored" if event.is_ignored else "accepted"})


_RECEIVERS: dict[str, Callable[[HttpRequest], JsonResponse]] = {
    WebhookProvider.EASYPOST: _easypost_receive,
}


@csrf_exempt
@require_POST
def carrier_webhook(request: HttpRequest, provider: str) -> HttpResponse:
    receiver = _RECEIVERS.get(provider)
    if receiver is None:
        return JsonResponse({"error": "unknown carrier provider", "provider": provider}, status=404)
    return receiver(request)
