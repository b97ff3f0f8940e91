"""The lifecycle flows every shop starts with, and turning a domain event into the messages
its flows owe the customer."""

from dataclasses import dataclass
from datetime import timedelta

from notifications.models import Flow, Purpose
from orders.models import EventName


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


def _on_shipment_status(status: str, useful_for: timedelta) -> FlowSpec:
    """A transactional message when a shipment reaches `status`, e.g. `shipment_delivered`."""
    return FlowSpec(
        kind=f"shipment_{status}",
        trigger=EventName.SHIPMENT_STATUS_CHANGED,
        channels=_TEXTS,
        purpose=Purpose.TRANSACTIONAL,
        useful_for=useful_for,
        conditions=(("to_status", status),),
    )


DEFAULT_FLOWS: tuple[FlowSpec, ...] = (
    FlowSpec(
        kind="order_confirmation",
        trigger=EventName.ORDER_PLACED,
        channels=_TEXTS,
        purpose=Purpose.TRANSACTIONAL,
        useful_for=timedelta(days=1),
    ),
    FlowSpec(
        kind="shipment_shipped",
        trigger=EventName.SHIPMENT_CREATED,
        channels=_TEXTS,
        purpose=Purpose.TRANSACTIONAL,
        useful_for=timedelta(days=2),
    ),
    _on_shipment_status("out_for_delivery", timedelta(hours=8)),  # stale after the day
    _on_shipment_status("delivered", timedelta(days=2)),
    _on_shipment_status("exception", timedelta(days=3)),
)


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
        _ensured_shops.add(shop_id)
    flows = Flow.objects.filter(shop_id=shop_id, trigger=trigger, is_enabled=True)
    return [flow for flow in flows if flow.applies_to(payload)]
