"""What the customer hears about their return: requested, approved (with the slip), rejected
(with why), received and resolved (what they got back). Each message is about the return, so a
repeated event schedules nothing more.

The messaging engine knows no return: at start-up this app hands it the planner of its events'
messages, the editor's preview of them, and the cancelling of what a cancelled return made
moot (`returns.apps`). Returns are read through `returns.selectors`."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from notifications.models import Flow
from notifications.services import messages_cancel
from notifications.services.planning import Plan, order_context
from orders.links import tracking_page_url
from orders.models import Order
from postpurchase.events import Event
from returns.events import ReturnEventName
from returns.selectors import (
    ReturnForMessage,
    return_request_for_message,
    return_request_latest_for_message,
)

# The events whose flows send a message about the return (of the same name as the kind).
MESSAGE_EVENTS = (
    ReturnEventName.REQUESTED,
    ReturnEventName.APPROVED,
    ReturnEventName.REJECTED,
    ReturnEventName.RECEIVED,
    ReturnEventName.RESOLVED,
)
RETURN_KINDS = frozenset(str(name) for name in MESSAGE_EVENTS)

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


def return_context(found: ReturnForMessage, order: Order) -> dict[str, Any]:
    """The plain values a message about this return may use (on top of the order's)."""
    request, policy = found.request, found.policy
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
    *, flows: list[Flow], order: Order, payload: Mapping[str, Any], now: datetime
) -> list[tuple[Flow, Plan]]:
    """What each flow a return event started owes: one message about the return, due
    `flow.delay` from now, unless the return has already moved past it."""
    found = return_request_for_message(return_id=payload["return_id"])
    if found is None or found.request.order_id != order.pk:
        return []
    request = found.request
    context = order_context(order) | return_context(found, order)
    return [
        (flow, Plan(about=("return", request.pk), due=now + flow.delay, context=context))
        for flow in flows
        if not _is_moot(flow.kind, request.status)
    ]


def return_preview_context(order: Order) -> dict[str, Any]:
    """What the template editor previews a return message with: the order's latest return."""
    found = return_request_latest_for_message(order_id=order.pk)
    return return_context(found, order) if found is not None else {}


def return_cancelled_cancel_messages(event: Event) -> int:
    """A cancelled return's messages still waiting are moot."""
    return messages_cancel(
        about=("return", event.payload["return_id"]), reason="the return was cancelled"
    )
