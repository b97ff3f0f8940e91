"""The one survey reminder: by email, to those who opened the survey email and did not answer,
a few days after it went (the shop's `survey_reminder` flow: its delay, on or off). Run by beat
(`feedback.tasks.survey_reminders_schedule_task`), after the requests have mirrored their
messages' sending and opening."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from feedback.models import SurveyRequest, SurveyRequestStatus
from feedback.surveys.context import survey_context
from feedback.surveys.selectors import survey_holds
from feedback.surveys.services import (
    SURVEY_REMINDER_KIND,
    order_survey_refusal,
    survey_requests_refresh,
)
from notifications.models import Flow, Message
from notifications.services import flow_schedule, flows_enabled_for_kind
from orders.models import Channel
from postpurchase.locks import row_lock
from postpurchase.message_kinds import MessagePlan

# A request found later than this after its reminder was due (beat stopped for days) gets none.
REMINDER_WINDOW = timedelta(days=2)


def survey_reminders_owed(*, shop_id: int, delay: timedelta, now: datetime) -> list[SurveyRequest]:
    """The shop's survey emails opened and not answered, sent `delay` ago, never reminded."""
    due_before = now - delay
    return list(
        SurveyRequest.objects.filter(
            shop_id=shop_id,
            status=SurveyRequestStatus.SENT,
            channel=Channel.EMAIL,
            opened_at__isnull=False,
            reminded_at__isnull=True,
            sent_at__lte=due_before,
            sent_at__gt=due_before - REMINDER_WINDOW,
        )
        .select_related("order__shop", "order__customer")
        .order_by("pk")
    )


@transaction.atomic
def _remind(request: SurveyRequest, flow: Flow, now: datetime) -> list[Message]:
    row_lock(request)
    order = request.order
    if request.status != SurveyRequestStatus.SENT or request.reminded_at is not None:
        return []
    if order_survey_refusal(order) or survey_holds([request.customer_id]):
        return []
    plan = MessagePlan(
        about=("survey_request", request.pk),
        due=now,
        context=survey_context(request, order),
    )
    scheduled = flow_schedule(flow=flow, order=order, plan=plan)
    if scheduled:
        request.reminded_at = now
        request.save(update_fields=["reminded_at", "updated_at"])
    return scheduled


def survey_reminders_schedule(*, now: datetime | None = None) -> list[Message]:
    """Schedule every reminder owed now; each request is reminded at most once."""
    now = now or timezone.now()
    survey_requests_refresh(now=now)
    scheduled: list[Message] = []
    for shop_id, flow in flows_enabled_for_kind(kind=SURVEY_REMINDER_KIND).items():
        for request in survey_reminders_owed(shop_id=shop_id, delay=flow.delay, now=now):
            scheduled += _remind(request, flow, now)
    return scheduled
