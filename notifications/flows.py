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


DEFAULT_FLOWS: tuple[FlowSpec, ...] = (
    FlowSpec(
        kind="order_confirmation",
        trigger=EventName.ORDER_PLACED,
        channels=("email", "sms"),
        purpose=Purpose.TRANSACTIONAL,
        useful_for=timedelta(days=1),
    ),
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
            )
            for spec in DEFAULT_FLOWS
        ],
        ignore_conflicts=True,
    )


def flows_for(*, shop_id: int, trigger: str) -> list[Flow]:
    flows = list(Flow.objects.filter(shop_id=shop_id, trigger=trigger, is_enabled=True))
    if not flows and not Flow.objects.filter(shop_id=shop_id).exists():
        flows_ensure_defaults(shop_id=shop_id)
        flows = list(Flow.objects.filter(shop_id=shop_id, trigger=trigger, is_enabled=True))
    return flows
