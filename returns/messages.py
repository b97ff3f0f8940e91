"""What the customer hears about their return: requested, approved (with the slip), rejected
(with why), received and resolved (what they got back). Each message is about the return, so a
repeated event schedules nothing more.

`returns` publishes the events that start them (`returns.events`), so its kinds are declared
here, once, in the kernel's terms (`postpurchase.message_kinds`), with their default templates
in this app (`returns/templates/notifications/return_*/`), and registered from
`ReturnsConfig.ready()`: the messaging engine knows no return. Returns are read through
`returns.selectors`; what a cancelled return made moot is cancelled through the engine's public
services."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from notifications.services import messages_cancel
from orders.links import tracking_page_url
from orders.messages import ORDER_VARIABLES, order_context
from orders.models import Channel, Order, Purpose
from postpurchase.events import Event
from postpurchase.message_kinds import MessageKind, MessagePlan, PlanRequest, TemplateVariable
from postpurchase.shell.customer import customer_locale
from returns.events import ReturnEventName
from returns.selectors import (
    ReturnForMessage,
    return_request_for_message,
    return_request_latest_for_message,
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


def return_context(found: ReturnForMessage, order: Order) -> dict[str, Any]:
    """The plain values a message about this return may use (on top of the order's)."""
    request, policy = found.request, found.policy
    exchange = request.exchange_order
    has_slip = request.method not in _NO_SLIP
    # Messages keep plain values: the time is written as the customer reads it, in their
    # zone and language (as their pages show it), when the message is planned.
    with customer_locale(customer=order.customer, shop=order.shop).active():
        requested_at = formats.date_format(
            timezone.localtime(request.created_at), "DATETIME_FORMAT"
        )
    return {
        "rma": request.rma,
        "requested_at": requested_at,
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


def return_plans(request: PlanRequest) -> list[MessagePlan]:
    """One message about the return the event names, `delay` from now, unless the return has
    already moved past it or is not the order's."""
    order: Order = request.order
    found = return_request_for_message(return_id=request.event.payload["return_id"])
    if found is None or found.request.order_id != order.pk:
        return []
    if _is_moot(request.kind, found.request.status):
        return []
    context = order_context(order) | return_context(found, order)
    due = request.now + request.delay
    return [MessagePlan(about=("return", found.request.pk), due=due, context=context)]


def return_preview_context(order: Order) -> dict[str, Any]:
    """What the template editor previews a return message with: the order's own values and
    its latest return's."""
    found = return_request_latest_for_message(order_id=order.pk)
    context = order_context(order)
    return (context | return_context(found, order)) if found is not None else context


def return_cancelled_cancel_messages(event: Event) -> int:
    """A cancelled return's messages still waiting are moot."""
    return messages_cancel(
        about=("return", event.payload["return_id"]), reason="the return was cancelled"
    )


# --- What templates about a return may use ---------------------------------------------------

_RETURN_VARIABLES = (
    TemplateVariable(
        "rma", "The return's number (RMA) the customer and the slip show", "R1001-3F2A"
    ),
    TemplateVariable(
        "return_items",
        "The items coming back: each has quantity, title, variant_title, reason, resolution "
        "(e.g. Refund to the original payment), exchange_variant_title (may be blank) and amount",
        [
            {
                "quantity": 1,
                "title": "Green tea",
                "variant_title": "250 g",
                "reason": "Changed my mind",
                "resolution": "Refund to the original payment",
                "exchange_variant_title": "",
                "amount": "18.00",
            }
        ],
    ),
    TemplateVariable(
        "requested_at",
        "When the customer asked for the return, in their time zone",
        "Dec. 6, 2026, 7:30 p.m.",
    ),
    TemplateVariable(
        "return_method", "How the items come back, e.g. Drop off at a carrier point", "Drop off"
    ),
    TemplateVariable(
        "refund_total", "What is refunded to the original payment (blank when nothing)", "13.05"
    ),
    TemplateVariable("credit_total", "What is given as store credit (blank when nothing)", "19.80"),
    TemplateVariable("fee_total", "The return fee deducted (blank when none)", "4.95"),
    TemplateVariable(
        "returns_url",
        "Link to the return's page",
        "https://example.com/returns/4mKx…/r/R1001-3F2A/",
    ),
)
_RETURN_SLIP_VARIABLES = (
    TemplateVariable(
        "method_instructions",
        "What the customer does with the parcel for the return method",
        "Pack the items, print the return slip and stick it on the parcel, then drop it off "
        "at a carrier point.",
    ),
    TemplateVariable(
        "return_instructions", "The shop's own return instructions (may be blank)", "Pack well."
    ),
    TemplateVariable(
        "return_address", "Where the parcel goes (blank when nothing is sent back)", "1 Tea Lane"
    ),
    TemplateVariable(
        "slip_url",
        "Link to the printable return slip (blank when nothing is sent back)",
        "https://example.com/returns/4mKx…/r/R1001-3F2A/slip/",
    ),
)
_EXCHANGE_VARIABLES = (
    TemplateVariable(
        "exchange_order_number",
        "The order sending the replacement items (blank when nothing is exchanged)",
        "#1001-X7",
    ),
    TemplateVariable(
        "exchange_tracking_url",
        "Link to the replacement order's tracking page (blank when nothing is exchanged)",
        "https://example.com/track/7pQz…/",
    ),
)
_STATUS_REASON = TemplateVariable(
    "status_reason", "Why the return was rejected, as staff wrote it", "Past the window"
)
_RETURN_UPDATE_WHATSAPP = ("customer_first_name", "rma", "returns_url")


def _on_return(
    event: ReturnEventName,
    label: str | Promise,
    useful_for: timedelta,
    *extra: TemplateVariable,
    whatsapp: tuple[str, ...] = _RETURN_UPDATE_WHATSAPP,
) -> MessageKind:
    """A transactional message about a return when it reaches a step, started by the event of
    the same name (e.g. `return_approved`)."""
    return MessageKind(
        name=str(event),
        label=label,
        trigger=event,
        channels=(Channel.EMAIL.value, Channel.SMS.value),
        purpose=Purpose.TRANSACTIONAL,
        useful_for=useful_for,
        variables=(*ORDER_VARIABLES, *_RETURN_VARIABLES, *extra),
        planner=return_plans,
        preview_context=return_preview_context,
        whatsapp_variables=whatsapp,
    )


# Each step the customer waits on. The approval carries the slip, so it stays useful for longer
# than the other steps.
KINDS: tuple[MessageKind, ...] = (
    _on_return(ReturnEventName.REQUESTED, _("Return requested"), timedelta(days=2)),
    _on_return(
        ReturnEventName.APPROVED,
        _("Return approved"),
        timedelta(days=7),
        *_RETURN_SLIP_VARIABLES,
        whatsapp=("customer_first_name", "rma", "slip_url"),
    ),
    _on_return(ReturnEventName.REJECTED, _("Return rejected"), timedelta(days=7), _STATUS_REASON),
    _on_return(ReturnEventName.RECEIVED, _("Return received"), timedelta(days=3)),
    _on_return(
        ReturnEventName.RESOLVED, _("Return resolved"), timedelta(days=7), *_EXCHANGE_VARIABLES
    ),
)
