"""Every write of surveys: planning a request within the contact budget, mirroring its message's
sending, recording an answer once and its "why", and scheduling the one reminder.

The contact budget (at most one survey per customer and shop per `budget_days`; none while a
hold is open, see `selectors.survey_holds`; none for a cancelled, voided or refunded order) is
applied when a request is planned and again just before its message goes out
(`survey_messages_refuse`, the kinds' `send_check`)."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from feedback.events import FeedbackEventName
from feedback.models import (
    SURVEY_REQUEST_TRANSITIONS,
    SurveyAnswer,
    SurveyRequest,
    SurveyRequestStatus,
)
from feedback.surveys.selectors import (
    SURVEY_REQUEST_KIND,
    survey_budget_used,
    survey_holds,
    survey_settings_for,
)
from notifications.models import Message, MessageStatus
from notifications.services import messages_cancel
from orders.models import Order, OrderStatus
from postpurchase import events
from postpurchase.exceptions import DomainError
from postpurchase.locks import row_lock
from postpurchase.message_kinds import PendingMessage
from postpurchase.states import can_transition

logger = logging.getLogger(__name__)

SURVEY_REMINDER_KIND = "survey_reminder"
# Namespace of the advisory lock that serialises the budget check of one customer's surveys.
_BUDGET_LOCK = 7_712_001
# A planned request whose message never appeared (no channel reached the customer) is let go
# after this, so it takes no room in the budget.
_NO_MESSAGE_AFTER = timedelta(hours=1)
_S = SurveyRequestStatus


def order_survey_refusal(order: Order) -> str:
    """Why no survey may be about this order, or ""."""
    if order.customer_id is None:
        return "the order has no customer"
    if order.status == OrderStatus.CANCELLED:
        return "the order was cancelled"
    if order.is_payment_reversed:
        return f"the order's payment was {order.get_financial_status_display().lower()}"
    return ""


def _budget_lock(customer_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_BUDGET_LOCK, customer_id])


@transaction.atomic
def survey_request_plan(*, order: Order, delay: timedelta) -> SurveyRequest | None:
    """The survey this delivered order owes, `delay` after its delivery, or None when the
    contact budget forbids one. Asking again returns the same request (or None again)."""
    if order.delivered_at is None or order.customer_id is None or order_survey_refusal(order):
        return None
    # Two orders of one customer delivered at once must not both pass the budget.
    _budget_lock(order.customer_id)
    existing = SurveyRequest.objects.filter(order=order).first()
    if existing is not None:
        return existing if existing.status != _S.CANCELLED else None
    settings = survey_settings_for(shop_id=order.shop_id)
    due = order.delivered_at + delay
    used = survey_budget_used(
        customer_id=order.customer_id, shop_id=order.shop_id, around=due, budget=settings.budget
    )
    if used is not None or survey_holds([order.customer_id]):
        return None
    return SurveyRequest.objects.create(
        shop_id=order.shop_id,
        order=order,
        customer_id=order.customer_id,
        kind=settings.kind,
        due_at=due,
    )


# --- At send time ----------------------------------------------------------------------------


def _sent_recently(requests: list[SurveyRequest], now: datetime) -> dict[int, int]:
    """{request id: another request of its customer and shop sent within the shop's budget}.
    Two queries, whatever the number of requests."""
    budgets = {
        shop_id: survey_settings_for(shop_id=shop_id).budget
        for shop_id in {r.shop_id for r in requests}
    }
    sent = list(
        SurveyRequest.objects.filter(
            customer_id__in={r.customer_id for r in requests},
            status__in=(_S.SENT, _S.ANSWERED),
            sent_at__gt=now - max(budgets.values()),
        ).values_list("pk", "customer_id", "shop_id", "sent_at")
    )
    found: dict[int, int] = {}
    for request in requests:
        since = now - budgets[request.shop_id]
        for pk, customer_id, shop_id, sent_at in sent:
            same = customer_id == request.customer_id and shop_id == request.shop_id
            if same and pk != request.pk and sent_at is not None and sent_at > since:
                found[request.pk] = pk
    return found


def survey_messages_refuse(pending: list[PendingMessage]) -> dict[int, str]:
    """The `send_check` of the survey request and its reminder: why each message may no longer
    go out (the survey was answered or withdrawn, the order cancelled or refunded since, another
    survey went within the budget, a return or case opened). A few queries per chunk."""
    ids = {m.about[1] for m in pending if m.about[0] == "survey_request"}
    requests = {r.pk: r for r in SurveyRequest.objects.select_related("order").filter(pk__in=ids)}
    now = timezone.now()
    live = [r for r in requests.values() if r.status in (_S.PLANNED, _S.SENT)]
    recent = _sent_recently(live, now) if live else {}
    held = survey_holds({r.customer_id for r in live})
    refused: dict[int, str] = {}
    for message in pending:
        request = requests.get(message.about[1]) if message.about[0] == "survey_request" else None
        if request is None or request.status == _S.CANCELLED:
            refused[message.message_id] = "the survey was withdrawn"
        elif request.status == _S.ANSWERED:
            refused[message.message_id] = "the survey was answered"
        elif reason := order_survey_refusal(request.order):
            refused[message.message_id] = reason
        elif request.pk in recent:
            refused[message.message_id] = "another survey reached the customer within the budget"
        elif request.customer_id in held:
            refused[message.message_id] = f"survey held: {held[request.customer_id]}"
    return refused


# --- Mirroring the messages ------------------------------------------------------------------


def _request_messages(kind: str) -> "Subquery":
    return Subquery(
        Message.objects.filter(kind=kind, about_type="survey_request", about_id=OuterRef("pk"))
        .order_by("-created_at")
        .values("pk")[:1]
    )


@transaction.atomic
def survey_requests_refresh(*, now: datetime | None = None) -> int:
    """Mirror on each open request what happened to its message: sent (when, on which channel),
    opened, or never to go (then the request is cancelled and leaves the budget). Returns how
    many requests changed."""
    now = now or timezone.now()
    changed = 0
    # Only those due: a message cannot have gone before its survey was due.
    planned = SurveyRequest.objects.select_for_update(skip_locked=True).filter(
        status=_S.PLANNED, due_at__lte=now
    )
    messages = {
        r.pk: r.message_pk
        for r in planned.annotate(message_pk=_request_messages(SURVEY_REQUEST_KIND))
    }
    found = Message.objects.in_bulk([pk for pk in messages.values() if pk])
    for request_id, message_pk in messages.items():
        message = found.get(message_pk) if message_pk else None
        changed += _request_mirror(request_id, message, now)
    changed += _openings_mirror(now)
    return changed


_NEVER_SENT = (
    MessageStatus.CANCELLED,
    MessageStatus.SUPPRESSED,
    MessageStatus.FAILED,
    MessageStatus.BOUNCED,
)


def _request_mirror(request_id: int, message: Message | None, now: datetime) -> int:
    requests = SurveyRequest.objects.filter(pk=request_id, status=_S.PLANNED)
    if message is not None and message.sent_at and message.status not in _NEVER_SENT:
        values = {"channel": message.channel, "message": message, "sent_at": message.sent_at}
        return requests.update(status=_S.SENT, updated_at=now, **values)
    if message is not None and message.status in _NEVER_SENT:
        reason = f"its message was {message.get_status_display().lower()}: {message.status_reason}"
        return requests.update(status=_S.CANCELLED, status_reason=reason[:255], updated_at=now)
    if message is None:
        stale = requests.filter(created_at__lt=now - _NO_MESSAGE_AFTER, due_at__lt=now)
        reason = "no channel could reach the customer"
        return stale.update(status=_S.CANCELLED, status_reason=reason, updated_at=now)
    return 0


# Opens reported later than this after the send no longer matter (the reminder is long due).
_OPENS_WATCHED_FOR = timedelta(days=14)


def _openings_mirror(now: datetime) -> int:
    opened = Message.objects.filter(pk=OuterRef("message_id"), opened_at__isnull=False).values(
        "opened_at"
    )[:1]
    return (
        SurveyRequest.objects.filter(
            message__isnull=False,
            opened_at__isnull=True,
            message__opened_at__isnull=False,
            sent_at__gte=now - _OPENS_WATCHED_FOR,
        )
        .filter(Q(status=_S.SENT) | Q(status=_S.ANSWERED))
        .update(opened_at=Subquery(opened))
    )


def survey_request_mirror(request: SurveyRequest) -> SurveyRequest:
    """Mirror one request's message at once (an answer by text arrives before the refresh)."""
    if request.status == _S.PLANNED:
        message = Message.objects.filter(
            kind=SURVEY_REQUEST_KIND, about_type="survey_request", about_id=request.pk
        ).first()
        _request_mirror(request.pk, message, timezone.now())
        request.refresh_from_db()
    return request


# --- Answers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    answer: SurveyAnswer
    # False when the request already had its answer (the first one wins and is returned).
    created: bool


def _payload(answer: SurveyAnswer, request: SurveyRequest) -> dict:
    low, high = request.scale
    return {
        "order_id": request.order_id,
        "customer_id": request.customer_id,
        "request_id": request.pk,
        "answer_id": answer.pk,
        "kind": answer.kind,
        "score": answer.score,
        "scale_min": low,
        "scale_max": high,
        "channel": answer.channel,
        "has_comment": answer.has_comment,
        "answered_at": answer.answered_at.isoformat(),
    }


@transaction.atomic
def survey_answer_record(
    *, request: SurveyRequest, score: int, channel: str, comment: str = ""
) -> Recorded:
    """Record the customer's score, once: a repeated tap, a mail scanner's fetch or a second,
    different score finds the first answer and changes nothing. Publishes `survey_answered`
    and cancels the reminder still waiting."""
    row_lock(request)
    # The answer and the `answered` state are written together, under this lock: a request
    # in any other state has no answer to find.
    if request.status == _S.ANSWERED:
        existing = SurveyAnswer.objects.filter(request=request).first()
        if existing is not None:
            return Recorded(existing, created=False)
    if not request.accepts_score(score):
        low, high = request.scale
        raise DomainError(f"a score is a number from {low} to {high}")
    if not can_transition(request.status, _S.ANSWERED, SURVEY_REQUEST_TRANSITIONS):
        raise DomainError("this survey can no longer be answered")
    now = timezone.now()
    comment = comment.strip()
    answer = SurveyAnswer.objects.create(
        request=request,
        shop_id=request.shop_id,
        customer_id=request.customer_id,
        kind=request.kind,
        score=score,
        comment=comment,
        commented_at=now if comment else None,
        channel=channel,
        answered_at=now,
    )
    request.status, request.answered_at = _S.ANSWERED, now
    request.save(update_fields=["status", "answered_at", "updated_at"])
    events.publish(
        name=FeedbackEventName.SURVEY_ANSWERED, shop_id=request.shop_id, **_payload(answer, request)
    )
    # Only a reminded request has a reminder to cancel (`reminded_at` is written with it,
    # under this lock): most answers come before any reminder and skip the look.
    if request.reminded_at is not None:
        messages_cancel(
            reason="the survey was answered",
            about=("survey_request", request.pk),
            kinds=(SURVEY_REMINDER_KIND,),
        )
    return Recorded(answer, created=True)


@transaction.atomic
def survey_comment_record(*, answer: SurveyAnswer, comment: str) -> bool:
    """Attach the customer's "why" to their answer, once (the first one is kept, so a double
    submit changes nothing); publishes `survey_commented`. False when nothing was recorded."""
    comment = comment.strip()
    row_lock(answer)
    if not comment or answer.has_comment:
        return False
    answer.comment, answer.commented_at = comment[:5000], timezone.now()
    answer.save(update_fields=["comment", "commented_at", "updated_at"])
    request = answer.request
    payload = _payload(answer, request) | {"commented_at": answer.commented_at.isoformat()}
    events.publish(name=FeedbackEventName.SURVEY_COMMENTED, shop_id=answer.shop_id, **payload)
    return True
