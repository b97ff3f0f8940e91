"""Every write on follow-up cases: opening one for an unhappy signal (once per signal),
assigning, notes, staff's replies through the messaging engine, the customer's replies, the
resolution with its "did we make it right?" follow-up, and the customer's answer to it.

The entry point other parts of feedback call is `open_case_for_signal` (surveys' answers,
reviews, text analysis) and, for problem reports, the `problem_reported` subscriber here."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from feedback.analysis.services import record_text
from feedback.cases.sla import (
    BusinessCalendar,
    business_add,
    business_between,
    due_soon_from,
)
from feedback.cases.tokens import case_reply_address, followup_urls
from feedback.models import (
    CASE_TRANSITIONS,
    Case,
    CaseEvent,
    CaseMessage,
    CasePolicy,
    CasePriority,
    CaseResolution,
    CaseSource,
    CaseStatus,
    MessageDirection,
    ResolutionKind,
    TextSource,
    ThreadChannel,
)
from feedback.models.cases import MONEY_RESOLUTIONS, PRIORITY_ORDER
from notifications.engine.kinds import flows_ensure_defaults
from notifications.engine.planning import customer_as_recipient
from notifications.engine.recipients import recipients_for
from notifications.models import Flow
from notifications.services import (
    MessageRequest,
    message_refusal,
    message_schedule,
    whatsapp_window_open,
)
from orders.models import Customer, Order, ProblemReport, Purpose, Shop, StaffMembership
from orders.selectors import customer_value
from orders.services.problem_resolution import problem_report_resolve
from orders.tenancy import staff_permission_require
from postpurchase import permissions
from postpurchase.events import Event
from postpurchase.exceptions import DomainError
from postpurchase.locks import row_lock
from postpurchase.permissions import Actor
from postpurchase.states import transition

REPLY_KIND = "case_reply"
FOLLOWUP_KIND = "case_followup"
# Strongly negative free text, on the analysis' sentiment scale (-1 … 1), unless the caller
# says: a text scoring below it opens a "text" case (`FEEDBACK_TEXT_CASE_THRESHOLD`).
TEXT_SENTIMENT_THRESHOLD: float = settings.FEEDBACK_TEXT_CASE_THRESHOLD
# A customer worth this much (orders that stood, in the shop's currency) or with this many
# orders gets their case one priority higher: losing them costs more.
VALUED_SPEND = Decimal("500.00")
VALUED_ORDERS = 5
SUMMARY_MAX = 200


# --- Which signals open a case, and how urgent ---------------------------------------------


def signal_priority(
    *,
    source: str,
    score: float | int | Decimal | None,
    scale: str | None,
    sentiment_threshold: float = TEXT_SENTIMENT_THRESHOLD,
) -> str | None:
    """The priority a signal calls for, or None when it is not an unhappy one: NPS 0-6 (0-3
    high), CSAT 1-2 (1 high), CES 1-2 of 7 (1 high), a review of 1-2★ (1★ high), free text
    scoring below the threshold (far below: high), a problem report (high)."""
    if source == CaseSource.PROBLEM_REPORT:
        return CasePriority.HIGH
    if source == CaseSource.STAFF:
        return CasePriority.NORMAL
    if score is None:
        return None
    value = float(score)
    if source == CaseSource.SURVEY and scale == "nps":
        return CasePriority.HIGH if value <= 3 else CasePriority.NORMAL if value <= 6 else None
    if (source == CaseSource.SURVEY and scale == "csat") or source == CaseSource.REVIEW:
        return CasePriority.HIGH if value <= 1 else CasePriority.NORMAL if value <= 2 else None
    if source == CaseSource.SURVEY and scale == "ces":
        # "How easy was it?" from 1 (very hard) to 7 (very easy): 1-2 was a struggle.
        return CasePriority.HIGH if value <= 1 else CasePriority.NORMAL if value <= 2 else None
    if source == CaseSource.TEXT:
        if value >= sentiment_threshold:
            return None
        return CasePriority.HIGH if value <= (sentiment_threshold - 1) / 2 else CasePriority.NORMAL
    return None


def _raised_for_value(priority: str, customer: Customer | None) -> str:
    """One step higher for a customer whose orders add up (never past urgent)."""
    if customer is None:
        return priority
    value = customer_value(customer=customer)
    if value.lifetime_spend < VALUED_SPEND and value.order_count < VALUED_ORDERS:
        return priority
    position = PRIORITY_ORDER.index(CasePriority(priority))
    return PRIORITY_ORDER[min(position + 1, len(PRIORITY_ORDER) - 1)]


# --- Policy and clock ----------------------------------------------------------------------


def case_policy_for(shop: Shop) -> CasePolicy:
    policy, _ = CasePolicy.objects.get_or_create(shop=shop)
    return policy


def case_calendar(shop: Shop, policy: CasePolicy | None = None) -> BusinessCalendar:
    policy = policy or case_policy_for(shop)
    return BusinessCalendar.build(
        zone=shop.timezone, hours=policy.business_hours, holidays=list(policy.holidays)
    )


# --- Opening --------------------------------------------------------------------------------


def _summary(source: str, score: Any, scale: str | None, text: str) -> str:
    labels = {
        "nps": f"NPS {score} of 10",
        "csat": f"CSAT {score} of 5",
        "ces": f"CES {score} of 7",
        "stars": f"{score}★ review",
        "sentiment": str(CaseSource.TEXT.label),
    }
    head = labels.get(scale or "", str(CaseSource(source).label))
    words = " ".join(text.split())
    return (f"{head}: {words}" if words else head)[:SUMMARY_MAX]


def _case_open(
    *,
    shop: Shop,
    customer: Customer | None,
    order: Order | None,
    source: str,
    source_id: int | None,
    priority: str,
    summary: str,
    description: str = "",
    score: Any = None,
    scale: str | None = None,
    assignee: Any = None,
    actor: Actor = None,
) -> Case:
    if source_id is not None:
        existing = Case.objects.filter(shop=shop, source=source, source_id=source_id).first()
        if existing is not None:
            return existing
    policy = case_policy_for(shop)
    calendar = case_calendar(shop, policy)
    now = timezone.now()
    priority = _raised_for_value(priority, customer)
    first_allowed = policy.target(priority, "first_response")
    resolution_allowed = policy.target(priority, "resolution")
    first_due = business_add(calendar, now, first_allowed)
    resolution_due = business_add(calendar, now, resolution_allowed)
    case = Case(
        shop=shop,
        customer=customer,
        order=order,
        source=source,
        source_id=source_id,
        summary=summary[:SUMMARY_MAX],
        description=description,
        score=Decimal(str(score)) if score is not None else None,
        scale=scale or "",
        priority=priority,
        assignee=assignee,
        first_response_due_at=first_due,
        first_response_soon_at=due_soon_from(calendar, first_due, first_allowed),
        resolution_due_at=resolution_due,
        resolution_soon_at=due_soon_from(calendar, resolution_due, resolution_allowed),
    )
    try:
        # A savepoint: a signal delivered twice at once finds the first case, not an error.
        with transaction.atomic():
            case.save()
            CaseEvent.objects.create(
                case=case,
                from_status="",
                to_status=CaseStatus.OPEN,
                actor=actor,
                note=f"opened: {CaseSource(source).label}",
            )
    except IntegrityError:
        return Case.objects.get(shop=shop, source=source, source_id=source_id)
    return case


def open_case_for_signal(
    *,
    shop: Shop,
    customer: Customer | None,
    source: str,
    source_id: int,
    order: Order | None = None,
    score: float | int | Decimal | None = None,
    scale: str | None = None,
    text: str = "",
    summary: str = "",
    sentiment_threshold: float = TEXT_SENTIMENT_THRESHOLD,
) -> Case | None:
    """Open the follow-up case an unhappy signal calls for, or return None when it does not
    call for one. Idempotent: the same (shop, source, source_id) always yields the one case.

    `source` is a `CaseSource` value ("survey", "review", "text", "problem_report"); `scale`
    says what `score` measures: "nps" (0-10), "csat" (1-5), "ces" (1-7, "how easy", 7 the
    easiest), "stars" (1-5, for reviews) or
    "sentiment" (-1 … 1, for "text", compared with `sentiment_threshold`)."""
    if source not in CaseSource.values or source == CaseSource.STAFF:
        raise ValueError(f"not a signal source: {source!r}")
    priority = signal_priority(
        source=source, score=score, scale=scale, sentiment_threshold=sentiment_threshold
    )
    if priority is None:
        return None
    return _case_open(
        shop=shop,
        customer=customer,
        order=order,
        source=source,
        source_id=source_id,
        priority=priority,
        summary=summary or _summary(source, score, scale, text),
        description=text,
        score=score,
        scale=scale,
    )


def case_for_signal(*, shop_id: int, source: str, source_id: int) -> Case | None:
    """The case a signal opened, if it opened one."""
    return Case.objects.filter(shop_id=shop_id, source=source, source_id=source_id).first()


@transaction.atomic
def case_words_add(*, case: Case, text: str) -> Case:
    """The customer's own words about the signal that opened the case, arriving after it (a
    survey's "why" after the score): kept in its description, and its summary says them when
    it said only the score. Once: the same words again change nothing."""
    words = text.strip()
    case = _locked(case)
    if not words or words in case.description:
        return case
    bare = _summary(case.source, _plain(case.score), case.scale or None, "")
    case.description = f"{case.description}\n\n{words}" if case.description else words
    fields = ["description"]
    if case.summary == bare:
        case.summary = _summary(case.source, _plain(case.score), case.scale or None, words)
        fields.append("summary")
    case.save(update_fields=[*fields, "updated_at"])
    return case


def _plain(score: Decimal | None) -> Any:
    """A stored score as it was given (4, not 4.00) for the summary."""
    if score is None or score != score.to_integral_value():
        return score
    return int(score)


def open_case_for_negative_text(
    *,
    shop: Shop,
    text_id: int,
    sentiment: float | None,
    text: str,
    customer: Customer | None,
    order: Order | None = None,
) -> Case | None:
    """A "text" case for an analysed text (`feedback.AnalysedText`, by id) strongly negative
    enough (below `TEXT_SENTIMENT_THRESHOLD`), from a source that opened no case itself."""
    if sentiment is None:
        return None
    return open_case_for_signal(
        shop=shop,
        customer=customer,
        order=order,
        source=CaseSource.TEXT,
        source_id=text_id,
        score=round(sentiment, 2),
        scale="sentiment",
        text=text,
    )


def open_case_by_staff(
    *,
    shop: Shop,
    actor: Actor,
    customer: Customer | None,
    summary: str,
    order: Order | None = None,
    priority: str = CasePriority.NORMAL,
    description: str = "",
    assignee: Any = None,
) -> Case:
    """A case staff open themselves (a call, a chat, a hunch)."""
    staff_permission_require(actor=actor, shop_id=shop.pk, action=permissions.CASE_HANDLE)
    if not summary.strip():
        raise DomainError("Say in a few words what the case is about.")
    if priority not in CasePriority.values:
        raise DomainError("Choose a priority.")
    if assignee is not None:
        _require_staff_of(shop.pk, assignee)
    with transaction.atomic():
        return _case_open(
            shop=shop,
            customer=customer,
            order=order,
            source=CaseSource.STAFF,
            source_id=None,
            priority=priority,
            summary=summary.strip(),
            description=description.strip(),
            assignee=assignee,
            actor=actor,
        )


def problem_reported_open_case(event: Event) -> Case | None:
    """Subscriber of orders' `problem_reported`: every problem report is a case (one queue)."""
    payload = event.payload
    report = (
        ProblemReport.objects.select_related("order__customer", "shop")
        .defer("photo")
        .get(pk=payload["problem_report_id"])
    )
    return open_case_for_signal(
        shop=report.shop,
        customer=report.order.customer,
        order=report.order,
        source=CaseSource.PROBLEM_REPORT,
        source_id=report.pk,
        text=report.description,
        summary=f"{report.get_kind_display()}: {' '.join(report.description.split())}",
    )


# --- Working a case -----------------------------------------------------------------------


def _require_staff_of(shop_id: int, user: Any) -> None:
    if not StaffMembership.objects.filter(
        shop_id=shop_id, user=user, user__is_active=True
    ).exists():
        raise DomainError("Cases can only be assigned to the shop's own staff.")


def _locked(case: Case) -> Case:
    return row_lock(case)


def _note_event(case: Case, actor: Actor, note: str) -> None:
    """A history line that is not a move (an assignment)."""
    CaseEvent.objects.create(
        case=case, from_status=case.status, to_status=case.status, actor=actor, note=note[:500]
    )


@transaction.atomic
def case_assign(*, case: Case, actor: Actor, assignee: Any) -> Case:
    """Give the case to a staff member of its shop, or to nobody (None)."""
    staff_permission_require(actor=actor, shop_id=case.shop_id, action=permissions.CASE_HANDLE)
    if assignee is not None:
        _require_staff_of(case.shop_id, assignee)
    case = _locked(case)
    case.assignee = assignee
    case.save(update_fields=["assignee", "updated_at"])
    who = (assignee.get_full_name() or assignee.get_username()) if assignee else "nobody"
    _note_event(case, actor, f"assigned to {who}")
    return case


@transaction.atomic
def case_note_add(*, case: Case, actor: Actor, body: str) -> CaseMessage:
    """An internal note: staff see it in the thread, the customer never does."""
    staff_permission_require(actor=actor, shop_id=case.shop_id, action=permissions.CASE_HANDLE)
    body = body.strip()
    if not body:
        raise DomainError("Write the note first.")
    return CaseMessage.objects.create(
        case=case,
        direction=MessageDirection.OUTBOUND,
        channel=ThreadChannel.NOTE,
        author=actor,
        body=body,
    )


def case_recipient(case: Case, channel: str) -> str:
    """Where a reply on `channel` goes: the order's address, else the customer's."""
    order, customer = case.order, case.customer
    if channel == ThreadChannel.EMAIL:
        return (order.email if order else "") or (customer.email if customer else "")
    return (order.phone if order else "") or (customer.phone if customer else "")


@dataclass(frozen=True)
class ReplyChannel:
    channel: str
    label: str
    recipient: str
    # Why a reply cannot go this way now ("" when it can).
    refusal: str


def case_reply_channels(case: Case) -> list[ReplyChannel]:
    """Each channel staff may reply on, with why not where it is refused: no address, the
    number replied STOP or was suppressed, no consent, WhatsApp outside its 24-hour window."""
    found = []
    for channel in (ThreadChannel.EMAIL, ThreadChannel.SMS, ThreadChannel.WHATSAPP):
        recipient = case_recipient(case, channel)
        if not recipient:
            what = "email address" if channel == ThreadChannel.EMAIL else "phone number"
            refusal = f"the customer has no {what}"
        elif channel == ThreadChannel.WHATSAPP and not whatsapp_window_open(
            shop_id=case.shop_id, number=recipient
        ):
            refusal = "the customer has not written on WhatsApp in the last 24 hours"
        else:
            refusal = message_refusal(
                shop=case.shop,
                customer_id=case.customer_id,
                channel=channel,
                recipient=recipient,
                purpose=Purpose.TRANSACTIONAL,
            )
        found.append(ReplyChannel(channel, str(ThreadChannel(channel).label), recipient, refusal))
    return found


def _reply_context(case: Case, body: str, channel: str) -> dict[str, Any]:
    customer = case.customer
    context: dict[str, Any] = {
        "body": body,
        "case_number": case.number,
        "case_summary": case.summary,
        "shop_name": case.shop.name,
        "customer_first_name": customer.first_name if customer else "",
        "order_number": case.order.number if case.order else "",
    }
    address = case_reply_address(case.pk) if channel == ThreadChannel.EMAIL else ""
    if address:
        context["reply_to"] = address
    return context


@transaction.atomic
def case_reply_send(
    *, case: Case, actor: Actor, channel: str, body: str, wait_for_customer: bool = True
) -> CaseMessage:
    """Reply to the customer by email, SMS or WhatsApp (inside its window), as a `case_reply`
    message of the engine, which checks consent and suppression again when it sends. The
    first reply meets the first-response target; waiting for the customer stops the clock."""
    staff_permission_require(actor=actor, shop_id=case.shop_id, action=permissions.CASE_HANDLE)
    body = body.strip()
    if not body:
        raise DomainError("Write the reply first.")
    case = _locked(case)
    if not case.can_reply:
        raise DomainError("This case is closed.")
    offered = {option.channel: option for option in case_reply_channels(case)}
    option = offered.get(channel)
    if option is None:
        raise DomainError("Choose email, SMS or WhatsApp.")
    if option.refusal:
        raise DomainError(f"Cannot reply by {option.label}: {option.refusal}.")
    now = timezone.now()
    entry = CaseMessage.objects.create(
        case=case,
        direction=MessageDirection.OUTBOUND,
        channel=channel,
        author=actor,
        body=body,
    )
    entry.message, _ = message_schedule(
        request=MessageRequest(
            shop_id=case.shop_id,
            customer_id=case.customer_id,
            order_id=case.order_id,
            kind=REPLY_KIND,
            channel=channel,
            purpose=Purpose.TRANSACTIONAL,
            recipient=option.recipient,
            about_type="case_message",
            about_id=entry.pk,
            send_at=now,
            context=_reply_context(case, body, channel),
        )
    )
    entry.save(update_fields=["message"])
    fields = []
    if case.first_responded_at is None:
        case.first_responded_at = now
        fields.append("first_responded_at")
    if wait_for_customer and case.status == CaseStatus.OPEN:
        case.waiting_since = now
        transition(
            case,
            to=CaseStatus.WAITING,
            table=CASE_TRANSITIONS,
            actor=actor,
            note=f"replied by {option.label}, waiting on the customer",
            extra_fields=("waiting_since", *fields),
        )
    elif fields:
        case.save(update_fields=[*fields, "updated_at"])
    return entry


def _clock_resume(case: Case, now: datetime) -> list[str]:
    """Stop the pause: the business time spent waiting moves the due times on by as much
    (the first response's too, if it is still to come). Returns the fields changed."""
    if case.waiting_since is None:
        return []
    calendar = case_calendar(case.shop)
    paused = max(business_between(calendar, case.waiting_since, now), timedelta(0))
    case.paused_for += paused
    case.waiting_since = None
    fields = ["paused_for", "waiting_since"]
    for which in ("resolution", *(("first_response",) if case.first_responded_at is None else ())):
        for moment in ("due", "soon"):
            name = f"{which}_{moment}_at"
            setattr(case, name, business_add(calendar, getattr(case, name), paused))
            fields.append(name)
    return fields


@transaction.atomic
def case_customer_reply_record(
    *, case: Case, channel: str, body: str, inbound_key: str = ""
) -> CaseMessage:
    """The customer's answer joins the thread (once per provider id); a case waiting on them
    is open again and its clock runs on."""
    case = _locked(case)
    if inbound_key:
        existing = CaseMessage.objects.filter(case=case, inbound_key=inbound_key[:255]).first()
        if existing is not None:
            return existing
    entry = CaseMessage.objects.create(
        case=case,
        direction=MessageDirection.INBOUND,
        channel=channel,
        body=body.strip() or "(empty message)",
        inbound_key=inbound_key[:255],
    )
    if body.strip():
        # Read once the reply is kept; a failure to read it never loses the reply (robust).
        transaction.on_commit(partial(case_message_analyse, entry.pk), robust=True)
    if case.status == CaseStatus.WAITING:
        fields = _clock_resume(case, timezone.now())
        transition(
            case,
            to=CaseStatus.OPEN,
            table=CASE_TRANSITIONS,
            note="the customer answered",
            extra_fields=tuple(fields),
        )
    else:
        case.save(update_fields=["updated_at"])
    return entry


def case_message_analyse(case_message_id: int) -> None:
    """What the customer wrote in their case's thread joins the text analysis (idempotent:
    one analysed text per thread entry)."""
    entry = (
        CaseMessage.objects.select_related("case__shop", "case__customer")
        .filter(pk=case_message_id, direction=MessageDirection.INBOUND)
        .first()
    )
    if entry is None or not entry.body.strip():
        return
    record_text(
        shop=entry.case.shop,
        source=TextSource.CASE_MESSAGE,
        source_id=entry.pk,
        text=entry.body,
        customer=entry.case.customer,
        written_at=entry.created_at,
    )


# --- Resolving and the follow-up ----------------------------------------------------------


def _followup_schedule(case: Case, resolution: CaseResolution, now: datetime) -> None:
    """Ask "did we make it right?" once, on the first channel of the shop's `case_followup`
    flow the customer can receive, after the flow's delay (two days by default)."""
    if case.order is None and case.customer is None:
        return
    flows_ensure_defaults(shop_id=case.shop_id)
    flow = Flow.objects.filter(shop_id=case.shop_id, kind=FOLLOWUP_KIND, is_enabled=True).first()
    if flow is None:
        return
    order = case.order or customer_as_recipient(case.customer)  # type: ignore[arg-type]
    chosen = recipients_for(order, list(flow.channels), purpose=flow.purpose)[:1]
    customer = case.customer
    due = now + flow.delay
    yes_url, no_url = followup_urls(resolution.pk)
    for channel, recipient in chosen:
        message_schedule(
            request=MessageRequest(
                shop_id=case.shop_id,
                customer_id=case.customer_id,
                order_id=case.order_id,
                kind=FOLLOWUP_KIND,
                channel=channel,
                purpose=flow.purpose,
                recipient=recipient,
                about_type="case_resolution",
                about_id=resolution.pk,
                send_at=due,
                expires_at=due + flow.useful_for if flow.useful_for else None,
                context={
                    "shop_name": case.shop.name,
                    "customer_first_name": customer.first_name if customer else "",
                    "case_number": case.number,
                    "order_number": case.order.number if case.order else "",
                    "yes_url": yes_url,
                    "no_url": no_url,
                },
            )
        )


@transaction.atomic
def case_resolve(
    *,
    case: Case,
    actor: Actor,
    kind: str,
    note: str = "",
    amount: Decimal | None = None,
) -> CaseResolution:
    """Record what the shop did (no money moves here: a refund or credit is made where money
    is handled) and schedule the follow-up. A refund or store credit is a manager's call and
    names its amount."""
    staff_permission_require(actor=actor, shop_id=case.shop_id, action=permissions.CASE_HANDLE)
    if kind not in ResolutionKind.values:
        raise DomainError("Choose how the case was resolved.")
    if kind in MONEY_RESOLUTIONS:
        staff_permission_require(
            actor=actor, shop_id=case.shop_id, action=permissions.CASE_RESOLVE_MONEY
        )
        if amount is None or amount <= 0:
            raise DomainError("Say how much was refunded or credited.")
    else:
        amount = None
    case = _locked(case)
    now = timezone.now()
    fields = _clock_resume(case, now) if case.status == CaseStatus.WAITING else []
    case.resolved_at = now
    case.made_right = None
    label = ResolutionKind(kind).label
    transition(
        case,
        to=CaseStatus.RESOLVED,
        table=CASE_TRANSITIONS,
        actor=actor,
        note=f"resolved: {label}",
        extra_fields=("resolved_at", "made_right", *fields),
    )
    resolution = CaseResolution.objects.create(
        case=case,
        kind=kind,
        note=note.strip(),
        amount=amount,
        currency=case.shop.currency if amount is not None else "",
        actor=actor,
    )
    _problem_report_settle(case, actor)
    _followup_schedule(case, resolution, now)
    return resolution


def _problem_report_settle(case: Case, actor: Actor) -> None:
    """A case opened from a problem report settles the report too (one queue): the order's
    page shows it resolved, through orders' own service."""
    if case.source != CaseSource.PROBLEM_REPORT or case.source_id is None:
        return
    report = ProblemReport.objects.defer("photo").filter(pk=case.source_id).first()
    if report is None or not report.is_open:
        return
    problem_report_resolve(report=report, actor=actor)


@transaction.atomic
def case_followup_answer(*, resolution_id: int, made_right: bool) -> CaseResolution:
    """The customer's one tap: yes closes the case, no reopens it with a note and a fresh
    resolution target. The first answer stands; a second tap changes nothing."""
    case = _locked(CaseResolution.objects.select_related("case").get(pk=resolution_id).case)
    # Under the case's lock: two taps at once are answered one after the other.
    resolution = CaseResolution.objects.get(pk=resolution_id)
    if resolution.is_answered:
        return resolution
    now = timezone.now()
    resolution.made_right, resolution.answered_at = made_right, now
    resolution.save(update_fields=["made_right", "answered_at"])
    latest = case.resolutions.order_by("-created_at", "-pk").first()
    if latest is None or latest.pk != resolution.pk or case.status != CaseStatus.RESOLVED:
        return resolution  # staff moved on since: the answer is recorded, the case stays
    case.made_right = made_right
    if made_right:
        case.closed_at = now
        transition(
            case,
            to=CaseStatus.CLOSED,
            table=CASE_TRANSITIONS,
            note="the customer said we made it right",
            extra_fields=("made_right", "closed_at"),
        )
        return resolution
    policy = case_policy_for(case.shop)
    calendar = case_calendar(case.shop, policy)
    allowed = policy.target(case.priority, "resolution")
    case.resolution_due_at = business_add(calendar, now, allowed)
    case.resolution_soon_at = due_soon_from(calendar, case.resolution_due_at, allowed)
    case.resolution_breach_notified_at = None
    case.resolved_at = None
    transition(
        case,
        to=CaseStatus.OPEN,
        table=CASE_TRANSITIONS,
        note="the customer said we did not make it right",
        extra_fields=(
            "made_right",
            "resolution_due_at",
            "resolution_soon_at",
            "resolution_breach_notified_at",
            "resolved_at",
        ),
    )
    CaseMessage.objects.create(
        case=case,
        direction=MessageDirection.INBOUND,
        channel=ThreadChannel.NOTE,
        body=(
            f"Reopened: the customer answered “no” to “did we make it right?” after "
            f"{resolution.get_kind_display().lower()}."
        ),
    )
    return resolution
