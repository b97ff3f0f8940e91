"""Staff's edits to a shop's lifecycle flows: on or off, channels, timing."""

from datetime import timedelta

from django.db import transaction

from notifications.engine.kinds import flows_ensure_defaults
from notifications.models import Flow
from orders.models import Channel
from orders.tenancy import staff_permission_require
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.message_kinds import message_kind
from postpurchase.permissions import Actor

# A flow may wait up to a year: anything later is a different campaign, not a follow-up.
MAX_FLOW_DELAY = timedelta(days=365)


def _flow_check(*, channels: list[str], delay: timedelta, useful_for: timedelta | None) -> None:
    unknown = set(channels) - set(Channel.values)
    if unknown:
        raise DomainError(f"unknown channel: {', '.join(sorted(unknown))}")
    if not channels:
        raise DomainError("choose at least one channel, or turn the flow off")
    if delay < timedelta(0):
        raise DomainError("the delay cannot be negative")
    if delay > MAX_FLOW_DELAY:
        raise DomainError("the delay can be at most 365 days")
    if useful_for is not None and useful_for <= timedelta(0):
        raise DomainError("'useful for' must be more than zero, or left empty for no limit")


@transaction.atomic
def flow_update(
    *,
    shop_id: int,
    flow_id: int,
    is_enabled: bool,
    channels: list[str],
    delay: timedelta,
    useful_for: timedelta | None,
    actor: Actor,
) -> Flow:
    """Change one of the shop's flows; a flow of another shop is `Flow.DoesNotExist`.

    Channels are kept in the product's channel order, which is the order they are tried in."""
    staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.FLOW_EDIT)
    _flow_check(channels=channels, delay=delay, useful_for=useful_for)
    flow = Flow.objects.select_for_update().get(shop_id=shop_id, pk=flow_id)
    flow.is_enabled = is_enabled
    flow.channels = [value for value in Channel.values if value in channels]
    flow.delay = delay
    flow.useful_for = useful_for
    flow.save(update_fields=["is_enabled", "channels", "delay", "useful_for", "updated_at"])
    return flow


@transaction.atomic
def flow_delay_set(*, shop_id: int, kind: str, delay: timedelta, actor: Actor) -> timedelta:
    """Move only the delay of the shop's flow of `kind` (the app that owns the kind edits its
    timing on its own settings page; the channels and the rest stay as the flow page left
    them). Returns the delay it had before. Messages already scheduled keep their time; the
    next ones are planned with the new delay."""
    staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.FLOW_EDIT)
    if delay < timedelta(0):
        raise DomainError("the delay cannot be negative")
    if delay > MAX_FLOW_DELAY:
        raise DomainError("the delay can be at most 365 days")
    flows_ensure_defaults(shop_id=shop_id)
    flow = Flow.objects.select_for_update().get(shop_id=shop_id, kind=kind)
    before = flow.delay
    if before != delay:
        flow.delay = delay
        flow.save(update_fields=["delay", "updated_at"])
    return before


def flow_delay_for(*, shop_id: int, kind: str) -> timedelta:
    """The shop's delay for `kind`: its flow's, else the kind's default (no flow copied yet)."""
    flow = Flow.objects.filter(shop_id=shop_id, kind=kind).only("delay").first()
    if flow is not None:
        return flow.delay
    return message_kind(kind).delay
