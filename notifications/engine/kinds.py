"""The lifecycle flows every shop starts with, and turning a domain event into the messages
its flows owe the customer."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction

from notifications.models import Flow, Purpose
from orders.events import OrderEventName
from orders.models import Shop


@dataclass(frozen=True)
class FlowSpec:
    kind: str
    trigger: str
    channels: tuple[str, ...]
    purpose: str
    delay: timedelta = timedelta(0)
    useful_for: timedelta | None = None
    conditions: tuple[tuple[str, str], ...] = ()


_TEXTS = ("email", "sms")
_EMAIL = ("email",)

# Flows no domain event starts: periodic tasks find who is owed them. Their triggers are not
# event names, so `flows_for` never picks them for an event.
TRIGGER_CUSTOMER_DATE = "customer_date"
TRIGGER_SHIPMENT_OVERDUE = "shipment_overdue"
PERIODIC_TRIGGERS = frozenset({TRIGGER_CUSTOMER_DATE, TRIGGER_SHIPMENT_OVERDUE})


def _on_shipment_status(status: str, useful_for: timedelta) -> FlowSpec:
    """A transactional message when a shipment reaches `status`, e.g. `shipment_delivered`."""
    return FlowSpec(
        kind=f"shipment_{status}",
        trigger=OrderEventName.SHIPMENT_STATUS_CHANGED,
        channels=_TEXTS,
        purpose=Purpose.TRANSACTIONAL,
        useful_for=useful_for,
        conditions=(("to_status", status),),
    )


def _on_return(step: str, useful_for: timedelta) -> FlowSpec:
    """A transactional message about a return when it reaches `step`, e.g. `return_approved`,
    started by the returns app's event of the same name (named, not imported: notifications
    imports no app above it) and planned by the returns app (`returns.messages`)."""
    return FlowSpec(
        kind=f"return_{step}",
        trigger=f"return_{step}",
        channels=_TEXTS,
        purpose=Purpose.TRANSACTIONAL,
        useful_for=useful_for,
    )


DEFAULT_FLOWS: tuple[FlowSpec, ...] = (
    FlowSpec(
        kind="order_confirmation",
        trigger=OrderEventName.ORDER_PLACED,
        channels=_TEXTS,
        purpose=Purpose.TRANSACTIONAL,
        useful_for=timedelta(days=1),
    ),
    FlowSpec(
        kind="shipment_shipped",
        trigger=OrderEventName.SHIPMENT_CREATED,
        channels=_TEXTS,
        purpose=Purpose.TRANSACTIONAL,
        useful_for=timedelta(days=2),
    ),
    _on_shipment_status("out_for_delivery", timedelta(hours=8)),  # stale after the day
    _on_shipment_status("delivered", timedelta(days=2)),
    _on_shipment_status("exception", timedelta(days=3)),
    # Proactive apology for a parcel with no scan for days or past its estimated date, found
    # by the hourly check (notifications.flows.delays).
    FlowSpec(
        kind="shipment_delayed",
        trigger=TRIGGER_SHIPMENT_OVERDUE,
        channels=_TEXTS,
        purpose=Purpose.TRANSACTIONAL,
        useful_for=timedelta(days=2),
    ),
    # Returns: each step the customer waits on. The approval carries the slip, so it stays
    # useful for longer than the other steps.
    _on_return("requested", timedelta(days=2)),
    _on_return("approved", timedelta(days=7)),
    _on_return("rejected", timedelta(days=7)),
    _on_return("received", timedelta(days=3)),
    _on_return("resolved", timedelta(days=7)),
    # Follow-ups about the product in the customer's hands are timed from delivery.
    # Guides are long texts with formatting: email only.
    FlowSpec(
        kind="care_guide",
        trigger=OrderEventName.SHIPMENT_STATUS_CHANGED,
        channels=_EMAIL,
        purpose=Purpose.TRANSACTIONAL,
        delay=timedelta(days=3),
        useful_for=timedelta(days=7),
        conditions=(("to_status", "delivered"),),
    ),
    # One per order, once every parcel has arrived: `order_delivered` is published once.
    FlowSpec(
        kind="review_request",
        trigger=OrderEventName.ORDER_DELIVERED,
        channels=_EMAIL,
        purpose=Purpose.MARKETING,
        delay=timedelta(days=7),
        useful_for=timedelta(days=14),
    ),
    # For this flow the delay is a lead time: the reminder goes five days *before* the
    # predicted run-out (a flow's delay is never negative).
    FlowSpec(
        kind="replenishment",
        trigger=OrderEventName.SHIPMENT_STATUS_CHANGED,
        channels=_TEXTS,
        purpose=Purpose.MARKETING,
        delay=timedelta(days=5),
        useful_for=timedelta(days=10),
        conditions=(("to_status", "delivered"),),
    ),
    # The delay counts from the start of the customer's local day: sent from 10:00 their time.
    FlowSpec(
        kind="birthday",
        trigger=TRIGGER_CUSTOMER_DATE,
        channels=_TEXTS,
        purpose=Purpose.MARKETING,
        delay=timedelta(hours=10),
        useful_for=timedelta(hours=12),
        conditions=(("occasion", "birthday"),),
    ),
    FlowSpec(
        kind="first_order_anniversary",
        trigger=TRIGGER_CUSTOMER_DATE,
        channels=_TEXTS,
        purpose=Purpose.MARKETING,
        delay=timedelta(hours=10),
        useful_for=timedelta(hours=12),
        conditions=(("occasion", "first_order_anniversary"),),
    ),
)


def event_triggers() -> list[str]:
    """The domain events the default flows start on, whichever app publishes them."""
    return sorted({spec.trigger for spec in DEFAULT_FLOWS} - PERIODIC_TRIGGERS)


# What a flow's delay counts from, for the few flows where it is not "after the event".
_FROM_LOCAL_MIDNIGHT = (
    "Time after the start of the customer's local day (10 hours: from 10:00 their time)."
)
_DELAY_MEANINGS = {
    "replenishment": "How long before the customer is predicted to run out the reminder goes out.",
    "birthday": _FROM_LOCAL_MIDNIGHT,
    "first_order_anniversary": _FROM_LOCAL_MIDNIGHT,
}


def flow_delay_meaning(kind: str) -> str:
    """The help text for a flow's delay in the settings form."""
    return _DELAY_MEANINGS.get(kind, "How long after the event the message goes out (0: at once).")


def flows_ensure_defaults(*, shop_id: int) -> None:
    """Give the shop its own copy of every default flow it does not have yet."""
    Flow.objects.bulk_create(
        [
            Flow(
                shop_id=shop_id,
                kind=spec.kind,
                trigger=spec.trigger,
                delay=spec.delay,
                channels=list(spec.channels),
                purpose=spec.purpose,
                useful_for=spec.useful_for,
                conditions=dict(spec.conditions),
            )
            for spec in DEFAULT_FLOWS
        ],
        ignore_conflicts=True,
    )


# Shops whose default flows this process has already made sure of: new defaults added in a
# release reach existing shops on their next event, at the cost of one INSERT per process.
_ensured_shops: set[int] = set()


def flows_for(*, shop_id: int, trigger: str, payload: dict) -> list[Flow]:
    """The shop's enabled flows started by this event whose conditions it meets."""
    if shop_id not in _ensured_shops:
        flows_ensure_defaults(shop_id=shop_id)
        # Only once they are committed: another thread that skipped the INSERT on our word
        # would otherwise read no flows while our transaction is still open.
        transaction.on_commit(lambda: _ensured_shops.add(shop_id))
    flows = Flow.objects.filter(shop_id=shop_id, trigger=trigger, is_enabled=True)
    return [flow for flow in flows if flow.applies_to(payload)]


def flows_enabled_for_kind(*, kind: str) -> dict[int, Flow]:
    """Every active shop's enabled flow of this kind, by shop id, for the periodic tasks that
    look across shops. Shops that have not got the kind yet get their defaults first."""
    missing = Shop.objects.filter(is_active=True).exclude(flows__kind=kind)
    for shop_id in missing.values_list("pk", flat=True):
        flows_ensure_defaults(shop_id=shop_id)
    flows = Flow.objects.filter(kind=kind, is_enabled=True, shop__is_active=True)
    return {flow.shop_id: flow for flow in flows}
