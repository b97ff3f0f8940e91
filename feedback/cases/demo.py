"""The demo shop's follow-up cases, added by `seed_demo` (through `orders.demo.demo_shop_seeded`):
cases in every state, with threads and histories whose times lie in the past and follow one
another, so the queue and the case page show what they are for. Written as rows, never through
the services: no message goes out for them, and seeding stays fast.

Each scenario is placed against the shop's business hours as the services would: its deadlines
come from the real SLA clock, and its opening moment is chosen so that, seen at seeding time,
it is on time, due soon or breached."""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from feedback.cases.services import case_calendar, case_policy_for
from feedback.cases.sla import (
    BusinessCalendar,
    business_add,
    business_between,
    business_subtract,
    due_soon_from,
)
from feedback.models import (
    Case,
    CaseEvent,
    CaseMessage,
    CasePolicy,
    CaseResolution,
    CaseStatus,
    MessageDirection,
    ResolutionKind,
    ThreadChannel,
)
from orders.demo import demo_shop_seeded, explicit_timestamps
from orders.models import Order, OrderStatus, Shop, StaffMembership

# A demo signal's source id: far above any id a real answer, review or text will have here.
_SOURCE_ID_BASE = 9_000_000

_COMPLAINTS = (
    ("survey", 2, "nps", "Took almost two weeks to arrive and the tracking never updated."),
    ("survey", 4, "nps", "The mug is lovely but the lid leaks when it is tipped."),
    ("survey", 1, "csat", "The box was crushed and one jar was broken."),
    ("review", 1, "stars", "Stopped working after a week. Very disappointed."),
    ("review", 2, "stars", "Smaller than the photos suggest, and the colour is off."),
    ("text", -0.8, "sentiment", "Worst delivery experience ever, nobody answers my emails."),
    ("survey", 5, "nps", "Wrong size sent and the exchange form kept failing."),
    ("review", 2, "stars", "The diffuser is noisy at night."),
)
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
    def __init__(self, rng: random.Random, shop: Shop, now: datetime, staff: list[Any]) -> None:
        self.rng, self.shop, self.now, self.staff = rng, shop, now, staff
        self.policy: CasePolicy = case_policy_for(shop)
        self.calendar: BusinessCalendar = case_calendar(shop, self.policy)
        self.count = 0

    def _case(self, order: Order, opened: datetime, priority: str = "normal") -> _Built:
        source, score, scale, text = _COMPLAINTS[self.count % len(_COMPLAINTS)]
        self.count += 1
        first = self.policy.target(priority, "first_response")
        full = self.policy.target(priority, "resolution")
        first_due = business_add(self.calendar, opened, first)
        resolution_due = business_add(self.calendar, opened, full)
        head = {
            "nps": f"NPS {score} of 10",
            "csat": f"CSAT {score} of 5",
            "stars": f"{score}★ review",
        }
        case = Case(
            shop=self.shop,
            customer=order.customer,
            order=order,
            source=source,
            source_id=_SOURCE_ID_BASE + self.count,
            summary=f"{head.get(scale, 'Negative words')}: {text}"[:200],
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

    def scenario(self, name: str, order: Order) -> _Built:
        now, hour = self.now, timedelta(hours=1)
        # The cases still on the clock are placed against the moment of seeding (the history's
        # reference is that day's midnight), so the queue shows them as meant when it is opened.
        seeded = timezone.now()
        if timedelta(0) <= seeded - now < timedelta(days=1):
            now = seeded
        allowed = self.policy.target("normal", "first_response")
        if name == "on_time":
            return self._case(order, now - 2 * hour)
        if name == "due_soon":
            return self._case(order, business_subtract(self.calendar, now, allowed - 2 * hour))
        if name == "breached":
            built = self._case(
                order, business_subtract(self.calendar, now, allowed + 3 * hour), "high"
            )
            built.case.first_response_breach_notified_at = built.case.first_response_due_at
            return built
        # Old enough for every step of the scenario to lie in the past.
        days = {"waiting": (1, 2), "resolved": (3, 5), "made_right_no": (4, 6)}.get(name, (7, 40))
        opened = now - timedelta(days=self.rng.randint(*days), hours=self.rng.randint(0, 8))
        built = self._case(order, opened)
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


@receiver(demo_shop_seeded, dispatch_uid="feedback.demo.cases")
def demo_cases_seed(*, shop: Shop, now: datetime, seed: int, **kwargs: Any) -> dict[str, int]:
    rng = random.Random(f"{seed}:cases")  # noqa: S311 - demo data, not secrets
    orders = list(
        Order.objects.filter(
            shop=shop,
            status__in=(OrderStatus.DELIVERED, OrderStatus.CLOSED),
            customer__isnull=False,
        )
        .select_related("customer")
        .order_by("-placed_at")[:200]
    )
    if not orders:
        return {"cases": 0}
    staff = [m.user for m in StaffMembership.objects.filter(shop=shop).select_related("user")]
    making = _Cases(rng, shop, now, staff)
    built = [
        making.scenario(name, orders[(i * 7) % len(orders)])
        for i, name in enumerate(n for n, count in SCENARIOS.items() for _ in range(count))
    ]
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
