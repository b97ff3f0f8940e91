"""The demo shop's follow-up cases, added by `seed_demo` (through `feedback.demo`, after the
surveys and reviews demos), each pointing at a real detractor answer or 1-2★ review of the
shop: cases in every state, with threads and histories whose times lie in the past and follow
one another, so the queue and the case page show what they are for. Written as rows, never through
the services: no message goes out for them, and seeding stays fast.

Each scenario is placed against the shop's business hours as the services would: its deadlines
come from the real SLA clock, and its opening moment is chosen so that, seen at seeding time,
it is on time, due soon or breached."""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from feedback.cases.services import case_calendar, case_policy_for, signal_priority
from feedback.cases.sla import (
    BusinessCalendar,
    business_add,
    business_between,
    business_subtract,
    due_soon_from,
)
from feedback.cases.subscribers import SURVEY_CASE_SCALES
from feedback.models import (
    Case,
    CaseEvent,
    CaseMessage,
    CasePolicy,
    CasePriority,
    CaseResolution,
    CaseStatus,
    MessageDirection,
    ResolutionKind,
    Review,
    SurveyAnswer,
    SurveyKind,
    ThreadChannel,
)
from orders.demo import explicit_timestamps
from orders.models import Order, Shop, StaffMembership

# The demo's unhappy signals, taken in this rhythm (five survey answers to three reviews),
# each the real detractor answer or 1-2★ review of the demo shop that its case points at.
_RHYTHM = ("survey", "survey", "review", "survey", "review", "survey", "survey", "review")
_DETRACTOR = (
    Q(kind=SurveyKind.NPS, score__lte=6)
    | Q(kind__in=(SurveyKind.CSAT_DELIVERY, SurveyKind.CSAT_ORDER), score__lte=2)
    | Q(kind=SurveyKind.CES, score__lte=2)
)


@dataclass(frozen=True)
class _Signal:
    source: str
    source_id: int
    order: Order
    score: int
    scale: str
    text: str
    at: datetime


def _signals(shop: Shop) -> dict[str, list[_Signal]]:
    """The shop's detractor answers and 1-2★ reviews, newest first, as the cases service
    would have seen them (read after the surveys and reviews demos wrote theirs)."""
    answers = (
        SurveyAnswer.objects.filter(_DETRACTOR, shop=shop)
        .select_related("request__order__customer")
        .order_by("-answered_at", "-pk")[:400]
    )
    reviews = (
        Review.objects.filter(shop=shop, rating__lte=2, customer__isnull=False)
        .select_related("order__customer")
        .order_by("-submitted_at", "-pk")[:400]
    )
    return {
        "survey": [
            _Signal(
                "survey",
                a.pk,
                a.request.order,
                a.score,
                SURVEY_CASE_SCALES[SurveyKind(a.kind)],
                a.comment,
                a.answered_at,
            )
            for a in answers
        ],
        "review": [
            _Signal("review", r.pk, r.order, r.rating, "stars", r.body or r.title, r.submitted_at)
            for r in reviews
        ],
    }


_FIRST_REPLY = (
    "I am so sorry about this. Could you send a photo so we can put it right straight away?"
)
_CUSTOMER_ANSWER = "Here you go, the photo is attached. I would prefer a replacement."
_NOTE = "Checked with the warehouse: the batch from that week had a packing fault."


@dataclass
class _Built:
    case: Case
    events: list[CaseEvent] = field(default_factory=list)
    thread: list[CaseMessage] = field(default_factory=list)
    resolutions: list[CaseResolution] = field(default_factory=list)


class _Cases:
    def __init__(
        self,
        rng: random.Random,
        shop: Shop,
        now: datetime,
        staff: list[Any],
        signals: dict[str, list[_Signal]],
    ) -> None:
        self.rng, self.shop, self.now, self.staff = rng, shop, now, staff
        self.policy: CasePolicy = case_policy_for(shop)
        self.calendar: BusinessCalendar = case_calendar(shop, self.policy)
        self.signals = signals
        self.count = 0

    def _signal(self, opened: datetime) -> _Signal:
        """The next unused signal of the rhythm's source, the newest one before the case
        opened (else the oldest left): a case never opens before its signal if it can help."""
        source = _RHYTHM[self.count % len(_RHYTHM)]
        self.count += 1
        pool = self.signals[source] or self.signals["survey"] or self.signals["review"]
        index = next((i for i, s in enumerate(pool) if s.at <= opened), len(pool) - 1)
        return pool.pop(index)

    def _case(self, opened: datetime, priority: str = "normal") -> _Built:
        signal = self._signal(opened)
        source, score, scale, text, order = (
            signal.source,
            signal.score,
            signal.scale,
            signal.text,
            signal.order,
        )
        if priority == CasePriority.NORMAL:
            # As the service would rate it: NPS 0-3, CSAT 1, a 1★ review are urgent.
            priority = signal_priority(source=source, score=score, scale=scale) or priority
        first = self.policy.target(priority, "first_response")
        full = self.policy.target(priority, "resolution")
        first_due = business_add(self.calendar, opened, first)
        resolution_due = business_add(self.calendar, opened, full)
        head = {
            "nps": f"NPS {score} of 10",
            "csat": f"CSAT {score} of 5",
            "ces": f"CES {score} of 7",
            "stars": f"{score}★ review",
        }
        case = Case(
            shop=self.shop,
            customer=order.customer,
            order=order,
            source=source,
            source_id=signal.source_id,
            summary=(f"{head[scale]}: {' '.join(text.split())}" if text else head[scale])[:200],
            description=text,
            score=Decimal(str(score)),
            scale=scale,
            priority=priority,
            assignee=self.rng.choice([*self.staff, None]) if self.staff else None,
            first_response_due_at=first_due,
            first_response_soon_at=due_soon_from(self.calendar, first_due, first),
            resolution_due_at=resolution_due,
            resolution_soon_at=due_soon_from(self.calendar, resolution_due, full),
            created_at=opened,
            updated_at=opened,
        )
        built = _Built(case)
        self._event(built, "", CaseStatus.OPEN, opened, "opened from a customer's signal")
        return built

    def _event(self, built: _Built, was: str, to: str, at: datetime, note: str) -> None:
        built.case.status = to
        built.case.updated_at = at
        actor = built.case.assignee if was else None
        built.events.append(CaseEvent(from_status=was, to_status=to, actor=actor, note=note, at=at))

    def _say(self, built: _Built, at: datetime, body: str, *, inbound: bool = False) -> None:
        channel = ThreadChannel.EMAIL if inbound or self.rng.random() < 0.7 else ThreadChannel.SMS
        built.thread.append(
            CaseMessage(
                direction=MessageDirection.INBOUND if inbound else MessageDirection.OUTBOUND,
                channel=channel,
                author=None if inbound else built.case.assignee,
                body=body,
                created_at=at,
            )
        )

    def _replied(self, built: _Built, at: datetime) -> None:
        self._say(built, at, _FIRST_REPLY)
        built.case.first_responded_at = at
        built.case.waiting_since = at
        self._event(
            built, CaseStatus.OPEN, CaseStatus.WAITING, at, "replied, waiting on the customer"
        )

    def _answered(self, built: _Built, at: datetime) -> None:
        """The customer answers: the business time spent waiting moves the deadline on."""
        case = built.case
        if case.waiting_since is not None:
            paused = max(business_between(self.calendar, case.waiting_since, at), timedelta(0))
            case.paused_for += paused
            full = self.policy.target(case.priority, "resolution")
            case.resolution_due_at = business_add(self.calendar, case.resolution_due_at, paused)
            case.resolution_soon_at = due_soon_from(self.calendar, case.resolution_due_at, full)
        case.waiting_since = None
        self._say(built, at, _CUSTOMER_ANSWER, inbound=True)
        self._event(built, CaseStatus.WAITING, CaseStatus.OPEN, at, "the customer answered")

    def _resolved(self, built: _Built, at: datetime, kind: str) -> CaseResolution:
        case = built.case
        case.resolved_at = at
        self._event(built, CaseStatus.OPEN, CaseStatus.RESOLVED, at, f"resolved: {kind}")
        amount = (
            Decimal("24.00")
            if kind in (ResolutionKind.REFUND, ResolutionKind.STORE_CREDIT)
            else None
        )
        resolution = CaseResolution(
            kind=kind,
            note="Sent with our apologies.",
            amount=amount,
            currency=self.shop.currency if amount else "",
            actor=case.assignee,
            created_at=at,
        )
        built.resolutions.append(resolution)
        return resolution

    def scenario(self, name: str) -> _Built:
        now, hour = self.now, timedelta(hours=1)
        # The cases still on the clock are placed against the moment of seeding (the history's
        # reference is that day's midnight), so the queue shows them as meant when it is opened.
        seeded = timezone.now()
        if timedelta(0) <= seeded - now < timedelta(days=1):
            now = seeded
        allowed = self.policy.target("normal", "first_response")
        if name == "on_time":
            return self._case(now - 2 * hour)
        if name == "due_soon":
            return self._case(business_subtract(self.calendar, now, allowed - 2 * hour))
        if name == "breached":
            built = self._case(business_subtract(self.calendar, now, allowed + 3 * hour), "high")
            built.case.first_response_breach_notified_at = built.case.first_response_due_at
            return built
        # Old enough for every step of the scenario to lie in the past.
        days = {"waiting": (1, 2), "resolved": (3, 5), "made_right_no": (4, 6)}.get(name, (7, 40))
        opened = now - timedelta(days=self.rng.randint(*days), hours=self.rng.randint(0, 8))
        built = self._case(opened)
        self._replied(built, opened + 2 * hour)
        if name == "waiting":
            return built
        self._answered(built, opened + timedelta(hours=20))
        built.thread.append(
            CaseMessage(
                direction=MessageDirection.OUTBOUND,
                channel=ThreadChannel.NOTE,
                author=built.case.assignee,
                body=_NOTE,
                created_at=opened + timedelta(hours=21),
            )
        )
        kind = self.rng.choice(list(ResolutionKind))
        resolution = self._resolved(built, opened + timedelta(hours=26), kind)
        if name == "resolved":
            return built
        answered = opened + timedelta(days=2, hours=30)
        resolution.made_right, resolution.answered_at = name == "made_right_yes", answered
        built.case.made_right = resolution.made_right
        if name == "made_right_yes":
            built.case.closed_at = answered
            self._event(
                built,
                CaseStatus.RESOLVED,
                CaseStatus.CLOSED,
                answered,
                "the customer said we made it right",
            )
            return built
        self._event(
            built,
            CaseStatus.RESOLVED,
            CaseStatus.OPEN,
            answered,
            "the customer said we did not make it right",
        )
        built.case.resolved_at = None
        full = self.policy.target("normal", "resolution")
        built.case.resolution_due_at = business_add(self.calendar, answered, full)
        built.case.resolution_soon_at = due_soon_from(
            self.calendar, built.case.resolution_due_at, full
        )
        built.thread.append(
            CaseMessage(
                direction=MessageDirection.INBOUND,
                channel=ThreadChannel.NOTE,
                body="Reopened: the customer answered “no” to “did we make it right?”.",
                created_at=answered,
            )
        )
        if name == "made_right_no_closed":
            second = answered + timedelta(hours=5)
            again = self._resolved(built, second, ResolutionKind.REFUND)
            again.made_right, again.answered_at = True, second + timedelta(days=2)
            built.case.made_right = True
            built.case.closed_at = again.answered_at
            self._event(
                built,
                CaseStatus.RESOLVED,
                CaseStatus.CLOSED,
                again.answered_at,
                "the customer said we made it right",
            )
        return built


# How many of each: every state the queue and the numbers show.
SCENARIOS = {
    "on_time": 3,
    "due_soon": 2,
    "breached": 2,
    "waiting": 3,
    "resolved": 3,
    "made_right_yes": 8,
    "made_right_no": 2,
    "made_right_no_closed": 2,
}


def demo_cases_seed(*, shop: Shop, now: datetime, seed: int, **kwargs: Any) -> dict[str, int]:
    """Called by `feedback.demo` after the surveys and reviews demos: each case points at one
    of their real unhappy signals, so as many cases as there are signals, at most."""
    rng = random.Random(f"{seed}:cases")  # noqa: S311 - demo data, not secrets
    signals = _signals(shop)
    available = len(signals["survey"]) + len(signals["review"])
    if not available:
        return {"cases": 0}
    staff = [m.user for m in StaffMembership.objects.filter(shop=shop).select_related("user")]
    making = _Cases(rng, shop, now, staff, signals)
    names = [n for n, count in SCENARIOS.items() for _ in range(count)][:available]
    built = [making.scenario(name) for name in names]
    with explicit_timestamps(Case, CaseEvent, CaseMessage, CaseResolution):
        Case.objects.bulk_create([b.case for b in built])
        for b in built:
            # Each row learns its case's id only now that the case is saved.
            for event in b.events:
                event.case = b.case
            for entry in b.thread:
                entry.case = b.case
            for resolution in b.resolutions:
                resolution.case = b.case
        CaseEvent.objects.bulk_create([e for b in built for e in b.events])
        CaseMessage.objects.bulk_create([m for b in built for m in b.thread])
        CaseResolution.objects.bulk_create([r for b in built for r in b.resolutions])
    return {"cases": len(built)}
