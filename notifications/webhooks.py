"""Twilio's callbacks: delivery status and customers' texts, verified before anything else."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from notifications.engine.receipts.twilio import twilio_inbound_record, twilio_status_record


def _signature_is_valid(request: HttpRequest) -> bool:
    """Twilio signs the exact public URL it called plus the POSTed form; behind a proxy the
    request's own idea of its URL differs, so it is rebuilt from PUBLIC_BASE_URL."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        return False
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    return validator.validate(url, request.POST.dict(), signature)


def _forbidden() -> JsonResponse:
    return JsonResponse({"error": "invalid signature"}, status=403)


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    if not _signature_is_valid(request):
        return _forbidden()
    outcome = twilio_status_record(payload=request.POST.dict())
    return JsonResponse({"status": outcome})


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    if not _signature_is_valid(request):
        return _forbidden()
    result = twilio_inbound_record(payload=request.POST.dict())
    message = f"<Message>{escape(result.reply)}</Message>" if result.reply else ""
    twiml = f'<?xml version="1.0" encoding="UTF-8"?><Response>{message}</Response>'
    return HttpResponse(twiml, content_type="text/xml")
