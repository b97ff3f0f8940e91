"""Refunds to the original payment. The amount is recorded on the return when it is resolved;
paying it goes through a small adapter (`RefundGateway`): shops refund by hand in their payment
provider, or, for orders from Shopify with `RETURNS_SHOPIFY_REFUNDS` on and the shop's Admin
API token set, Shopify is asked to refund the returned lines (its refunds API: calculate, then
create with the calculated transactions, capped at our amount). The call runs in a task after
the return commits, never inside its transaction."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import requests
from django.conf import settings
from django.db import transaction

from orders.models import OrderSource
from returns.models import ReturnRequest

TIMEOUT_SECONDS = 10.0
SHOPIFY_PENDING = "shopify:pending"


class TransientRefundError(Exception):
    """The platform did not answer, or answered 429/5xx: worth asking again."""


class RefundRefused(Exception):
    """The platform refused the refund (4xx): staff must look at it."""


@dataclass(frozen=True)
class RefundResult:
    reference: str
    note: str


class RefundGateway(Protocol):
    def request_refund(self, *, return_request: ReturnRequest, amount: Decimal) -> RefundResult: ...


class ManualRefunds:
    """Staff pay the refund in their payment provider; the return records what to pay."""

    def request_refund(self, *, return_request: ReturnRequest, amount: Decimal) -> RefundResult:
        return RefundResult(
            reference="",
            note=f"refund {amount} {return_request.currency} to the original payment by hand",
        )


class ShopifyRefunds:
    def _post(self, shop_domain: str, token: str, path: str, body: dict) -> dict[str, Any]:
        base = settings.SHOPIFY_ADMIN_API_URL.format(domain=shop_domain)
        try:
            response = requests.post(
                f"{base}{path}",
                json=body,
                headers={"X-Shopify-Access-Token": token},
                timeout=TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            raise TransientRefundError(str(error)) from error
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientRefundError(f"Shopify answered {response.status_code}")
        if response.status_code >= 400:
            raise RefundRefused(
                f"Shopify refused the refund ({response.status_code}): {response.text[:300]}"
            )
        return response.json()

    def request_refund(self, *, return_request: ReturnRequest, amount: Decimal) -> RefundResult:
        order, shop = return_request.order, return_request.order.shop
        lines = [
            {
                "line_item_id": int(item.line_item.external_id),
                "quantity": item.quantity,
                "restock_type": "return",
            }
            for item in return_request.items.select_related("line_item")
            if item.resolution == "refund"
        ]
        path = f"/orders/{order.external_id}/refunds"
        calculated = self._post(
            shop.domain,
            shop.shopify_access_token,
            f"{path}/calculate.json",
            {"refund": {"currency": return_request.currency, "refund_line_items": lines}},
        )["refund"]
        left = amount
        transactions = []
        for suggested in calculated.get("transactions", []):
            part = min(Decimal(str(suggested["amount"])), left)
            if part <= 0:
                break
            transactions.append(
                {
                    "parent_id": suggested["parent_id"],
                    "amount": str(part),
                    "kind": "refund",
                    "gateway": suggested["gateway"],
                }
            )
            left -= part
        created = self._post(
            shop.domain,
            shop.shopify_access_token,
            f"{path}.json",
            {
                "refund": {
                    "currency": return_request.currency,
                    "notify": True,
                    "note": f"Return {return_request.rma}",
                    "refund_line_items": lines,
                    "transactions": transactions,
                }
            },
        )["refund"]
        return RefundResult(
            reference=f"shopify:{created['id']}",
            note=f"refund {amount - left} {return_request.currency} requested in Shopify",
        )


def refund_gateway_for(return_request: ReturnRequest) -> RefundGateway:
    order = return_request.order
    if (
        settings.RETURNS_SHOPIFY_REFUNDS
        and order.source == OrderSource.SHOPIFY
        and order.shop.domain
        and order.shop.shopify_access_token
    ):
        return ShopifyRefunds()
    return ManualRefunds()


def return_refund_request(*, return_id: int) -> str:
    """Ask the platform to pay a resolved return's refund, once: a return whose refund was
    already requested is left alone. Returns the reference."""
    with transaction.atomic():
        request = (
            ReturnRequest.objects.select_for_update()
            .select_related("order__shop")
            .get(pk=return_id)
        )
        if request.refund_reference != SHOPIFY_PENDING:
            return request.refund_reference
        # The row stays locked through the call: two tasks never both ask Shopify to pay.
        try:
            result = ShopifyRefunds().request_refund(
                return_request=request, amount=request.refund_total
            )
        except RefundRefused as refused:
            request.refund_reference = "shopify:refused"
            request.status_reason = str(refused)[:500]
            request.save(update_fields=["refund_reference", "status_reason", "updated_at"])
            return request.refund_reference
        request.refund_reference = result.reference
        request.save(update_fields=["refund_reference", "updated_at"])
        return result.reference
