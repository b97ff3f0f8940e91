"""Every move of a return, each by its own service: check the actor's role, lock, check the
table, record who and when, publish the domain event. An invalid move raises
IllegalTransition; a staff member whose role is too low, StaffPermissionDenied."""

from dataclasses import dataclass

from django.db import transaction

from orders.tenancy import staff_permission_require
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.locks import row_lock
from postpurchase.permissions import Actor
from postpurchase.states import transition
from returns.events import ReturnEventName
from returns.models import (
    RETURN_TRANSITIONS,
    ItemCondition,
    ReturnItem,
    ReturnMethod,
    ReturnRequest,
    ReturnStatus,
)
from returns.services.requests import return_event_publish

_EVENT_OF = {
    ReturnStatus.APPROVED: ReturnEventName.APPROVED,
    ReturnStatus.REJECTED: ReturnEventName.REJECTED,
    ReturnStatus.IN_TRANSIT: ReturnEventName.IN_TRANSIT,
    ReturnStatus.RECEIVED: ReturnEventName.RECEIVED,
    ReturnStatus.INSPECTED: ReturnEventName.INSPECTED,
    ReturnStatus.RESOLVED: ReturnEventName.RESOLVED,
    ReturnStatus.CANCELLED: ReturnEventName.CANCELLED,
}


def _require(return_request: ReturnRequest, actor: Actor, action: str) -> None:
    staff_permission_require(actor=actor, shop_id=return_request.shop_id, action=action)


def _move(
    return_request: ReturnRequest,
    to: ReturnStatus,
    *,
    actor: Actor = None,
    note: str = "",
    extra_fields: tuple[str, ...] = (),
) -> ReturnRequest:
    request = ReturnRequest.objects.select_for_update().get(pk=return_request.pk)
    for name in extra_fields:
        setattr(request, name, getattr(return_request, name))
    transition(
        request, to=to, table=RETURN_TRANSITIONS, actor=actor, note=note, extra_fields=extra_fields
    )
    return_event_publish(request, _EVENT_OF[to])
    return request


@transaction.atomic
def return_request_approve(
    *, return_request: ReturnRequest, actor: Actor = None, note: str = ""
) -> ReturnRequest:
    _require(return_request, actor, permissions.RETURN_DECIDE)
    return _move(return_request, ReturnStatus.APPROVED, actor=actor, note=note)


@transaction.atomic
def return_request_reject(
    *, return_request: ReturnRequest, actor: Actor, reason: str
) -> ReturnRequest:
    _require(return_request, actor, permissions.RETURN_DECIDE)
    if not reason.strip():
        raise DomainError("Say why the return is rejected: the customer will read it.")
    return_request.status_reason = reason.strip()[:500]
    return _move(
        return_request,
        ReturnStatus.REJECTED,
        actor=actor,
        note=reason,
        extra_fields=("status_reason",),
    )


@transaction.atomic
def return_request_cancel(*, return_request: ReturnRequest, actor: Actor = None) -> ReturnRequest:
    """The customer changed their mind: possible until the parcel is on its way."""
    return _move(
        return_request, ReturnStatus.CANCELLED, actor=actor, note="cancelled by the customer"
    )


@transaction.atomic
def return_request_mark_in_transit(
    *, return_request: ReturnRequest, actor: Actor = None
) -> ReturnRequest:
    _require(return_request, actor, permissions.RETURN_HANDLE)
    if return_request.method == ReturnMethod.KEEP_ITEM:
        raise DomainError("A kept item is not sent back.")
    return _move(return_request, ReturnStatus.IN_TRANSIT, actor=actor)


@transaction.atomic
def return_request_receive(*, return_request: ReturnRequest, actor: Actor) -> ReturnRequest:
    _require(return_request, actor, permissions.RETURN_RECEIVE)
    if return_request.method == ReturnMethod.KEEP_ITEM:
        raise DomainError("A kept item is not sent back.")
    return _move(return_request, ReturnStatus.RECEIVED, actor=actor)


@dataclass(frozen=True)
class Inspection:
    condition: str
    restock: bool = False
    note: str = ""


@transaction.atomic
def return_request_inspect(
    *, return_request: ReturnRequest, actor: Actor, inspections: dict[int, Inspection]
) -> ReturnRequest:
    """Record each item's condition and whether it goes back on the shelf."""
    _require(return_request, actor, permissions.RETURN_RECEIVE)
    row_lock(return_request)  # before its items change: one inspection at a time
    items = {item.pk: item for item in ReturnItem.objects.filter(return_request=return_request)}
    if set(inspections) != set(items):
        raise DomainError("Inspect every item of the return.")
    for item_id, inspection in inspections.items():
        if inspection.condition not in ItemCondition.values:
            raise DomainError("Choose each item's condition.")
        item = items[item_id]
        item.condition = inspection.condition
        item.restock = inspection.restock and inspection.condition == ItemCondition.RESELLABLE
        item.inspection_note = inspection.note[:500]
        item.save(update_fields=["condition", "restock", "inspection_note"])
    return _move(return_request, ReturnStatus.INSPECTED, actor=actor)
