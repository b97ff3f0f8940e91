"""The one way an object changes state: check the table, write the status, record the event.

`transition` moves one locked instance; `transition_rows` moves a set of rows in a few
statements, for the batch paths, with its from-states taken from the same table."""

from collections.abc import Collection, Mapping
from typing import Any, NamedTuple, Protocol, TypeVar, cast

from django.db import models
from django.utils import timezone

from postpurchase.exceptions import IllegalTransition
from postpurchase.permissions import Actor

M = TypeVar("M", bound=models.Model)


class HasStatus(Protocol):
    status: str

    def record_transition(
        self, *, from_status: str, to_status: str, actor: Actor, note: str
    ) -> None: ...

    def save(self, *, update_fields: list[str]) -> None: ...


def can_transition(current: str, to: str, table: Mapping[str, set[str]]) -> bool:
    return to in table.get(current, set())


def allowed_from(
    to: str, table: Mapping[str, set[str]], *, among: Collection[str] | None = None
) -> frozenset[str]:
    """The states from which the table allows a move to `to`; of `among` only, when given.

    A batch path names the states it means (`among`: the dispatcher's due messages are the
    `scheduled` ones, though staff may also move a failed one to `queued`) and the table says
    which of them may make the move: a move the table forbids finds no rows."""
    allowed = frozenset(state for state, moves in table.items() if to in moves)
    return allowed if among is None else allowed & frozenset(among)


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


class RecordsTransitions(Protocol):
    """A model whose history can be written for many rows at once."""

    @classmethod
    def transition_event(
        cls, *, pk: Any, from_status: str, to_status: str, actor: Actor, note: str
    ) -> models.Model: ...


class Moved(NamedTuple):
    pk: Any
    from_status: str


def transition_rows(
    queryset: "models.QuerySet[M]",
    *,
    to: str,
    table: Mapping[str, set[str]],
    among: Collection[str] | None = None,
    actor: Actor = None,
    note: str = "",
    values: Mapping[str, Any] | None = None,
    limit: int | None = None,
    skip_locked: bool = False,
) -> list[Moved]:
    """Move to `to` the rows of `queryset` whose status the table lets go there (of `among`,
    when given), up to `limit`: lock them, write `to` and `values`, and record each row's move
    in its history. Rows in any other state are left as they are. Returns the rows moved, each
    with the status it left. Call inside a transaction; `skip_locked` passes over rows another
    transaction holds instead of waiting for them."""
    model = queryset.model
    from_states = allowed_from(to, table, among=among)
    if not from_states:
        return []
    locked = queryset.select_for_update(skip_locked=skip_locked).filter(
        status__in=sorted(from_states)
    )
    rows = locked.values_list("pk", "status")
    moved = [Moved(pk, status) for pk, status in (rows[:limit] if limit is not None else rows)]
    if not moved:
        return []
    changes: dict[str, Any] = {"status": to, **(values or {})}
    if any(field.name == "updated_at" for field in model._meta.concrete_fields):
        changes.setdefault("updated_at", timezone.now())
    model._default_manager.filter(pk__in=[row.pk for row in moved]).update(**changes)
    recorder = cast("type[RecordsTransitions]", model)
    events = [
        recorder.transition_event(
            pk=row.pk, from_status=row.from_status, to_status=to, actor=actor, note=note
        )
        for row in moved
    ]
    type(events[0])._default_manager.bulk_create(events)
    return moved
