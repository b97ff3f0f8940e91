"""The SLA clock in business hours: pure functions over a shop's weekly hours and holidays in
its own zone, with no database and no "now" of their own.

Each business day's opening and closing are placed in the shop's zone and turned into UTC
instants before any arithmetic, so a day on which the clocks change is as long as it really
is (Python subtracts aware datetimes that share a tzinfo as wall-clock times, which is wrong
across a change)."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# How far the clock looks for business hours before it gives up (a week with none at all).
_SEARCH_DAYS = 3 * 366
# "Due soon": under a quarter of the allowance left, or under this much business time.
DUE_SOON_SHARE = 0.25
DUE_SOON_FLOOR = timedelta(hours=4)


@dataclass(frozen=True)
class BusinessCalendar:
    zone: ZoneInfo
    # Weekday (0 = Monday) → (opens, closes); a weekday not in it is closed.
    hours: Mapping[int, tuple[time, time]]
    holidays: frozenset[date] = frozenset()

    @classmethod
    def build(
        cls, *, zone: str, hours: Mapping[str, list[str]], holidays: list[date] | None = None
    ) -> "BusinessCalendar":
        """From a policy's stored values; a zone that does not exist counts as UTC."""
        try:
            tz = ZoneInfo(zone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            tz = ZoneInfo("UTC")
        parsed: dict[int, tuple[time, time]] = {}
        for day, span in hours.items():
            if not span or len(span) != 2:
                continue
            opens, closes = time.fromisoformat(span[0]), time.fromisoformat(span[1])
            if opens < closes:
                parsed[int(day)] = (opens, closes)
        return cls(zone=tz, hours=parsed, holidays=frozenset(holidays or ()))

    @property
    def always_open(self) -> bool:
        """No business hours at all: the clock runs around the clock rather than never."""
        return not self.hours

    def _span(self, day: date) -> tuple[datetime, datetime] | None:
        if day in self.holidays or day.weekday() not in self.hours:
            return None
        opens, closes = self.hours[day.weekday()]
        start = datetime.combine(day, opens, tzinfo=self.zone).astimezone(UTC)
        end = datetime.combine(day, closes, tzinfo=self.zone).astimezone(UTC)
        return (start, end) if start < end else None

    def spans_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The business spans (UTC) that end after `moment`, in order, the first one cut to
        start at `moment` when it is already running."""
        moment = moment.astimezone(UTC)
        day = moment.astimezone(self.zone).date() - timedelta(days=1)
        for offset in range(_SEARCH_DAYS):
            span = self._span(day + timedelta(days=offset))
            if span is None or span[1] <= moment:
                continue
            yield max(span[0], moment), span[1]

    def spans_until(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The business spans (UTC) that start before `moment`, latest first, the first one
        cut to end at `moment` when it is still running."""
        moment = moment.astimezone(UTC)
        day = moment.astimezone(self.zone).date() + timedelta(days=1)
        for offset in range(_SEARCH_DAYS):
            span = self._span(day - timedelta(days=offset))
            if span is None or span[0] >= moment:
                continue
            yield span[0], min(span[1], moment)


def business_subtract(calendar: BusinessCalendar, end: datetime, duration: timedelta) -> datetime:
    """The instant `duration` of business time before `end` (UTC)."""
    end = end.astimezone(UTC)
    if calendar.always_open or duration <= timedelta(0):
        return end - max(duration, timedelta(0))
    left = duration
    for opens, closes in calendar.spans_until(end):
        if left <= closes - opens:
            return closes - left
        left -= closes - opens
    raise ValueError("the calendar has no business hours within three years")


def due_soon_from(calendar: BusinessCalendar, due_at: datetime, allowed: timedelta) -> datetime:
    """When a deadline of this allowance turns "due soon": under a quarter of it, or under
    four business hours, left."""
    return business_subtract(calendar, due_at, max(allowed * DUE_SOON_SHARE, DUE_SOON_FLOOR))


def business_add(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The instant `duration` of business time after `start` (UTC)."""
    start = start.astimezone(UTC)
    if calendar.always_open or duration <= timedelta(0):
        return start + max(duration, timedelta(0))
    left = duration
    for opens, closes in calendar.spans_from(start):
        if left <= closes - opens:
            return opens + left
        left -= closes - opens
    raise ValueError("the calendar has no business hours within three years")


def business_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """The business time from `start` to `end`; negative when `end` comes first."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end < start:
        return -business_between(calendar, end, start)
    if calendar.always_open:
        return end - start
    total = timedelta(0)
    for opens, closes in calendar.spans_from(start):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return total


class SlaState(StrEnum):
    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"


SLA_STATE_LABELS = {
    SlaState.ON_TIME: "On time",
    SlaState.DUE_SOON: "Due soon",
    SlaState.BREACHED: "Breached",
    SlaState.PAUSED: "Paused (waiting on the customer)",
    SlaState.MET: "Met",
}


# The chip tone of each state on the dashboard (postpurchase.status_tones, kind "case_sla"):
# one tone per meaning, the word always beside it.
SLA_STATE_TONES: dict[str, str] = {
    SlaState.ON_TIME: "success",
    SlaState.DUE_SOON: "attention",
    SlaState.BREACHED: "critical",
    SlaState.PAUSED: "info",
    SlaState.MET: "neutral",
}


@dataclass(frozen=True)
class SlaClock:
    """Where one deadline stands at a moment."""

    state: SlaState
    due_at: datetime
    # Business time still left (zero once breached).
    remaining: timedelta
    # Wall-clock time since the deadline passed (zero before it).
    overdue: timedelta

    @property
    def label(self) -> str:
        return SLA_STATE_LABELS[self.state]

    @property
    def tone(self) -> str:
        return SLA_STATE_TONES[self.state]


def sla_clock(
    calendar: BusinessCalendar,
    *,
    due_at: datetime,
    soon_at: datetime,
    now: datetime,
    paused: bool = False,
    met: bool = False,
) -> SlaClock:
    """The deadline's state at `now`: met, paused, breached, due soon or on time."""
    if met:
        return SlaClock(SlaState.MET, due_at, timedelta(0), timedelta(0))
    remaining = business_between(calendar, now, due_at) if now < due_at else timedelta(0)
    if paused:
        return SlaClock(SlaState.PAUSED, due_at, remaining, timedelta(0))
    if now >= due_at:
        return SlaClock(SlaState.BREACHED, due_at, timedelta(0), now - due_at)
    state = SlaState.DUE_SOON if now >= soon_at else SlaState.ON_TIME
    return SlaClock(state, due_at, remaining, timedelta(0))


def _business_words(amount: timedelta) -> str:
    minutes = max(int(amount.total_seconds() // 60), 1)
    if minutes < 60:
        return f"{minutes} business minute{'s' if minutes != 1 else ''}"
    hours = round(minutes / 60)
    return f"{hours} business hour{'s' if hours != 1 else ''}"


def sla_words(clock: SlaClock) -> str:
    """ "due in 3 business hours", "breached 2 h ago", "paused", "met"."""
    if clock.state == SlaState.MET:
        return "met"
    if clock.state == SlaState.BREACHED:
        overdue = clock.overdue
        if overdue < timedelta(hours=1):
            return f"breached {max(int(overdue.total_seconds() // 60), 1)} min ago"
        if overdue < timedelta(days=2):
            return f"breached {int(overdue.total_seconds() // 3600)} h ago"
        return f"breached {overdue.days} days ago"
    words = f"due in {_business_words(clock.remaining)}"
    return f"paused, {words} once the customer answers" if clock.state == SlaState.PAUSED else words
