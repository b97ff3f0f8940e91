"""`POST /webhooks/shopify/`: check who sent it, store it once, answer at once.

Shopify expects an answer within seconds and retries anything else, so the view only finds
the shop, checks the signature over the raw body, validates the payload and stores the
delivery; a Celery task applies it after commit.
"""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from orders.ingest.shopify import delivery_receive, shop_for_webhook, signature_is_valid
from orders.ingest.webhooks import webhook_refusal_record
from orders.models import WebhookProvider

# Kept with the delivery for ops and replays; the signature is not (it proves nothing later).
_KEPT_HEADERS = (
    "X-Shopify-Topic",
    "X-Shopify-Shop-Domain",
    "X-Shopify-Event-Id",
    "X-Shopify-Webhook-Id",
    "X-Shopify-API-Version",
    "X-Shopify-Triggered-At",
)


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@require_POST
def shopify_webhook(request: HttpRequest) -> JsonResponse:
    headers = request.headers
    shop = shop_for_webhook(headers.get("X-Shopify-Shop-Domain", ""))
    if shop is None:
        return _error("unknown shop", 404)
    signature = headers.get("X-Shopify-Hmac-Sha256", "")
    body = request.body
    if not signature_is_valid(secret=shop.shopify_webhook_secret, body=body, signature=signature):
        # Noted for the settings area's integrations tab: a wrong secret shows there.
        reason = "invalid signature" if signature else "missing signature"
        webhook_refusal_record(
            shop_id=shop.pk,
            provider=WebhookProvider.SHOPIFY,
            topic=headers.get("X-Shopify-Topic", ""),
            reason=reason,
        )
        return _error(reason, 401)
    event_id = headers.get("X-Shopify-Event-Id") or headers.get("X-Shopify-Webhook-Id", "")
    if not event_id or len(event_id) > 128:
        return _error("missing or invalid X-Shopify-Event-Id", 400)
    topic = headers.get("X-Shopify-Topic", "")
    if not topic or len(topic) > 64:
        return _error("missing or invalid X-Shopify-Topic", 400)
    receipt = delivery_receive(
        shop=shop,
        event_id=event_id,
        topic=topic,
        headers={name: headers[name] for name in _KEPT_HEADERS if name in headers},
        body=body,
    )
    if receipt.error is not None:
        return JsonResponse(receipt.error.as_dict(), status=400)
    return JsonResponse({"status": receipt.status})
