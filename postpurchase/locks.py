"""A service locks the row it is about to change before it looks at its state."""

from typing import TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


def row_lock(obj: M) -> M:
    """Lock `obj`'s row until the transaction ends and reload it from the database, so that
    the state the service checks next is one no one else can change before it commits. Call
    inside a transaction (outside one, Django refuses `select_for_update`). The instance is
    reloaded in place: callers holding it see what the service wrote."""
    obj.refresh_from_db(from_queryset=type(obj)._default_manager.select_for_update())
    return obj
