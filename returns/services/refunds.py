"""Refunds to the original payment. The amount is recorded on the return; paying it goes
through a small adapter (`RefundGateway`), so that a platform's refunds API can take over from
refunding by hand."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from returns.models import ReturnRequest


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


def refund_gateway_for(return_request: ReturnRequest) -> RefundGateway:
    """Every shop refunds by hand for now; a platform adapter (Shopify's refunds API) plugs in
    here, behind RETURNS_PLATFORM_REFUNDS."""
    return ManualRefunds()
