"""Messages about a return: requested, approved (with the slip), rejected (with why), received
and resolved (what the customer got back). Each is about the return, so a repeated event
schedules nothing more.

Notifications reads returns through `returns.selectors` only (a read; returns never imports
notifications, it publishes domain events this app subscribes to)."""

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings

from notifications.models import Flow
from notifications.services.planning import Plan, order_context
from orders.links import tracking_page_url
from orders.models import Order
from returns.selectors import return_request_for_message

if TYPE_CHECKING:  # type hints only: every read goes through returns.selectors
    from returns.models import ReturnRequest

RETURN_KINDS = frozenset(
    {"return_requested", "return_approved", "return_rejected", "return_received", "return_resolved"}
)

# What the customer does with their parcel, per return method (ReturnMethod's values).
METHOD_INSTRUCTIONS = {
    "drop_off": (
        "Pack the items, print the return slip and stick it on the parcel, then drop it off "
        "at a carrier point."
    ),
    "pickup": (
        "Pack the items, print the return slip and stick it on the parcel: the carrier will "
        "pick it up from your address."
    ),
    "keep_item": "You do not need to send anything back: please keep the item.",
}
_NO_SLIP = frozenset({"keep_item"})


# Built as strings, the portal's paths (returns.portal.urls): the token is the order's
# tracking token.
def return_page_url(order: Order, rma: str) -> str:
    """The customer's page of this return."""
    return f"{settings.PUBLIC_BASE_URL}/returns/{order.tracking_token}/r/{rma}/"


def return_slip_url(order: Order, rma: str) -> str:
    return f"{return_page_url(order, rma)}slip/"


def _amount(value: Decimal) -> str:
    """Money as the templates show it; blank when nothing, so `{% if refund_total %}` reads."""
    return str(value) if value else ""


def return_context(request: "ReturnRequest", order: Order) -> dict[str, Any]:
    """The plain values a message about this return may use (on top of the order's)."""
    policy = getattr(request, "policy", None)
    exchange = request.exchange_order
    has_slip = request.method not in _NO_SLIP
    return {
        "rma": request.rma,
        "return_items": [
            {
                "quantity": item.quantity,
                "title": item.line_item.title,
                "variant_title": item.line_item.variant_title,
                "reason": item.reason.label,
                "resolution": item.get_resolution_display(),
                "exchange_variant_title": item.exchange_variant.title
                if item.exchange_variant
                else "",
                "amount": str(item.amount),
            }
            for item in request.items.all()
        ],
        "return_method": request.get_method_display(),
        "method_instructions": METHOD_INSTRUCTIONS.get(request.method, ""),
        "return_instructions": policy.instructions.strip() if policy else "",
        "return_address": policy.return_address.strip() if policy and has_slip else "",
        "slip_url": return_slip_url(order, request.rma) if has_slip else "",
        "returns_url": return_page_url(order, request.rma),
        "refund_total": _amount(request.refund_total),
        "credit_total": _amount(request.credit_total),
        "fee_total": _amount(request.fee_total),
        "status_reason": request.status_reason,
        "exchange_order_number": exchange.number if exchange else "",
        "exchange_tracking_url": tracking_page_url(exchange) if exchange else "",
    }


def _is_moot(kind: str, status: str) -> bool:
    """A message the return has already moved past by the time its event is handled. "We got
    your request" is moot once it is approved, rejected or cancelled (an auto-approved return
    gets the approval alone, with its slip); the approval is moot once cancelled."""
    if kind == "return_requested":
        return status != "requested"
    if kind == "return_approved":
        return status == "cancelled"
    return False


def return_plans(
    *, flows: list[Flow], order: Order, return_id: int, now: datetime
) -> list[tuple[Flow, Plan]]:
    """What each flow a return event started owes: one message about the return, due
    `flow.delay` from now, unless the return has already moved past it."""
    request = return_request_for_message(return_id=return_id)
    if request is None or request.order_id != order.pk:
        return []
    context = order_context(order) | return_context(request, order)
    return [
        (flow, Plan(about=("return", request.pk), due=now + flow.delay, context=context))
        for flow in flows
        if not _is_moot(flow.kind, request.status)
    ]
