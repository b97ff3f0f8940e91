"""What domain events mean for the customer's messages: the order's and its parcels' are
planned here; an app whose events are about objects of its own (returns: a return) registers
the planner that knows them (`event_planner_register`), so notifications imports no app above
it."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from django.utils import timezone

from notifications.engine.kinds import flows_for
from notifications.engine.planning import (
    Plan,
    flow_schedule,
    order_context,
    shipment_context,
)
from notifications.engine.scheduling import messages_cancel
from notifications.flows.followups import care_guide_plans, review_request_plans
from notifications.flows.recommendations import recommendations_context
from notifications.flows.replenishment import (
    replenishment_cancel_on_reorder,
    replenishment_plans,
)
from notifications.models import Flow, Message
from orders.models import Order, Shipment
from postpurchase.events import Event

__all__ = [
    "event_planner_register",
    "event_schedule_messages",
    "order_cancelled_cancel_messages",
    "order_context",
    "order_placed_cancel_replenishment",
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


class EventPlanner(Protocol):
    """What each flow an app's event started owes: (flow, plan) pairs, from the event's
    payload; none when the object has moved past the message or is not the order's."""

    def __call__(
        self, *, flows: list[Flow], order: Order, payload: dict[str, Any], now: datetime
    ) -> list[tuple[Flow, Plan]]: ...


_event_planners: dict[str, EventPlanner] = {}


def event_planner_register(*, event: str, planner: EventPlanner) -> None:
    """Plan the messages of the flows `event` starts with `planner`. Call from the `ready()` of
    the app that declares the event: its messages are about that app's objects."""
    _event_planners[event] = planner


def event_schedule_messages(event: Event) -> list[Message]:
    """Schedule what every enabled flow this order, shipment or other app's event starts owes
    the customer. A shipment event's messages are about the shipment, so a split order gets one
    per parcel; a return event's are about the return (its app's planner says so), so an order
    returned twice gets two."""
    flows = flows_for(shop_id=event.shop_id, trigger=event.name, payload=event.payload)
    if not flows:
        return []
    order = (
        Order.objects.select_related("shop", "customer")
        .prefetch_related("line_items")
        .get(pk=event.payload["order_id"])
    )
    planner = _event_planners.get(event.name)
    if planner is not None:
        planned = planner(flows=flows, order=order, payload=event.payload, now=timezone.now())
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
        plans = _PLANNERS.get(flow.kind, _plan_now)
        for plan in plans(flow, order, shipment):
            scheduled += flow_schedule(flow=flow, order=order, plan=plan)
    return scheduled


def order_cancelled_cancel_messages(event: Event) -> int:
    return messages_cancel(order_id=event.payload["order_id"], reason="the order was cancelled")


def order_placed_cancel_replenishment(event: Event) -> int:
    return replenishment_cancel_on_reorder(order_id=event.payload["order_id"])
