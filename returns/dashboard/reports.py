"""What comes back and why: the shop's returns report for a period.

Every figure is an aggregate computed in SQL, and the per-product and per-variant tables are
limited to the most returned rows, so the report costs a fixed, small number of queries
however many orders the shop has.

Definitions (the page repeats them):

- The period is the last 30, 90 or 365 days up to now.
- Returned: the units and value (after discounts) of items in returns *filed* in the period
  that still hold their items, i.e. not rejected and not cancelled.
- Delivered: the units and value (line price after the line's own discounts) of orders
  *delivered* in the period. Return rate = returned ÷ delivered, by units and by value.
  Returns lag deliveries, so a product can read over 100 % in a short period.
- Reasons: units returned per reason, and each reason's share of all units returned.
- Revenue kept: the value of items resolved (or to be resolved) by exchange or store credit,
  as a share of the value of all items returned.
- Time to resolve: the average time from the request to its resolution, over returns
  resolved in the period.
- Needs a quality check: a product whose item return rate is at least twice the shop's
  average rate AND with at least 3 units returned in the period (so one unlucky parcel does
  not flag a product that sold twice).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, DecimalField, ExpressionWrapper, F, QuerySet, Sum
from django.utils import timezone

from orders.models import LineItem, OrderStatus, Shop
from returns.models import HOLDING_STATUSES, Resolution, ReturnItem, ReturnRequest, ReturnStatus

PERIODS = (30, 90, 365)
DEFAULT_PERIOD = 30
TABLE_LIMIT = 50
# A product needs a quality check when its item rate is at least this multiple of the shop's
# average rate, with at least this many units returned.
QUALITY_CHECK_FACTOR = 2
QUALITY_CHECK_MIN_UNITS = 3

_ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=14, decimal_places=2)


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """`part` as a percentage of `whole`, to one decimal (half up); None when whole is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


class _Rates:
    """Return rates of anything that counts units and value returned and delivered."""

    units_returned: int
    value_returned: Decimal
    units_delivered: int
    value_delivered: Decimal

    @property
    def item_rate(self) -> Decimal | None:
        return percent(self.units_returned, self.units_delivered)

    @property
    def value_rate(self) -> Decimal | None:
        return percent(self.value_returned, self.value_delivered)


@dataclass
class RateRow(_Rates):
    key: int | None
    title: str
    subtitle: str
    units_returned: int
    value_returned: Decimal
    units_delivered: int = 0
    value_delivered: Decimal = _ZERO
    needs_quality_check: bool = False


@dataclass(frozen=True)
class ShareRow:
    key: str
    label: str
    units: int
    value: Decimal
    share: Decimal | None
    is_shop_fault: bool = False


@dataclass
class ReturnsReport(_Rates):
    days: int
    since: datetime
    currency: str
    units_returned: int = 0
    value_returned: Decimal = _ZERO
    units_delivered: int = 0
    value_delivered: Decimal = _ZERO
    returns_filed: int = 0
    products: list[RateRow] = field(default_factory=list)
    variants: list[RateRow] = field(default_factory=list)
    reasons: list[ShareRow] = field(default_factory=list)
    resolutions: list[ShareRow] = field(default_factory=list)
    revenue_kept: Decimal | None = None
    resolved_count: int = 0
    average_resolution: timedelta | None = None

    @property
    def average_resolution_words(self) -> str:
        """'3 d 4 h' (hours rounded down); '' when nothing was resolved."""
        if self.average_resolution is None:
            return ""
        hours = int(self.average_resolution.total_seconds() // 3600)
        return f"{hours // 24} d {hours % 24} h"

    @property
    def flagged(self) -> list[RateRow]:
        return [row for row in self.products if row.needs_quality_check]

    @property
    def is_empty(self) -> bool:
        return not self.units_returned and not self.units_delivered


def _returned_items(shop: Shop, since: datetime) -> QuerySet[ReturnItem]:
    return ReturnItem.objects.filter(
        return_request__shop=shop,
        return_request__created_at__gte=since,
        return_request__status__in=HOLDING_STATUSES,
    )


def _delivered_lines(shop: Shop, since: datetime) -> QuerySet[LineItem]:
    return LineItem.objects.filter(
        order__shop=shop,
        order__delivered_at__gte=since,
        order__status__in=(OrderStatus.DELIVERED, OrderStatus.CLOSED),
    )


_LINE_NET = ExpressionWrapper(F("unit_price") * F("quantity") - F("discount_total"), _MONEY)


def _delivered_by(lines: QuerySet[LineItem], key: str, keys: list[int]) -> dict[int, tuple]:
    rows = (
        lines.filter(**{f"{key}__in": keys})
        .values(key)
        .annotate(units=Sum("quantity"), value=Sum(_LINE_NET))
    )
    return {row[key]: (row["units"] or 0, row["value"] or _ZERO) for row in rows}


def _rate_rows(returned, delivered, key: str, titles: tuple[str, str]) -> list[RateRow]:
    """Returned units and value per `key` (the most returned first), with what was delivered."""
    rows = list(
        returned.exclude(**{f"line_item__{key}": None})
        .values(f"line_item__{key}", *titles)
        .annotate(units=Sum("quantity"), value=Sum("value"))
        .order_by("-units", "-value", f"line_item__{key}")[:TABLE_LIMIT]
    )
    keys = [row[f"line_item__{key}"] for row in rows]
    sent = _delivered_by(delivered, key, keys)
    result = []
    for row in rows:
        pk = row[f"line_item__{key}"]
        units, value = sent.get(pk, (0, _ZERO))
        result.append(
            RateRow(
                key=pk,
                title=row[titles[0]] or "",
                subtitle=row[titles[1]] or "",
                units_returned=row["units"],
                value_returned=row["value"] or _ZERO,
                units_delivered=units,
                value_delivered=value,
            )
        )
    return result


def _flag(report: ReturnsReport) -> None:
    """Mark products returned well above the shop's average (see the module's definition).
    Compared as exact fractions: rate_p >= factor * rate_shop."""
    if not report.units_returned or not report.units_delivered:
        return
    for row in report.products:
        row.needs_quality_check = (
            row.units_delivered > 0
            and row.units_returned >= QUALITY_CHECK_MIN_UNITS
            and row.units_returned * report.units_delivered
            >= QUALITY_CHECK_FACTOR * report.units_returned * row.units_delivered
        )


def _reasons(returned: QuerySet[ReturnItem], total_units: int) -> list[ShareRow]:
    rows = (
        returned.values("reason_id", "reason__label", "reason__is_shop_fault")
        .annotate(units=Sum("quantity"), value=Sum("value"))
        .order_by("-units", "reason__position", "reason_id")
    )
    return [
        ShareRow(
            key=str(row["reason_id"]),
            label=row["reason__label"],
            units=row["units"],
            value=row["value"] or _ZERO,
            share=percent(row["units"], total_units),
            is_shop_fault=row["reason__is_shop_fault"],
        )
        for row in rows
    ]


def _resolutions(returned: QuerySet[ReturnItem]) -> tuple[list[ShareRow], int, Decimal]:
    rows: dict[str, Mapping[str, Any]] = {
        row["resolution"]: row
        for row in returned.values("resolution").annotate(units=Sum("quantity"), value=Sum("value"))
    }
    units = sum(row["units"] for row in rows.values())
    value = sum((row["value"] or _ZERO for row in rows.values()), _ZERO)
    result = []
    for resolution, label in Resolution.choices:
        row = rows.get(resolution, {"units": 0, "value": _ZERO})
        result.append(
            ShareRow(
                key=resolution,
                label=str(label),
                units=row["units"],
                value=row["value"] or _ZERO,
                share=percent(row["value"] or _ZERO, value),
            )
        )
    return result, units, value


def returns_report(
    *, shop: Shop, days: int = DEFAULT_PERIOD, now: datetime | None = None
) -> ReturnsReport:
    """The shop's returns report for the last `days` days (see the module's definitions)."""
    days = days if days in PERIODS else DEFAULT_PERIOD
    now = now or timezone.now()
    since = now - timedelta(days=days)
    report = ReturnsReport(days=days, since=since, currency=shop.currency)
    returned = _returned_items(shop, since)
    delivered = _delivered_lines(shop, since)

    report.resolutions, report.units_returned, report.value_returned = _resolutions(returned)
    kept = sum((r.value for r in report.resolutions if r.key != Resolution.REFUND), _ZERO)
    report.revenue_kept = percent(kept, report.value_returned)
    totals = delivered.aggregate(units=Sum("quantity"), value=Sum(_LINE_NET))
    report.units_delivered = totals["units"] or 0
    report.value_delivered = totals["value"] or _ZERO
    report.returns_filed = ReturnRequest.objects.filter(
        shop=shop, created_at__gte=since, status__in=HOLDING_STATUSES
    ).count()

    report.products = _rate_rows(
        returned, delivered, "product_id", ("line_item__product__title", "line_item__title")
    )
    for row in report.products:
        row.subtitle = ""
    report.variants = _rate_rows(
        returned,
        delivered,
        "variant_id",
        ("line_item__variant__product__title", "line_item__variant__title"),
    )
    _flag(report)
    report.reasons = _reasons(returned, report.units_returned)

    resolved = ReturnRequest.objects.filter(
        shop=shop, status=ReturnStatus.RESOLVED, resolved_at__gte=since
    ).aggregate(n=Count("pk"), avg=Avg(F("resolved_at") - F("created_at")))
    report.resolved_count = resolved["n"]
    report.average_resolution = resolved["avg"]
    return report
