"""Numbers that other apps add to the dashboard's overview, each linked to the list it counts.

The overview is `orders`' page, and `orders` names no app above it (`tests/test_layers.py`),
yet the exceptions a merchant must find live in those apps too: returns waiting for a
decision, messages that failed. So the overview holds a registry, as the navigation does
(`postpurchase.shell.nav`), and an app adds its figures from its `AppConfig.ready()`:

    overview_figure_register(OverviewFigure(key="returns_to_decide", label="Returns to decide",
                                            hint="…", figure=returns_to_decide, order=10))
"""

import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.urls import reverse

from orders.models import Shop
from orders.selectors import OVERVIEW_WINDOW, PeriodSeries, ShopOverview
from postpurchase import charts, status_tones
from postpurchase.templatetags.dashboard import dashboard_date, money

Amount = Decimal | int


@dataclass(frozen=True)
class Figure:
    """One shop's number and the URL of the filtered list whose count it is.

    A figure counted over the overview's period may also give the same count over the period
    of the same length before it (`previous`) and its value per day of the period (`daily`,
    oldest first), read with one grouped query (`orders.selectors.overview_period_series`):
    its card then shows the change and a sparkline. A figure of what is true now (waiting,
    held) has neither."""

    count: int
    url: str
    previous: int | None = None
    daily: tuple[Amount, ...] = ()
    days: tuple[date, ...] = ()

    @classmethod
    def over_period(cls, series: PeriodSeries, url: str) -> "Figure":
        return cls(
            count=int(series.current),
            url=url,
            previous=int(series.previous),
            daily=series.daily,
            days=series.days,
        )


@dataclass(frozen=True)
class OverviewFigure:
    key: str
    label: str
    hint: str
    # Runs on every view of the overview: a fixed number of queries (one, or one grouped query
    # for a figure with its previous period and daily values), counting exactly what the list
    # shows.
    figure: Callable[[Shop], Figure]
    # Lower comes first; leave gaps (10, 20, …) so a new figure can go between two.
    order: int = 100
    # Whether a rise is good news (orders) or bad (failed messages): the change's tone.
    higher_is_better: bool = True
    # A count that asks for someone's attention whenever it is above zero (work waiting).
    alert_when_any: bool = True


@dataclass(frozen=True)
class Change:
    """A figure against the previous period of the same length: arrow, percentage and word,
    so it never rests on colour alone."""

    current: Amount
    previous: Amount
    higher_is_better: bool = True

    @property
    def direction(self) -> str:
        if self.current > self.previous:
            return "up"
        if self.current < self.previous:
            return "down"
        return "flat"

    @property
    def arrow(self) -> str:
        return {"up": "↑", "down": "↓", "flat": "→"}[self.direction]

    @property
    def percent(self) -> int | None:
        """Rounded to a whole percent; None when there was nothing before to compare with."""
        if not self.previous:
            return None if self.current else 0
        difference = Decimal(self.current) - Decimal(self.previous)
        return round(abs(difference) * 100 / Decimal(self.previous))

    @property
    def text(self) -> str:
        """ "Up 25 %", "Down 10 %", "No change", "Up from none"."""
        if self.direction == "flat":
            return "No change"
        if self.percent is None:
            return "Up from none"
        return f"{self.direction.capitalize()} {self.percent} %"

    @property
    def tone(self) -> str:
        if self.direction == "flat":
            return status_tones.NEUTRAL
        good = (self.direction == "up") == self.higher_is_better
        return status_tones.SUCCESS if good else status_tones.CRITICAL


@dataclass(frozen=True)
class ShownFigure:
    """A KPI card: the number as shown, where it links, and (for a figure of the period) its
    change against the previous period and its daily sparkline."""

    key: str
    label: str
    hint: str
    value: str
    url: str
    count: Amount = 0
    change: Change | None = None
    line: charts.Sparkline | None = None
    line_label: str = ""
    alert: bool = False


def shown_figure(
    *,
    key: str,
    label: str,
    hint: str,
    value: str,
    url: str,
    count: Amount,
    previous: Amount | None = None,
    daily: Sequence[Amount] = (),
    days: Sequence[date] = (),
    higher_is_better: bool = True,
    alert: bool = False,
) -> ShownFigure:
    change = (
        Change(current=count, previous=previous, higher_is_better=higher_is_better)
        if previous is not None
        else None
    )
    line = (
        charts.sparkline(list(daily), labels=[dashboard_date(day) for day in days])
        if daily
        else None
    )
    return ShownFigure(
        key=key,
        label=label,
        hint=hint,
        value=value,
        url=url,
        count=count,
        change=change,
        line=line,
        line_label=f"{label} per day, last {OVERVIEW_WINDOW.days} days" if line else "",
        alert=alert,
    )


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
            shown_figure(
                key=registered.key,
                label=registered.label,
                hint=registered.hint,
                value=f"{figure.count:,}",
                url=figure.url,
                count=figure.count,
                previous=figure.previous,
                daily=figure.daily,
                days=figure.days,
                higher_is_better=registered.higher_is_better,
                alert=registered.alert_when_any and figure.count > 0,
            )
        )
    return shown


def order_figures(shop: Shop, overview: ShopOverview) -> list[ShownFigure]:
    """The orders' own cards, first on the overview: orders, revenue, in transit, exceptions
    and delivered, each linked to the orders list filtered to what it counts."""
    orders_url = reverse("dashboard:order_list")
    since = f"{orders_url}?placed_from={overview.window_start.isoformat()}"
    placed, delivered = overview.placed, overview.delivered
    # Several currencies cannot be added up: the change and the line follow the shop's own
    # currency (or the only one sold in), the card lists every currency's sum.
    revenue = overview.revenue.get(shop.currency) or (
        next(iter(overview.revenue.values())) if len(overview.revenue) == 1 else None
    )
    amounts = overview.revenue_last_30_days or [(shop.currency, Decimal(0))]
    return [
        shown_figure(
            key="orders",
            label="Orders",
            hint="placed in the last 30 days",
            value=f"{placed.current:,}",
            url=since,
            count=placed.current,
            previous=placed.previous,
            daily=placed.daily,
            days=placed.days,
        ),
        shown_figure(
            key="revenue",
            label="Revenue",
            hint="excluding cancelled, voided and refunded orders",
            value=" · ".join(money(amount, currency) for currency, amount in amounts),
            url=since,
            count=revenue.current if revenue else 0,
            previous=revenue.previous if revenue else None,
            daily=revenue.daily if revenue else (),
            days=revenue.days if revenue else (),
        ),
        shown_figure(
            key="in_transit",
            label="In transit",
            hint="orders shipped, not yet delivered",
            value=f"{overview.orders_in_transit:,}",
            url=f"{orders_url}?status=shipped",
            count=overview.orders_in_transit,
        ),
        shown_figure(
            key="exceptions",
            label="Exceptions",
            hint="orders with a parcel the carrier flagged",
            value=f"{overview.orders_with_exception:,}",
            url=f"{orders_url}?shipment_status=exception",
            count=overview.orders_with_exception,
            alert=overview.orders_with_exception > 0,
        ),
        shown_figure(
            key="delivered",
            label="Delivered",
            hint="orders delivered in the last 30 days",
            value=f"{delivered.current:,}",
            url=f"{orders_url}?delivered_from={overview.window_start.isoformat()}",
            count=delivered.current,
            previous=delivered.previous,
            daily=delivered.daily,
            days=delivered.days,
        ),
    ]


def change_between(current: Any, previous: Any, higher_is_better: bool = True) -> Change | None:
    """The change of a figure that may be missing (None) in either period: then none."""
    if current is None or previous is None:
        return None
    return Change(
        current=Decimal(current), previous=Decimal(previous), higher_is_better=higher_is_better
    )


@dataclass(frozen=True)
class Period:
    """A range of whole days of a numbers page, both included, in the shop's zone."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def previous(self) -> "Period":
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def bounds(self, zone: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
        return (
            datetime.combine(self.first, time.min, tzinfo=zone),
            datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=zone),
        )


@dataclass(frozen=True)
class FigureCard:
    """One card of an app's numbers page (`components/figure_card.html`): the figure as text,
    its change against the previous range, and an optional sparkline."""

    key: str
    label: str
    value: str
    hint: str
    change: Change | None = None
    line: Any = None
    line_label: str = ""
    url: str = ""
