"""Sections that other apps add to the merchant's order page.

`orders` names no app above it (`tests/test_layers.py`), yet the order page shows what those
apps know of the order: its returns, say. So the page holds a registry, as the navigation does
(`postpurchase.shell.nav`), and an app adds its section from its `AppConfig.ready()`:

    order_panel_register(OrderPanel(key="returns", template_name="returns/dashboard/_order.html",
                                    context=order_returns_panel, order=10))

Each panel's `context` reads what its template shows for one order (through its app's
selectors, scoped to the order's shop); the page includes the templates in `order`.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from orders.models import Order


@dataclass(frozen=True)
class OrderPanel:
    key: str
    template_name: str
    # The panel's template context for one order; it runs on every view of the order page, so
    # it should cost a fixed number of queries.
    context: Callable[[Order], Mapping[str, Any]]
    # Lower comes first; leave gaps (10, 20, …) so a new panel can go between two.
    order: int = 100


@dataclass(frozen=True)
class RenderedPanel:
    """What the order page includes: a panel's template with its context for this order."""

    key: str
    template_name: str
    context: Mapping[str, Any]


_panels: dict[str, OrderPanel] = {}


def order_panel_register(panel: OrderPanel) -> None:
    """Add (or, by the same key, replace) a section of the order page."""
    _panels[panel.key] = panel


def order_panels_for(order: Order) -> list[RenderedPanel]:
    panels = sorted(_panels.values(), key=lambda panel: (panel.order, panel.key))
    return [RenderedPanel(p.key, p.template_name, p.context(order)) for p in panels]
