"""The registered message kinds as the engine uses them: each shop's own copy of every kind's
settings (its flows), the flows an event starts, and what staff read about a kind.

Kinds are declared by the apps (`postpurchase.message_kinds`); the engine reads only that
registry and names no kind."""

from django.db import transaction

from notifications.models import Flow
from orders.models import Shop
from postpurchase.message_kinds import (
    MessageKind,
    TemplateVariable,
    message_kind_find,
    message_kinds,
)

_AFTER_THE_EVENT = "How long after the event the message goes out (0: at once)."


def kind_exists(kind: str) -> bool:
    return message_kind_find(kind) is not None


def kind_variables(kind: str) -> tuple[TemplateVariable, ...]:
    """What templates of `kind` may use; nothing for a kind no app registers."""
    found = message_kind_find(kind)
    return found.variables if found else ()


def flow_delay_meaning(kind: str) -> str:
    """The help text for a flow's delay in the settings form."""
    found = message_kind_find(kind)
    return (found.delay_meaning if found else "") or _AFTER_THE_EVENT


def _flow_of(kind: MessageKind, shop_id: int) -> Flow:
    return Flow(
        shop_id=shop_id,
        kind=kind.name,
        trigger=kind.trigger,
        delay=kind.delay,
        channels=list(kind.channels),
        purpose=kind.purpose,
        useful_for=kind.useful_for,
        conditions=dict(kind.conditions),
    )


def flows_ensure_defaults(*, shop_id: int) -> None:
    """Give the shop its own copy of every registered kind's flow it does not have yet."""
    Flow.objects.bulk_create(
        [_flow_of(kind, shop_id) for kind in message_kinds()], ignore_conflicts=True
    )


# Shops whose flows this process has already made sure of: kinds added in a release reach
# existing shops on their next event, at the cost of one INSERT per process.
_ensured_shops: set[int] = set()


def ensured_shops_forget() -> None:
    """A kind was registered or unregistered: make sure of every shop's flows again."""
    _ensured_shops.clear()


def _flows_ensure_once(shop_id: int) -> None:
    if shop_id not in _ensured_shops:
        flows_ensure_defaults(shop_id=shop_id)
        # Only once they are committed: another thread that skipped the INSERT on our word
        # would otherwise read no flows while our transaction is still open.
        transaction.on_commit(lambda: _ensured_shops.add(shop_id))


def flows_for(*, shop_id: int, trigger: str, payload: dict) -> list[Flow]:
    """The shop's enabled flows started by this event whose conditions it meets."""
    _flows_ensure_once(shop_id)
    flows = Flow.objects.filter(shop_id=shop_id, trigger=trigger, is_enabled=True)
    return [flow for flow in flows if flow.applies_to(payload)]


def flow_enabled_of_kind(*, shop_id: int, kind: str) -> Flow | None:
    """The shop's enabled flow of `kind` (None when staff turned it off), for the kinds an
    app's own service schedules rather than an event; a flow with conditions never applies,
    as no event payload is there to meet them."""
    _flows_ensure_once(shop_id)
    flow = Flow.objects.filter(shop_id=shop_id, kind=kind, is_enabled=True).first()
    return flow if flow is not None and flow.applies_to({}) else None


def flows_enabled_for_kind(*, kind: str) -> dict[int, Flow]:
    """Every active shop's enabled flow of this kind, by shop id, for the periodic tasks that
    look across shops. Shops that have not got the kind yet get their defaults first."""
    missing = Shop.objects.filter(is_active=True).exclude(flows__kind=kind)
    for shop_id in missing.values_list("pk", flat=True):
        flows_ensure_defaults(shop_id=shop_id)
    flows = Flow.objects.filter(kind=kind, is_enabled=True, shop__is_active=True)
    return {flow.shop_id: flow for flow in flows}
