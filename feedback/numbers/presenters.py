"""The numbers page's cards and charts: each figure as text, its change against the previous
range (arrow, word and percent, never colour alone), and a sparkline or bar chart with the same
numbers in a table."""

from typing import Any

from django.urls import reverse

from feedback.numbers.selectors import CHANNELS, STARS, FeedbackNumbers
from orders.dashboard.figures import FigureCard as Card
from orders.dashboard.figures import change_between as _change
from postpurchase import charts
from postpurchase.templatetags.dashboard import dashboard_date

KIND_LABELS = {
    "nps": "NPS",
    "csat_delivery": "CSAT (delivery)",
    "csat_order": "CSAT (order)",
    "ces": "CES",
}
CHANNEL_LABELS = {"email": "Email", "sms": "SMS"}


def _shown(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, int) and not unit:
        return f"{value:,}"
    return f"{value}{unit}"


def numbers_page(numbers: FeedbackNumbers) -> dict[str, Any]:
    cur, prev = numbers.current, numbers.previous
    cases_url = reverse("feedback_cases:queue")
    reviews_url = reverse("reviews_dashboard:queue")
    weekly = [(week, nps) for week, nps in numbers.weekly_nps if nps is not None]
    nps_line = (
        charts.sparkline([v for _, v in weekly], labels=[dashboard_date(w) for w, _ in weekly])
        if len(weekly) > 1
        else None
    )
    cards = [
        Card(
            "nps",
            "NPS",
            _shown(cur.nps),
            f"{cur.nps_answers:,} answers; promoters minus detractors, in points",
            _change(cur.nps, prev.nps),
            nps_line,
            "NPS per week" if nps_line else "",
        )
    ]
    if cur.csat_answers or prev.csat_answers:
        cards.append(
            Card(
                "csat",
                "CSAT",
                _shown(cur.csat, " %"),
                f"share of 4 and 5 of {cur.csat_answers:,} answers on 1–5",
                _change(cur.csat, prev.csat),
            )
        )
    if cur.ces_answers or prev.ces_answers:
        cards.append(
            Card(
                "ces",
                "CES",
                _shown(cur.ces),
                f"average of {cur.ces_answers:,} answers on 1–7 (lower is easier)",
                _change(cur.ces, prev.ces, higher_is_better=False),
            )
        )
    response_cards = [
        Card(
            f"response-{channel}",
            f"Response rate, {CHANNEL_LABELS[channel]}",
            _shown(cur.response_rate(channel), " %"),
            f"{cur['answered:' + channel]:,} answers to {cur['sent:' + channel]:,} surveys sent",
            _change(cur.response_rate(channel), prev.response_rate(channel)),
        )
        for channel in CHANNELS
    ]
    kind_rows = [
        (KIND_LABELS[k], cur[f"answered_kind:{k}"], cur[f"sent_kind:{k}"], cur.kind_rate(k))
        for k in KIND_LABELS
        if cur[f"sent_kind:{k}"] or cur[f"answered_kind:{k}"]
    ]
    review_cards = [
        Card(
            "reviews",
            "Reviews",
            _shown(cur.reviews),
            "submitted in the period",
            _change(cur.reviews, prev.reviews),
            url=reviews_url,
        ),
        Card(
            "review-average",
            "Average rating",
            _shown(cur.review_average, " ★"),
            "of the reviews submitted",
            _change(cur.review_average, prev.review_average),
        ),
        Card(
            "photo-share",
            "Reviews with photos",
            _shown(cur.photo_share, " %"),
            f"{cur['reviews_photos']:,} of {cur.reviews:,}",
            _change(cur.photo_share, prev.photo_share),
        ),
    ]
    publish_rows = [
        (f"{s}★", cur.reviews_of(s, "published"), cur.reviews_of(s), cur.publish_rate(s))
        for s in STARS
    ]
    case_cards = [
        Card(
            "cases-opened",
            "Cases opened",
            _shown(cur["cases_opened"]),
            "follow-ups of unhappy customers",
            _change(cur["cases_opened"], prev["cases_opened"], higher_is_better=False),
            url=cases_url,
        ),
        Card(
            "first-response",
            "First response (average)",
            _shown(cur.response_hours, " h"),
            f"over {cur['cases_responded']:,} first responses",
            _change(cur.response_hours, prev.response_hours, higher_is_better=False),
        ),
        Card(
            "resolution",
            "Resolution (average)",
            _shown(cur.resolution_hours, " h"),
            f"over {cur['cases_resolved']:,} cases resolved",
            _change(cur.resolution_hours, prev.resolution_hours, higher_is_better=False),
        ),
        Card(
            "within-sla",
            "Resolved within SLA",
            _shown(cur.within_sla, " %"),
            f"{cur['resolved_in_sla']:,} of {cur['cases_resolved']:,}",
            _change(cur.within_sla, prev.within_sla),
        ),
        Card(
            "made-right",
            "Detractors made right",
            _shown(cur.made_right, " %"),
            f"{cur['made_right_yes']:,} of {cur['made_right_asked']:,} answered “yes, made right”",
            _change(cur.made_right, prev.made_right),
        ),
    ]
    late_nps, late_n = cur.delivery_split("late")
    ontime_nps, ontime_n = cur.delivery_split("ontime")
    return {
        "against": f"on the previous {numbers.period.days} days",
        "subtitle": (
            f"What customers told the shop from {dashboard_date(numbers.period.first)} to "
            f"{dashboard_date(numbers.period.last)}, against the {numbers.period.days} days before"
        ),
        "nps_cards": cards,
        "buckets_chart": charts.bar_chart(
            [
                ("Promoters", cur.bucket("promoter")),
                ("Passives", cur.bucket("passive")),
                ("Detractors", cur.bucket("detractor")),
            ]
        )
        if cur.nps_answers
        else None,
        "bucket_rows": [
            (label, cur.bucket(b), _pct(cur.bucket(b), cur.nps_answers))
            for label, b in (
                ("Promoters", "promoter"),
                ("Passives", "passive"),
                ("Detractors", "detractor"),
            )
        ],
        "response_cards": response_cards,
        "kind_rows": kind_rows,
        "review_cards": review_cards,
        "stars_chart": charts.bar_chart([(f"{s}★", cur.reviews_of(s)) for s in STARS])
        if cur.reviews
        else None,
        "publish_rows": publish_rows,
        "case_cards": case_cards,
        "late": {"nps": late_nps, "answers": late_n},
        "ontime": {"nps": ontime_nps, "answers": ontime_n},
    }


def _pct(part: int, whole: int) -> str:
    from feedback.numbers.selectors import share

    value = share(part, whole)
    return "—" if value is None else f"{value} %"
