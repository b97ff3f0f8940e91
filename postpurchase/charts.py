"""Charts drawn on the server as SVG: values scaled to a viewBox, read by the templates
`components/bar_chart.html` and `components/sparkline.html`. No JavaScript, nothing from
another host; every chart also carries its numbers as text (see the templates).

The geometry is plain numbers in the viewBox's units: the SVG scales to its box with CSS, so
the numbers never depend on the screen.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

Number = int | float | Decimal

BAR_CHART_WIDTH = 300
BAR_CHART_HEIGHT = 120
SPARKLINE_WIDTH = 100
SPARKLINE_HEIGHT = 24
# Room above the tallest bar (and around a line) so that nothing touches the box's edge.
_HEADROOM = 2


@dataclass(frozen=True)
class Bar:
    label: str
    value: Number
    display: str  # the value as people read it ("1,204", "12.5 %")
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    bars: tuple[Bar, ...]
    width: int
    height: int
    maximum: Number

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


@dataclass(frozen=True)
class Sparkline:
    values: tuple[Number, ...]
    readings: tuple[str, ...]  # the values as text ("Dec 1: 5"), for those who cannot see the line
    points: str  # the polyline's "x,y x,y …"
    last_x: float
    last_y: float
    width: int
    height: int

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def _display(value: Number) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def bar_chart(
    series: Sequence[tuple[str, Number]],
    *,
    width: int = BAR_CHART_WIDTH,
    height: int = BAR_CHART_HEIGHT,
    gap_ratio: float = 0.25,
) -> BarChart:
    """Bars whose heights are proportional to their values, the largest filling the height.

    Negative values draw as empty bars (a count or an amount here is never below zero); all
    zeros draw an empty chart rather than dividing by zero."""
    count = len(series)
    maximum = max((value for _, value in series), default=0)
    scale = (height - _HEADROOM) / float(maximum) if maximum and maximum > 0 else 0.0
    slot = width / count if count else 0.0
    bar_width = slot * (1 - gap_ratio)
    bars = []
    for index, (label, value) in enumerate(series):
        bar_height = round(max(float(value), 0.0) * scale, 2)
        bars.append(
            Bar(
                label=str(label),
                value=value,
                display=_display(value),
                x=round(index * slot + (slot - bar_width) / 2, 2),
                y=round(height - bar_height, 2),
                width=round(bar_width, 2),
                height=bar_height,
            )
        )
    return BarChart(bars=tuple(bars), width=width, height=height, maximum=maximum)


def sparkline(
    values: Sequence[Number],
    *,
    labels: Sequence[str] = (),
    width: int = SPARKLINE_WIDTH,
    height: int = SPARKLINE_HEIGHT,
) -> Sparkline:
    """A line through the values, lowest at the bottom and highest at the top.

    One value, or values all equal (all zeros), draw a flat line across the middle."""
    numbers = [float(value) for value in values]
    low, high = (min(numbers), max(numbers)) if numbers else (0.0, 0.0)
    span = high - low
    usable = height - 2 * _HEADROOM
    step = width / (len(numbers) - 1) if len(numbers) > 1 else 0.0
    coordinates = []
    for index, number in enumerate(numbers):
        y = height / 2 if span == 0 else _HEADROOM + usable * (1 - (number - low) / span)
        coordinates.append((round(index * step, 2), round(y, 2)))
    if len(coordinates) == 1:
        # A single point still reads as a (flat) line across the box.
        coordinates = [(0.0, coordinates[0][1]), (float(width), coordinates[0][1])]
    points = " ".join(f"{x:g},{y:g}" for x, y in coordinates)
    last_x, last_y = coordinates[-1] if coordinates else (0.0, height / 2)
    readings = tuple(
        f"{labels[index]}: {_display(value)}" if index < len(labels) else _display(value)
        for index, value in enumerate(values)
    )
    return Sparkline(
        values=tuple(values),
        readings=readings,
        points=points,
        last_x=last_x,
        last_y=last_y,
        width=width,
        height=height,
    )
