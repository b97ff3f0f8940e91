"""What the feedback numbers page shows for a range of days, read from the daily rollups (one
query for the range and the one before it) plus the detractors' topics and the scorer in use.

Response and resolution times are averages (the rollups keep per-day sums and counts), not
medians."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from feedback.analysis.selectors import ScorerStatus, TopicCount, current_scorer, top_topics
from feedback.models import FeedbackDayRollup
from feedback.models.reviews import ReviewStatus
from orders.dashboard.figures import Period
from orders.models import Shop

BUCKETS = ("promoter", "passive", "detractor")
CHANNELS = ("email", "sms")
KINDS = ("nps", "csat_delivery", "csat_order", "ces")
STARS = (1, 2, 3, 4, 5)


def share(part: float, whole: float) -> Decimal | None:
    """A percentage to one decimal; None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def nps_of(promoters: int, passives: int, detractors: int) -> int | None:
    total = promoters + passives + detractors
    if not total:
        return None
    return round((promoters - detractors) * 100 / total)


@dataclass
class PeriodCounts:
    """The rollups' counts summed over a range of days."""

    totals: Counter = field(default_factory=Counter)

    def __getitem__(self, key: str) -> int:
        return self.totals.get(key, 0)

    def bucket(self, name: str) -> int:
        return sum(self[f"score:nps:{s}"] for s in range(11) if _bucket(s) == name)

    @property
    def nps_answers(self) -> int:
        return sum(self[f"score:nps:{s}"] for s in range(11))

    @property
    def nps(self) -> int | None:
        return nps_of(self.bucket("promoter"), self.bucket("passive"), self.bucket("detractor"))

    @property
    def csat_answers(self) -> int:
        return sum(self[f"score:{k}:{s}"] for k in ("csat_delivery", "csat_order") for s in STARS)

    @property
    def csat(self) -> Decimal | None:
        satisfied = sum(
            self[f"score:{k}:{s}"] for k in ("csat_delivery", "csat_order") for s in (4, 5)
        )
        return share(satisfied, self.csat_answers)

    @property
    def ces_answers(self) -> int:
        return sum(self[f"score:ces:{s}"] for s in range(1, 8))

    @property
    def ces(self) -> Decimal | None:
        if not self.ces_answers:
            return None
        total = sum(s * self[f"score:ces:{s}"] for s in range(1, 8))
        return (Decimal(total) / self.ces_answers).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def response_rate(self, channel: str) -> Decimal | None:
        return share(self[f"answered:{channel}"], self[f"sent:{channel}"])

    def kind_rate(self, kind: str) -> Decimal | None:
        return share(self[f"answered_kind:{kind}"], self[f"sent_kind:{kind}"])

    @property
    def sent(self) -> int:
        return sum(self[f"sent:{c}"] for c in CHANNELS)

    @property
    def answered(self) -> int:
        return sum(self[f"answered:{c}"] for c in CHANNELS)

    def reviews_of(self, stars: int, status: str | None = None) -> int:
        statuses = [status] if status else [s.value for s in ReviewStatus]
        return sum(self[f"reviews:{stars}:{s}"] for s in statuses)

    @property
    def reviews(self) -> int:
        return sum(self.reviews_of(s) for s in STARS)

    @property
    def review_average(self) -> Decimal | None:
        if not self.reviews:
            return None
        total = sum(s * self.reviews_of(s) for s in STARS)
        return (Decimal(total) / self.reviews).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def publish_rate(self, stars: int) -> Decimal | None:
        return share(self.reviews_of(stars, ReviewStatus.PUBLISHED), self.reviews_of(stars))

    @property
    def photo_share(self) -> Decimal | None:
        return share(self["reviews_photos"], self.reviews)

    @property
    def response_hours(self) -> Decimal | None:
        if not self["cases_responded"]:
            return None
        return (Decimal(self["response_seconds"]) / self["cases_responded"] / 3600).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )

    @property
    def resolution_hours(self) -> Decimal | None:
        if not self["cases_resolved"]:
            return None
        return (Decimal(self["resolution_seconds"]) / self["cases_resolved"] / 3600).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )

    @property
    def within_sla(self) -> Decimal | None:
        return share(self["resolved_in_sla"], self["cases_resolved"])

    @property
    def made_right(self) -> Decimal | None:
        return share(self["made_right_yes"], self["made_right_asked"])

    def delivery_split(self, group: str) -> tuple[int | None, int]:
        """(NPS, answers) of the answers on orders delivered late ("late") or on time."""
        counts = [self[f"nps_{group}:{b}"] for b in BUCKETS]
        return nps_of(*counts), sum(counts)


def _bucket(score: int) -> str:
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


@dataclass
class FeedbackNumbers:
    period: Period
    current: PeriodCounts
    previous: PeriodCounts
    weekly_nps: list[tuple[date, int | None]]
    topics: list[TopicCount]
    scorer: ScorerStatus

    @property
    def is_empty(self) -> bool:
        c = self.current
        return not (
            c.nps_answers
            or c.csat_answers
            or c.ces_answers
            or c.sent
            or c.reviews
            or c["cases_opened"]
            or self.previous.totals
        )


def feedback_numbers(shop: Shop, period: Period) -> FeedbackNumbers:
    """A fixed number of queries whatever the shop's size: one for the rollups of the period
    and the one before it, and the topics' and scorer's own few."""
    previous = period.previous
    rows = FeedbackDayRollup.objects.filter(
        shop=shop, day__gte=previous.first, day__lte=period.last
    ).values_list("day", "counts")
    current, before = PeriodCounts(), PeriodCounts()
    weeks: dict[date, Counter] = {}
    for day, counts in rows:
        if day >= period.first:
            current.totals.update(counts)
            week = period.first + timedelta(days=((day - period.first).days // 7) * 7)
            weeks.setdefault(week, Counter()).update(
                {k: v for k, v in counts.items() if k.startswith("score:nps:")}
            )
        else:
            before.totals.update(counts)
    weekly = []
    week = period.first
    while week <= period.last:
        weekly.append((week, PeriodCounts(weeks.get(week, Counter())).nps))
        week += timedelta(days=7)
    zone = shop.zone
    since = datetime.combine(period.first, time.min, tzinfo=zone)
    until = datetime.combine(period.last + timedelta(days=1), time.min, tzinfo=zone)
    return FeedbackNumbers(
        period=period,
        current=current,
        previous=before,
        weekly_nps=weekly,
        topics=top_topics(shop, since=since, until=until, negative_only=True, limit=8),
        scorer=current_scorer(shop),
    )
