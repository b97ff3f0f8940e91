"""The gift card's message: everything the engine needs to send it, declared once."""

from datetime import timedelta
from typing import Any

from orders.messages import ORDER_VARIABLES, order_context
from orders.models import Order
from postpurchase.message_kinds import MessageKind, MessagePlan, PlanRequest, TemplateVariable
from tests.giftcards.events import GIFT_CARD_ISSUED


def gift_card_plans(request: PlanRequest) -> list[MessagePlan]:
    """One message about the card the event names, `delay` after it was issued."""
    order: Order = request.order
    payload = request.event.payload
    context = order_context(order) | {"code": payload["code"], "amount": payload["amount"]}
    return [
        MessagePlan(
            about=("gift_card", payload["gift_card_id"]),
            due=request.now + request.delay,
            context=context,
        )
    ]


def gift_card_preview(order: Order) -> dict[str, Any]:
    return order_context(order)


KINDS = (
    MessageKind(
        name="gift_card_issued",
        label="Gift card issued",
        trigger=GIFT_CARD_ISSUED,
        channels=("email",),
        purpose="transactional",
        useful_for=timedelta(days=30),
        variables=(
            *ORDER_VARIABLES,
            TemplateVariable("code", "The gift card's code", "GIFT-0000-SAMPLE"),
            TemplateVariable("amount", "What the card is worth, e.g. 25.00", "25.00"),
        ),
        planner=gift_card_plans,
        preview_context=gift_card_preview,
        whatsapp_variables=("customer_first_name", "code"),
    ),
)
