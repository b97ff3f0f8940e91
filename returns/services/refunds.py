"""Refunds to the original payment. The amount is recorded on the return when it is resolved;
paying it goes through a small adapter (`RefundGateway`): shops refund by hand in their payment
provider, or, for orders from Shopify with `RETURNS_SHOPIFY_REFUNDS` on and the shop's Admin
API token set, Shopify is asked to refund the returned lines (its refunds API: calculate, then
create with the calculated transactions, capped at our amount). The call runs in a task after
the return commits, and in three steps, as the outbox sends a message: claim the refund in a
short transaction, call Shopify outside any transaction, record the answer in another. No row
is locked while Shopify answers.

Shopify's REST refund create takes no idempotency key, so a refund is never asked for twice
blindly: a create whose outcome is unknown (the answer was lost, or Shopify failed while
handling it) is held for staff, and so is a claim older than any run can still be in its call
(the worker died mid-call). Only an ask that never reached Shopify (no connection, a 429, or any
failure of the calculation, which creates nothing) goes back to the queue to be asked again."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orders.models import OrderSource, Shop
from orders.shopify_admin import (
    ShopifyOutcomeUnknown,
    ShopifyRefused,
    ShopifyTransientError,
    admin_post,
    is_connected,
)
from returns.models import (
    SHOPIFY_PENDING,
    SHOPIFY_REFUSED,
    SHOPIFY_REQUESTING,
    SHOPIFY_UNKNOWN,
    ReturnRequest,
)

TIMEOUT_SECONDS = 10.0
# A claim this old belongs to a run that died: longer than the task's hard time limit (90 s),
# after which no run can still be waiting for Shopify.
IN_FLIGHT_TIMEOUT = timedelta(minutes=3)
_CHECK = "check the order's refunds in Shopify before refunding by hand"


# The refund's failures are the Admin API client's three kinds, under the names returns used
# before the client was shared: not created (ask again), refused, outcome unknown.
TransientRefundError = ShopifyTransientError
RefundRefused = ShopifyRefused
RefundOutcomeUnknown = ShopifyOutcomeUnknown


class RefundInFlight(Exception):
    """Another run claimed the refund and may still be asking Shopify; look again later."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(f"a refund request is in flight; look again in {retry_after}")
        self.retry_after = retry_after


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
    def _post(self, shop: Shop, path: str, body: dict, *, creates: bool = False) -> dict[str, Any]:
        # Refunds keep their own time limit, read at each call.
        return admin_post(shop, path, body, creates=creates, timeout=TIMEOUT_SECONDS)

    def request_refund(self, *, return_request: ReturnRequest, amount: Decimal) -> RefundResult:
        order, shop = return_request.order, return_request.order.shop
        if not is_connected(shop):
            # Removed from the shop since the refund was queued: nothing to ask Shopify with.
            raise RefundRefused("the shop has no Shopify domain or Admin API token any more")
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
            shop,
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
            shop,
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
            creates=True,
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
        and is_connected(order.shop)
    ):
        return ShopifyRefunds()
    return ManualRefunds()


def _refund_claim(return_id: int) -> ReturnRequest | None:
    """Claim a refund to ask Shopify for, in a short transaction of its own; None when there
    is nothing to ask (done, refused, held) or another run holds it. A claim left by a run
    that died is held for staff here: that run may have been answered."""
    with transaction.atomic():
        request = (
            ReturnRequest.objects.select_for_update()
            .select_related("order__shop")
            .get(pk=return_id)
        )
        if request.refund_reference == SHOPIFY_REQUESTING:
            # `updated_at` is when the claim was made (a resolved return changes no more).
            waited = timezone.now() - request.updated_at
            if waited < IN_FLIGHT_TIMEOUT:
                raise RefundInFlight(IN_FLIGHT_TIMEOUT - waited)
            _refund_record(
                request,
                SHOPIFY_UNKNOWN,
                f"the request to Shopify was interrupted; {_CHECK}",
            )
            return None
        if request.refund_reference != SHOPIFY_PENDING:
            return None
        request.refund_reference = SHOPIFY_REQUESTING
        request.save(update_fields=["refund_reference", "updated_at"])
        return request


def _refund_record(request: ReturnRequest, reference: str, reason: str = "") -> None:
    request.refund_reference = reference
    fields = ["refund_reference", "updated_at"]
    if reason:
        request.status_reason = reason[:500]
        fields.append("status_reason")
    request.save(update_fields=fields)


def _refund_settle(return_id: int, reference: str, reason: str = "") -> str:
    """Record Shopify's answer in a short transaction. It settles a claim, or a refund held
    meanwhile because the call outlived its claim: the answer says what happened."""
    with transaction.atomic():
        request = ReturnRequest.objects.select_for_update().get(pk=return_id)
        if request.refund_reference in (SHOPIFY_REQUESTING, SHOPIFY_UNKNOWN):
            _refund_record(request, reference, reason)
        return request.refund_reference


def return_refund_request(*, return_id: int) -> str:
    """Ask Shopify to pay a resolved return's refund, once: claim, call, record. Returns
    where the refund stands (`shopify:<id>` once paid). Raises TransientRefundError when
    asking again later is safe, RefundInFlight while another run may be asking."""
    claimed = _refund_claim(return_id)
    if claimed is None:
        return ReturnRequest.objects.values_list("refund_reference", flat=True).get(pk=return_id)
    try:
        result = ShopifyRefunds().request_refund(
            return_request=claimed, amount=claimed.refund_total
        )
    except RefundRefused as refused:
        return _refund_settle(return_id, SHOPIFY_REFUSED, str(refused))
    except RefundOutcomeUnknown as unknown:
        return _refund_settle(
            return_id,
            SHOPIFY_UNKNOWN,
            f"{unknown}; {_CHECK}",
        )
    except TransientRefundError:
        # Nothing was created: give the claim back, so that the retry asks again.
        with transaction.atomic():
            ReturnRequest.objects.filter(pk=return_id, refund_reference=SHOPIFY_REQUESTING).update(
                refund_reference=SHOPIFY_PENDING, updated_at=timezone.now()
            )
        raise
    except Exception as error:
        # Anything else (a time limit, a surprising answer) may have struck after Shopify
        # created the refund: held for staff, never asked again on its own.
        _refund_settle(return_id, SHOPIFY_UNKNOWN, f"the request failed ({error!r}); {_CHECK}")
        raise
    return _refund_settle(return_id, result.reference)
