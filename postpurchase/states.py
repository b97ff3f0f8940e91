"""The one way an object changes state: check the table, write the status, record the event."""

from collections.abc import Mapping
from typing import Protocol

from postpurchase.exceptions import IllegalTransition
from postpurchase.permissions import Actor


class HasStatus(Protocol):
    status: str

    def record_transition(
        self, *, from_status: str, to_status: str, actor: Actor, note: str
    ) -> None: ...

    def save(self, *, update_fields: list[str]) -> None: ...


def can_transition(current: str, to: str, table: Mapping[str, set[str]]) -> bool:
    return to in table.get(current, set())


def can_reach(current: str, to: str, table: Mapping[str, set[str]]) -> bool:
    """Whether `to` lies ahead of `current`, in one move or several."""
    seen: set[str] = set()
    ahead = set(table.get(current, set()))
    while ahead - seen:
        state = (ahead - seen).pop()
        seen.add(state)
        ahead |= table.get(state, set())
    return to in ahead


def transition(
    obj: HasStatus,
    *,
    to: str,
    table: Mapping[str, set[str]],
    actor: Actor = None,
    note: str = "",
    extra_fields: tuple[str, ...] = (),
) -> None:
    """Move `obj` to `to` or raise IllegalTransition. The caller holds the row lock."""
    current = obj.status
    if not can_transition(current, to, table):
        raise IllegalTransition(obj, current, to)
    obj.status = to
    obj.save(update_fields=["status", "updated_at", *extra_fields])
    obj.record_transition(from_status=current, to_status=to, actor=actor, note=note)
