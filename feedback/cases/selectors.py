"""What the case pages read, every query scoped to the staff member's current shop
(`orders.tenancy.scoped`): a case of another shop is a 404 or absent."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case as When_
from django.db.models import DateTimeField, F, IntegerField, Q, QuerySet, When
from django.db.models import Value as V
from django.db.models.functions import Concat, Least
from django.shortcuts import get_object_or_404
from django.utils import timezone

from feedback.cases.services import ReplyChannel, case_calendar, case_reply_channels
from feedback.cases.sla import SlaClock, SlaState, sla_clock, sla_words
from feedback.models import (
    OPEN_CASE_STATES,
    Case,
    CaseEvent,
    CaseMessage,
    CaseResolution,
    CaseStatus,
)
from feedback.models.cases import PRIORITY_ORDER
from orders.models import Shop, StaffMembership
from orders.tenancy import scoped

# The SLA states the queue filters by.
SLA_FILTERS = (
    (SlaState.ON_TIME.value, "On time"),
    (SlaState.DUE_SOON.value, "Due soon"),
    (SlaState.BREACHED.value, "Breached"),
    (SlaState.PAUSED.value, "Waiting on the customer"),
)
_OPEN = Q(status=CaseStatus.OPEN)
_FIRST_OWED = Q(first_responded_at__isnull=True)


def _breached(now: datetime) -> Q:
    return _OPEN & (
        (_FIRST_OWED & Q(first_response_due_at__lte=now)) | Q(resolution_due_at__lte=now)
    )


def _soon(now: datetime) -> Q:
    return _OPEN & (
        (_FIRST_OWED & Q(first_response_soon_at__lte=now)) | Q(resolution_soon_at__lte=now)
    )


OPEN_CASE_REASON = "a follow-up case is open"


def customers_with_open_case(customer_ids: Collection[int]) -> dict[int, str]:
    """{customer_id: reason} for the customers with a follow-up case open or waiting on them:
    no survey asks them how we did while we are still putting it right. One query whatever the
    number of ids (a survey hold check, listed in `FEEDBACK_SURVEY_HOLD_CHECKS`)."""
    if not customer_ids:
        return {}
    rows = (
        Case.objects.filter(customer_id__in=customer_ids, status__in=OPEN_CASE_STATES)
        .values_list("customer_id", flat=True)
        .distinct()
    )
    return dict.fromkeys(rows, OPEN_CASE_REASON)


def sla_filter(state: str, now: datetime) -> Q:
    if state == SlaState.BREACHED:
        return _breached(now)
    if state == SlaState.DUE_SOON:
        return _soon(now) & ~_breached(now)
    if state == SlaState.ON_TIME:
        return _OPEN & ~_soon(now) & ~_breached(now)
    if state == SlaState.PAUSED:
        return Q(status=CaseStatus.WAITING)
    return Q()


def case_list_for_shop(
    *,
    shop: Shop,
    user: Any = None,
    status: str = "",
    sla: str = "",
    assignee: str = "",
    source: str = "",
    priority: str = "",
    q: str = "",
    ordering: tuple[str, ...] = ("next_due_at", "pk"),
) -> QuerySet[Case]:
    """The queue: open and waiting cases unless a status is asked for, each with its next
    deadline (`next_due_at`: the first response's while it is owed, else the resolution's)
    and its priority's rank (`priority_rank`, low 0 … urgent 3), both sortable."""
    now = timezone.now()
    cases = scoped(Case, shop).select_related("customer", "order", "assignee")
    cases = cases.annotate(
        next_due_at=When_(
            When(_FIRST_OWED, then=Least("first_response_due_at", "resolution_due_at")),
            default=F("resolution_due_at"),
            output_field=DateTimeField(),
        ),
        priority_rank=When_(
            *[When(priority=p, then=V(rank)) for rank, p in enumerate(PRIORITY_ORDER)],
            default=V(0),
            output_field=IntegerField(),
        ),
    )
    if status == "all":
        pass
    elif status:
        cases = cases.filter(status=status)
    else:
        cases = cases.filter(status__in=(CaseStatus.OPEN, CaseStatus.WAITING))
    if sla:
        cases = cases.filter(sla_filter(sla, now))
    if assignee == "mine" and user is not None:
        cases = cases.filter(assignee=user)
    elif assignee == "unassigned":
        cases = cases.filter(assignee__isnull=True)
    elif assignee.isdigit():
        cases = cases.filter(assignee_id=int(assignee))
    if source:
        cases = cases.filter(source=source)
    if priority:
        cases = cases.filter(priority=priority)
    if q:
        cases = cases.annotate(
            customer_name=Concat("customer__first_name", V(" "), "customer__last_name")
        ).filter(
            Q(customer__email__iexact=q)
            | Q(customer__email__icontains=q)
            | Q(customer_name__icontains=q)
            | Q(order__number__iexact=q)
            | Q(order__number__iexact=f"#{q.lstrip('#')}")
        )
    return cases.order_by(*ordering)


def shop_staff(*, shop: Shop) -> list[Any]:
    """The shop's active staff, for the assignee filter and picker."""
    return [
        m.user
        for m in StaffMembership.objects.filter(shop=shop, user__is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__username")
    ]


def case_get_for_shop(*, shop: Shop, case_id: int) -> Case:
    return get_object_or_404(
        scoped(Case, shop).select_related("customer", "order", "assignee", "shop"), pk=case_id
    )


@dataclass(frozen=True)
class CaseSla:
    first_response: SlaClock
    resolution: SlaClock

    @property
    def current(self) -> SlaClock:
        """The deadline that matters now: the first response while owed, else resolution."""
        if self.first_response.state != SlaState.MET:
            return self.first_response
        return self.resolution

    @property
    def words(self) -> str:
        return sla_words(self.current)


def case_sla(case: Case, now: datetime | None = None, calendar: Any = None) -> CaseSla:
    now = now or timezone.now()
    calendar = calendar or case_calendar(case.shop)
    done, paused = case.is_done, case.is_waiting
    return CaseSla(
        first_response=sla_clock(
            calendar,
            due_at=case.first_response_due_at,
            soon_at=case.first_response_soon_at,
            now=now,
            paused=paused,
            met=case.first_responded_at is not None or done,
        ),
        resolution=sla_clock(
            calendar,
            due_at=case.resolution_due_at,
            soon_at=case.resolution_soon_at,
            now=now,
            paused=paused,
            met=done,
        ),
    )


@dataclass(frozen=True)
class CaseRow:
    case: Case
    sla: CaseSla


def case_rows(*, shop: Shop, cases: list[Case], now: datetime | None = None) -> list[CaseRow]:
    """A page of the queue with each case's SLA, the shop's calendar read once."""
    now = now or timezone.now()
    calendar = case_calendar(shop)
    return [CaseRow(case, case_sla(case, now, calendar)) for case in cases]


@dataclass(frozen=True)
class CasePage:
    case: Case
    thread: list[CaseMessage]
    events: list[CaseEvent]
    resolutions: list[CaseResolution]
    sla: CaseSla
    reply_channels: list[ReplyChannel]


def case_page(*, case: Case) -> CasePage:
    return CasePage(
        case=case,
        thread=list(case.thread.select_related("author", "message").order_by("created_at", "pk")),
        events=list(case.events.select_related("actor").order_by("at", "pk")),
        resolutions=list(case.resolutions.select_related("actor").order_by("created_at", "pk")),
        sla=case_sla(case),
        reply_channels=case_reply_channels(case),
    )


def order_cases_panel(order: Any) -> dict[str, Any]:
    """The follow-up cases section of the merchant's order page (`orders.dashboard.panels`):
    the order's cases, latest first, each with its SLA. Two queries when it has cases (its
    cases, the shop's policy), one when it has none."""
    cases = list(
        scoped(Case, order.shop)
        .filter(order=order)
        .select_related("assignee")
        .order_by("-created_at", "-pk")
    )
    # The shop rides along with the order: the calendar needs only its zone and its policy.
    rows = case_rows(shop=order.shop, cases=cases) if cases else []
    return {"rows": rows, "order": order}
