"""How the dashboard shell finds a staff member's shops, without knowing the shop model.

The app that owns shops fills this in from its `ready()` (`orders` does); the shell's views
and its context ask it for the request's current shop and for the shops the staff member may
switch to. A shop here is whatever that app returns: it has `pk`, `name`, `timezone` and the
staff member's `staff_role` in it.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest


@dataclass(frozen=True)
class ShopDirectory:
    # The staff member's current shop, with their `staff_role` in it; None when they have none.
    current_shop: Callable[[HttpRequest], Any | None]
    # Every shop the user may switch to, each with their `staff_role` in it.
    staff_shops: Callable[[Any], Iterable[Any]]


_directory: ShopDirectory | None = None


def shop_directory_register(directory: ShopDirectory) -> None:
    global _directory
    _directory = directory


def shop_directory() -> ShopDirectory:
    if _directory is None:
        raise ImproperlyConfigured(
            "No app registered the dashboard's shop directory "
            "(postpurchase.shell.shops.shop_directory_register)."
        )
    return _directory
