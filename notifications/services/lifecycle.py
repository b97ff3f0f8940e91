"""What the order's domain events mean for the customer's messages."""

from collections.abc import Callable

from django.utils import timezone

from notifications.flows import flows_for
from notifications.models import Flow, Message
from notifications.services.followups import care_guide_plans, review_request_plans
from notifications.services.planning import (
    Plan,
    flow_schedule,
    order_context,
    shipment_context,
)
from notifications.services.recommendations import recommendations_context
from notifications.services.replenishment import (
    replenishment_cancel_on_reorder,
    replenishment_plans,
)
from notifications.services.returns import return_plans
from notifications.services.scheduling import messages_cancel
from orders.events import Event
from orders.models import Order, Shipment

__all__ = [
    "event_schedule_messages",
    "order_cancelled_cancel_messages",
    "order_context",
    "order_placed_cancel_replenishment",
    "return_cancelled_cancel_messages",
    "shipment_context",
]

# Messages that suggest what is often bought with the order's products.
_RECOMMENDING = frozenset({"order_confirmation", "shipment_delivered"})


def _plan_now(flow: Flow, order: Order, shipment: Shipment | None) -> list[Plan]:
    """The default: one message about the order (or the parcel) `flow.delay` from now."""
    context = order_context(order)
    about: tuple[str, int] = ("order", order.pk)
    if shipment is not None:
        context |= shipment_context(shipment)
        about = ("shipment", shipment.pk)
    if flow.kind in _RECOMMENDING:
        context["recommendations"] = recommendations_context(order)
    return [Plan(about=about, due=timezone.now() + flow.delay, context=context)]


def _need_shipment(
    plans: Callable[..., list[Plan]],
) -> Callable[[Flow, Order, Shipment | None], list[Plan]]:
    def plan(flow: Flow, order: Order, shipment: Shipment | None) -> list[Plan]:
        return plans(flow=flow, order=order, shipment=shipment) if shipment else []

    return plan


# Flows whose messages are timed from delivery, or say more than the event's order and
# parcel; every other kind is planned by `_plan_now`.
_PLANNERS: dict[str, Callable[[Flow, Order, Shipment | None], list[Plan]]] = {
    "care_guide": _need_shipment(care_guide_plans),
    "replenishment": _need_shipment(replenishment_plans),
    "review_request": lambda flow, order, _shipment: review_request_plans(flow=flow, order=order),
}


def event_schedule_messages(event: Event) -> list[Message]:
    """Schedule what every enabled flow this order, shipment or return event starts owes the
    customer. A shipment event's messages are about the shipment, so a split order gets one per
    parcel; a return event's are about the return, so an order returned twice gets two."""
    flows = flows_for(shop_id=event.shop_id, trigger=event.name, payload=event.payload)
    if not flows:
        return []
    order = (
        Order.objects.select_related("shop", "customer")
        .prefetch_related("line_items")
        .get(pk=event.payload["order_id"])
    )
    return_id = event.payload.get("return_id")
    if return_id:
        planned = return_plans(flows=flows, order=order, return_id=return_id, now=timezone.now())
        return [
            message
            for flow, plan in planned
            for message in flow_schedule(flow=flow, order=order, plan=plan)
        ]
    shipment = None
    shipment_id = event.payload.get("shipment_id")
    if shipment_id:
        shipment = Shipment.objects.get(pk=shipment_id, order=order)
    scheduled = []
    for flow in flows:
        planner = _PLANNERS.get(flow.kind, _plan_now)
        for plan in planner(flow, order, shipment):
            scheduled += flow_schedule(flow=flow, order=order, plan=plan)
    return scheduled


def order_cancelled_cancel_messages(event: Event) -> int:
    return messages_cancel(order_id=event.payload["order_id"], reason="the order was cancelled")


def return_cancelled_cancel_messages(event: Event) -> int:
    return messages_cancel(
        about=("return", event.payload["return_id"]), reason="the return was cancelled"
    )


def order_placed_cancel_replenishment(event: Event) -> int:
    return replenishment_cancel_on_reorder(order_id=event.payload["order_id"])
