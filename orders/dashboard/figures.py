"""Numbers that other apps add to the dashboard's overview, each linked to the list it counts.

The overview is `orders`' page, and `orders` names no app above it (`tests/test_layers.py`),
yet the exceptions a merchant must find live in those apps too: returns waiting for a
decision, messages that failed. So the overview holds a registry, as the navigation does
(`postpurchase.shell.nav`), and an app adds its figures from its `AppConfig.ready()`:

    overview_figure_register(OverviewFigure(key="returns_to_decide", label="Returns to decide",
                                            hint="…", figure=returns_to_decide, order=10))
"""

from collections.abc import Callable
from dataclasses import dataclass

from orders.models import Shop


@dataclass(frozen=True)
class Figure:
    """One shop's number and the URL of the filtered list whose count it is."""

    count: int
    url: str


@dataclass(frozen=True)
class OverviewFigure:
    key: str
    label: str
    hint: str
    # Runs on every view of the overview: one query, counting exactly what the list shows.
    figure: Callable[[Shop], Figure]
    # Lower comes first; leave gaps (10, 20, …) so a new figure can go between two.
    order: int = 100


@dataclass(frozen=True)
class ShownFigure:
    key: str
    label: str
    hint: str
    count: int
    url: str


_figures: dict[str, OverviewFigure] = {}


def overview_figure_register(figure: OverviewFigure) -> None:
    """Add (or, by the same key, replace) a number on the overview."""
    _figures[figure.key] = figure


def overview_figures_for(shop: Shop) -> list[ShownFigure]:
    figures = sorted(_figures.values(), key=lambda figure: (figure.order, figure.key))
    shown = []
    for registered in figures:
        figure = registered.figure(shop)
        shown.append(
            ShownFigure(registered.key, registered.label, registered.hint, figure.count, figure.url)
        )
    return shown
