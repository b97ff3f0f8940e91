"""Counting a shop's feedback per day into `FeedbackDayRollup`, so the numbers page never scans
the answers, reviews or cases.

Each count is attributed to the day (in the shop's zone) its event happened: an answer to the
day it was given, a request to the day it was sent, a review to the day it was submitted, a
case's opening, first response and resolution each to their own day, a "made right" answer to
the day it was given. So recomputing the last few days picks up everything new; what changes
about an older event (a review moderated weeks later) is picked up by the nightly longer window
or by `manage.py feedback_rollups_rebuild`.

Keys of `counts` (absent means zero):
  score:<kind>:<score>       answers of that kind with that score
  answered:<channel>         answers, by the channel their request was sent on
  answered_kind:<kind>, sent:<channel>, sent_kind:<kind>
  reviews:<rating>:<status>  reviews submitted, by stars and their status now
  reviews_photos             reviews submitted with at least one current photo
  cases_opened; cases_responded + response_seconds; cases_resolved + resolution_seconds +
  resolved_in_sla            times are sums, so the page reports averages, not medians
  made_right_asked, made_right_yes   detractors' (NPS cases') answers to "did we make it right?"
  nps_late:<bucket>, nps_ontime:<bucket>   NPS answers on orders delivered late / on time
"""

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import (
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from feedback.models import Case, FeedbackDayRollup, Review, ReviewPhoto, SurveyAnswer
from feedback.models.cases import CaseResolution, CaseSource
from feedback.models.surveys import SurveyKind, SurveyRequest
from orders.models import Shop
from orders.models.shipments import Shipment

# The beat task's window: today and the days before it that can still change often.
RECENT_DAYS = 3
# The nightly window: late moderation decisions and "made right" answers.
NIGHTLY_DAYS = 40


def nps_bucket(score: int) -> str:
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


def _bounds(first: date, last: date, zone: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(first, time.min, tzinfo=zone),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone),
    )


def _late_shipment(zone: zoneinfo.ZoneInfo, *, late: bool) -> Exists:
    """A delivered shipment of the answer's order with an estimate, delivered after the date
    first promised (late) or on or before it (on time), the delivered day taken in the shop's
    zone. The first estimate, not the current one: carriers move theirs as a parcel runs late,
    and a parcel delivered on its third promised date is still late to the customer. A
    shipment whose first estimate was never recorded (a row written outside the services)
    falls back to its current one."""
    shipments = (
        Shipment.objects.filter(
            order_id=OuterRef("request__order_id"),
            delivered_at__isnull=False,
        )
        .annotate(
            delivered_day=TruncDate("delivered_at", tzinfo=zone),
            promised_day=Coalesce("first_estimated_delivery_date", "estimated_delivery_date"),
        )
        .filter(promised_day__isnull=False)
    )
    if late:
        return Exists(shipments.filter(delivered_day__gt=F("promised_day")))
    return Exists(shipments.filter(delivered_day__lte=F("promised_day")))


def shop_days_count(shop: Shop, first: date, last: date) -> dict[date, dict[str, int]]:
    """The shop's counts per day in [first, last], from the source tables (a handful of
    grouped queries whatever the range)."""
    zone = shop.zone
    start, end = _bounds(first, last, zone)
    days: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(day: date | None, key: str, n: int | float | None) -> None:
        if day is not None and n:
            days[day][key] += int(n)

    answers = (
        SurveyAnswer.objects.filter(shop=shop, answered_at__gte=start, answered_at__lt=end)
        .annotate(
            d=TruncDate("answered_at", tzinfo=zone),
            late=_late_shipment(zone, late=True),
            ontime=_late_shipment(zone, late=False),
        )
        .values("d", "kind", "score", "request__channel", "late", "ontime")
        .annotate(n=Count("id"))
    )
    for row in answers:
        d, kind, n = row["d"], row["kind"], row["n"]
        add(d, f"score:{kind}:{row['score']}", n)
        add(d, f"answered:{row['request__channel'] or 'none'}", n)
        add(d, f"answered_kind:{kind}", n)
        if kind == SurveyKind.NPS:
            bucket = nps_bucket(row["score"])
            if row["late"]:
                add(d, f"nps_late:{bucket}", n)
            elif row["ontime"]:
                add(d, f"nps_ontime:{bucket}", n)

    sent = (
        SurveyRequest.objects.filter(shop=shop, sent_at__gte=start, sent_at__lt=end)
        .annotate(d=TruncDate("sent_at", tzinfo=zone))
        .values("d", "channel", "kind")
        .annotate(n=Count("id"))
    )
    for sent_row in sent:
        add(sent_row["d"], f"sent:{sent_row['channel'] or 'none'}", sent_row["n"])
        add(sent_row["d"], f"sent_kind:{sent_row['kind']}", sent_row["n"])

    photo = ReviewPhoto.objects.filter(review_id=OuterRef("pk"), is_current=True)
    reviews = (
        Review.objects.filter(shop=shop, submitted_at__gte=start, submitted_at__lt=end)
        .annotate(d=TruncDate("submitted_at", tzinfo=zone), has_photo=Exists(photo))
        .values("d", "rating", "status", "has_photo")
        .annotate(n=Count("id"))
    )
    for review_row in reviews:
        add(
            review_row["d"],
            f"reviews:{review_row['rating']}:{review_row['status']}",
            review_row["n"],
        )
        if review_row["has_photo"]:
            add(review_row["d"], "reviews_photos", review_row["n"])

    cases = Case.objects.filter(shop=shop)
    opened = (
        cases.filter(created_at__gte=start, created_at__lt=end)
        .annotate(d=TruncDate("created_at", tzinfo=zone))
        .values("d")
        .annotate(n=Count("id"))
    )
    for opened_row in opened:
        add(opened_row["d"], "cases_opened", opened_row["n"])
    waited = ExpressionWrapper(F("first_responded_at") - F("created_at"), DurationField())
    responded = (
        cases.filter(first_responded_at__gte=start, first_responded_at__lt=end)
        .annotate(d=TruncDate("first_responded_at", tzinfo=zone))
        .values("d")
        .annotate(n=Count("id"), total=Sum(waited))
    )
    for responded_row in responded:
        add(responded_row["d"], "cases_responded", responded_row["n"])
        add(
            responded_row["d"],
            "response_seconds",
            responded_row["total"].total_seconds() if responded_row["total"] else 0,
        )
    took = ExpressionWrapper(F("resolved_at") - F("created_at"), DurationField())
    resolved = (
        cases.filter(resolved_at__gte=start, resolved_at__lt=end)
        .annotate(d=TruncDate("resolved_at", tzinfo=zone))
        .values("d")
        .annotate(
            n=Count("id"),
            total=Sum(took),
            in_sla=Count("id", filter=Q(resolved_at__lte=F("resolution_due_at"))),
        )
    )
    for resolved_row in resolved:
        add(resolved_row["d"], "cases_resolved", resolved_row["n"])
        add(
            resolved_row["d"],
            "resolution_seconds",
            resolved_row["total"].total_seconds() if resolved_row["total"] else 0,
        )
        add(resolved_row["d"], "resolved_in_sla", resolved_row["in_sla"])
    made_right = (
        CaseResolution.objects.filter(
            case__shop=shop,
            case__source=CaseSource.SURVEY,
            case__scale=SurveyKind.NPS,
            made_right__isnull=False,
            answered_at__gte=start,
            answered_at__lt=end,
        )
        .annotate(d=TruncDate("answered_at", tzinfo=zone, output_field=DateField()))
        .values("d")
        .annotate(n=Count("id"), yes=Count("id", filter=Q(made_right=True)))
    )
    for right_row in made_right:
        add(right_row["d"], "made_right_asked", right_row["n"])
        add(right_row["d"], "made_right_yes", right_row["yes"])
    return {day: dict(values) for day, values in days.items()}


@transaction.atomic
def shop_rollups_refresh(shop: Shop, first: date, last: date) -> int:
    """Recompute the shop's rollups for [first, last] and upsert them; days left with nothing
    lose their row. Safe to run twice: the same rows come out."""
    counted = shop_days_count(shop, first, last)
    now = timezone.now()
    FeedbackDayRollup.objects.filter(shop=shop, day__gte=first, day__lte=last).exclude(
        day__in=list(counted)
    ).delete()
    FeedbackDayRollup.objects.bulk_create(
        [
            FeedbackDayRollup(shop=shop, day=day, counts=values, computed_at=now)
            for day, values in counted.items()
        ],
        update_conflicts=True,
        unique_fields=["shop", "day"],
        update_fields=["counts", "computed_at"],
        batch_size=500,
    )
    return len(counted)


def rollups_recent_refresh(days: int = RECENT_DAYS, shops: Iterable[Shop] | None = None) -> int:
    """Every shop's last `days` days (today included), recomputed."""
    total = 0
    for shop in shops if shops is not None else Shop.objects.all():
        today = shop.today()
        total += shop_rollups_refresh(shop, today - timedelta(days=days - 1), today)
    return total


def shop_rollups_rebuild(shop: Shop) -> int:
    """All of the shop's days, from its first feedback to today, a year at a time."""
    first_answer = SurveyAnswer.objects.filter(shop=shop).order_by("answered_at").first()
    first_review = Review.objects.filter(shop=shop).order_by("submitted_at").first()
    first_case = Case.objects.filter(shop=shop).order_by("created_at").first()
    zone = shop.zone
    starts = [
        moment.astimezone(zone).date()
        for moment in (
            first_answer.answered_at if first_answer else None,
            first_review.submitted_at if first_review else None,
            first_case.created_at if first_case else None,
        )
        if moment is not None
    ]
    today = shop.today()
    first = min(starts, default=today)
    # Everything before the first day goes (a rebuild after data was removed).
    FeedbackDayRollup.objects.filter(shop=shop, day__lt=first).delete()
    total = 0
    while first <= today:
        last = min(first + timedelta(days=365), today)
        total += shop_rollups_refresh(shop, first, last)
        first = last + timedelta(days=1)
    return total
