"""The demo shop's surveys, added by `seed_demo` (through `feedback.demo`): its
survey settings, and a year of survey requests and answers backfilled as rows (never through
the services, so no message goes out and no event is published).

The shop tried a delivery CSAT and then CES for a few weeks before settling on NPS, so most
answers are NPS. Each delivered order (not cancelled, voided or refunded) is surveyed three days
after delivery within the contact budget (one per customer per 30 days), by text when the
customer takes marketing texts and the shop chose to ask that way, else by email. Texts are
answered more often than emails; emails are opened about half the time, and openers who did not
answer get the one reminder three days later, which some answer. NPS answers are about 60 %
promoters, 25 % passives and 15 % detractors; about a third say why."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from feedback.models import (
    SCALES,
    SurveyAnswer,
    SurveyKind,
    SurveyRequest,
    SurveyRequestStatus,
    SurveySettings,
)
from orders.demo import explicit_timestamps
from orders.models import (
    REVERSED_FINANCIAL_STATUSES,
    Channel,
    ConsentStatus,
    Order,
    OrderStatus,
    Purpose,
    Shop,
)

HISTORY = timedelta(days=365)
DELAY = timedelta(days=3)
BUDGET = timedelta(days=30)
REMINDER_AFTER = timedelta(days=3)
# What the shop asked, by how long ago the survey was due (older first).
_ASKED = ((timedelta(days=365), SurveyKind.CSAT_DELIVERY), (timedelta(days=320), SurveyKind.CES))
_SMS_SHARE = 0.35  # of the customers who take marketing texts
_ANSWERED: dict[str, float] = {Channel.EMAIL: 0.18, Channel.SMS: 0.34}
_OPENED = 0.52
_ANSWERED_AFTER_REMINDER = 0.22
_COMMENTED = 0.35
_WHY = {
    "promoter": [
        "Fast delivery and the tea tastes great.",
        "Arrived a day early, lovely packaging.",
        "Great quality, I will order again.",
        "Easy to order and the support team was kind.",
        "Exactly as described. Very happy.",
    ],
    "passive": [
        "Good products but shipping took a while.",
        "Fine overall, the size runs a little small.",
        "Nice, but a bit pricey for what it is.",
        "Okay. The box was slightly dented.",
    ],
    "detractor": [
        "It arrived late and nobody told me why.",
        "The lid leaks, tea everywhere in my bag.",
        "Wrong size and the return was a hassle.",
        "Package was damaged and one item was missing.",
        "Took two weeks to arrive, too late for the gift.",
    ],
}


def demo_surveys_seed(*, shop: Shop, now: datetime, seed: int, **kwargs: Any) -> dict[str, int]:
    SurveySettings.objects.create(shop=shop, kind=SurveyKind.NPS, budget_days=30)
    rng = random.Random(f"{seed}:surveys")  # noqa: S311 - demo data, not secrets
    with explicit_timestamps(SurveyRequest, SurveyAnswer):
        return _History(rng, shop, now).build()


def _nps_score(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.60:
        return rng.choice((9, 10, 10, 9, 10))
    if roll < 0.85:
        return rng.choice((7, 8))
    return rng.choice((0, 2, 3, 4, 5, 5, 6, 6, 6))


def _score(rng: random.Random, kind: str) -> int:
    if kind == SurveyKind.NPS:
        return _nps_score(rng)
    low, high = SCALES[kind]
    # Same mood as NPS, on the kind's scale: mostly happy, a tail of unhappy.
    share = _nps_score(rng) / 10
    return max(low, min(high, round(low + share * (high - low))))


def _segment(kind: str, score: int) -> str:
    low, high = SCALES[kind]
    share = (score - low) / (high - low)
    return "promoter" if share >= 0.85 else "passive" if share >= 0.65 else "detractor"


@dataclass
class _History:
    rng: random.Random
    shop: Shop
    now: datetime

    def _orders(self) -> list[Order]:
        return list(
            Order.objects.filter(
                shop=self.shop,
                customer__isnull=False,
                delivered_at__gte=self.now - HISTORY - DELAY,
                delivered_at__lt=self.now - DELAY - timedelta(hours=2),
            )
            .exclude(status=OrderStatus.CANCELLED)
            .exclude(financial_status__in=REVERSED_FINANCIAL_STATUSES)
            .select_related("customer")
            .prefetch_related("customer__consents")
            .order_by("delivered_at", "pk")
        )

    def _kind(self, due: datetime) -> str:
        for older_than, kind in _ASKED:
            if due < self.now - older_than + timedelta(days=45):
                return kind
        return SurveyKind.NPS

    def _channel(self, order: Order) -> str:  # a Channel value
        customer = order.customer
        texts = customer is not None and any(
            c.channel == Channel.SMS
            and c.purpose == Purpose.MARKETING
            and c.status == ConsentStatus.GRANTED
            for c in customer.consents.all()
        )
        phone = order.phone or (customer.phone if customer else "")
        if texts and phone and self.rng.random() < _SMS_SHARE:
            return Channel.SMS
        return Channel.EMAIL

    def build(self) -> dict[str, int]:
        last_survey: dict[int, datetime] = {}
        requests: list[SurveyRequest] = []
        answers: list[tuple[SurveyRequest, SurveyAnswer]] = []
        for order in self._orders():
            delivered_at, customer_id = order.delivered_at, order.customer_id
            if delivered_at is None or customer_id is None:
                continue  # the query leaves none out; the types cannot know
            due = delivered_at + DELAY
            previous = last_survey.get(customer_id)
            if previous is not None and due - previous < BUDGET:
                continue
            last_survey[customer_id] = due
            request, answer = self._survey(order, customer_id, due)
            requests.append(request)
            if answer is not None:
                answers.append((request, answer))
        SurveyRequest.objects.bulk_create(requests, batch_size=1000)
        for request, answer in answers:
            answer.request = request
        SurveyAnswer.objects.bulk_create([a for _r, a in answers], batch_size=1000)
        return {"survey_requests": len(requests), "survey_answers": len(answers)}

    def _survey(
        self, order: Order, customer_id: int, due: datetime
    ) -> tuple[SurveyRequest, SurveyAnswer | None]:
        rng, kind, channel = self.rng, self._kind(due), self._channel(order)
        sent_at = due + timedelta(minutes=rng.randint(1, 90))
        request = SurveyRequest(
            shop=self.shop,
            order=order,
            customer_id=customer_id,
            kind=kind,
            status=SurveyRequestStatus.SENT,
            due_at=due,
            channel=channel,
            sent_at=sent_at,
            created_at=due - DELAY,
            updated_at=sent_at,
        )
        answered_at = None
        if channel == Channel.EMAIL and rng.random() < _OPENED:
            opened_at = sent_at + timedelta(minutes=rng.randint(5, 60 * 30))
            request.opened_at = opened_at if opened_at < self.now else None
        if rng.random() < _ANSWERED[channel]:
            start = request.opened_at or sent_at
            answered_at = start + timedelta(minutes=rng.randint(1, 60 * 20))
        elif request.opened_at is not None and sent_at + REMINDER_AFTER < self.now:
            request.reminded_at = sent_at + REMINDER_AFTER
            if rng.random() < _ANSWERED_AFTER_REMINDER:
                answered_at = request.reminded_at + timedelta(minutes=rng.randint(10, 60 * 24))
        if answered_at is None or answered_at >= self.now:
            request.updated_at = request.reminded_at or request.opened_at or sent_at
            if request.updated_at >= self.now:
                request.updated_at = sent_at
            return request, None
        request.status, request.answered_at, request.updated_at = (
            SurveyRequestStatus.ANSWERED,
            answered_at,
            answered_at,
        )
        return request, self._answer(request, kind, channel, answered_at)

    def _answer(
        self, request: SurveyRequest, kind: str, channel: str, answered_at: datetime
    ) -> SurveyAnswer:
        score = _score(self.rng, kind)
        answer = SurveyAnswer(
            shop=self.shop,
            customer_id=request.customer_id,
            kind=kind,
            score=score,
            channel=channel,
            answered_at=answered_at,
            created_at=answered_at,
            updated_at=answered_at,
        )
        commented_at = answered_at + timedelta(minutes=self.rng.randint(1, 15))
        if self.rng.random() < _COMMENTED and commented_at < self.now:
            answer.comment = self.rng.choice(_WHY[_segment(kind, score)])
            answer.commented_at = answer.updated_at = commented_at
        return answer
