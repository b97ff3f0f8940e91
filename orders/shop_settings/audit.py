"""The record of every change made in the settings area, written by the service that makes the
change in its own transaction: a change rolled back leaves no record, a record has its change."""

from typing import Any

from orders.models import SettingsChange
from orders.tenancy import AnyUser


def settings_change_record(
    *,
    shop_id: int,
    actor: AnyUser | None,
    area: str,
    action: str,
    subject: str,
    changes: dict[str, tuple[Any, Any]] | None = None,
) -> SettingsChange:
    """Append one change. `changes` maps each changed field to (before, after); a secret is
    never among them, only the fact that it changed."""
    signed_in = actor is not None and actor.is_authenticated
    return SettingsChange.objects.create(
        shop_id=shop_id,
        actor_id=actor.pk if signed_in else None,  # type: ignore[union-attr]
        actor_label=_actor_label(actor) if signed_in else "system",
        area=area,
        action=action,
        subject=subject[:255],
        changes={field: [before, after] for field, (before, after) in (changes or {}).items()},
    )


def _actor_label(actor: Any) -> str:
    return str(getattr(actor, "email", "") or actor.get_username())
