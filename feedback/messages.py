"""The messages `feedback` owes customers, declared in the kernel's terms
(`postpurchase.message_kinds`) and registered from `FeedbackConfig.ready()`; the messaging
engine schedules, renders and sends them without naming this app. Default templates:
`feedback/templates/notifications/<kind>/`.

- `survey_request`: the survey (NPS, CSAT or CES, as the shop chose), by email (a link per
  score) or text ("reply with a number"), on the first channel the customer can receive, a few
  days after the order's delivery (`order_delivered`), within the contact budget.
- `survey_reminder`: one reminder by email, to those who opened the request and did not answer,
  found by the periodic check `feedback.tasks.survey_reminders_schedule_task`.
- `survey_reask` / `survey_thanks`: the replies to a customer's text about the survey (once
  "please reply with a number", and "thanks, why?"), scheduled by the inbound text handler.
- `review_request`: asks for a review of the delivered order (`/feedback/<token>/review/`).
"""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from feedback.surveys.context import SURVEY_VARIABLES, TEXT_REPLY_VARIABLES, survey_context
from feedback.surveys.services import survey_messages_refuse, survey_request_plan
from feedback.tokens import feedback_url
from orders.events import OrderEventName
from orders.messages import ORDER_VARIABLES, order_context, order_preview_context
from orders.models import Channel, Order, Purpose
from postpurchase.message_kinds import MessageKind, MessagePlan, PlanRequest, TemplateVariable

SURVEY_REQUEST = "survey_request"
SURVEY_REMINDER = "survey_reminder"
SURVEY_REASK = "survey_reask"
SURVEY_THANKS = "survey_thanks"
REVIEW_REQUEST = "review_request"
# The periodic checks and the inbound-text handler that schedule the kinds no event starts.
TRIGGER_SURVEY_UNANSWERED = "survey_unanswered"
TRIGGER_SURVEY_TEXT_REPLY = "survey_text_reply"


def survey_request_plans(request: PlanRequest) -> list[MessagePlan]:
    """The survey this delivered order owes, `delay` after delivery, within the budget."""
    order: Order = request.order
    if request.is_backfill:
        return []  # the demo's history has its own surveys (`feedback.surveys.demo`)
    survey = survey_request_plan(order=order, delay=request.delay)
    if survey is None or survey.status != "planned":
        return []
    context = survey_context(survey, order)
    return [MessagePlan(about=("survey_request", survey.pk), due=survey.due_at, context=context)]


def review_request_plan(request: PlanRequest) -> list[MessagePlan]:
    """One request per order, `delay` after its last parcel arrived."""
    order: Order = request.order
    if order.delivered_at is None:
        return []
    context = order_context(order) | {"review_url": feedback_url(order, "review/")}
    due = order.delivered_at + request.delay
    return [MessagePlan(about=("order", order.pk), due=due, context=context)]


_SURVEY_WHATSAPP = ("customer_first_name", "shop_name", "survey_url")

KINDS: tuple[MessageKind, ...] = (
    MessageKind(
        name=SURVEY_REQUEST,
        label=_("Survey"),
        trigger=OrderEventName.ORDER_DELIVERED,
        channels=(Channel.EMAIL.value, Channel.SMS.value),
        # It asks something of the customer on the shop's behalf: the consent, the quiet hours
        # and the weekly cap of marketing apply.
        purpose=Purpose.MARKETING,
        delay=timedelta(days=3),
        useful_for=timedelta(days=7),
        variables=(*ORDER_VARIABLES, *SURVEY_VARIABLES),
        planner=survey_request_plans,
        preview_context=order_preview_context,
        delay_meaning="How long after the order's delivery the survey goes out.",
        send_check=survey_messages_refuse,
        single_channel=True,
    ),
    MessageKind(
        name=SURVEY_REMINDER,
        label=_("Survey reminder"),
        trigger=TRIGGER_SURVEY_UNANSWERED,
        channels=(Channel.EMAIL.value,),
        purpose=Purpose.MARKETING,
        delay=timedelta(days=3),
        useful_for=timedelta(days=4),
        variables=(*ORDER_VARIABLES, *SURVEY_VARIABLES),
        preview_context=order_preview_context,
        delay_meaning=(
            "How long after the survey email the one reminder goes, to those who opened it "
            "and did not answer."
        ),
        send_check=survey_messages_refuse,
    ),
    MessageKind(
        name=SURVEY_REASK,
        label=_("Survey: ask again for a number"),
        trigger=TRIGGER_SURVEY_TEXT_REPLY,
        channels=(Channel.SMS.value,),
        purpose=Purpose.TRANSACTIONAL,
        useful_for=timedelta(hours=12),
        conditions=(("reply", "reask"),),
        variables=TEXT_REPLY_VARIABLES,
        delay_meaning="How long after the customer's text that was not a score the reply goes.",
    ),
    MessageKind(
        name=SURVEY_THANKS,
        label=_("Survey: thanks for a score by text"),
        trigger=TRIGGER_SURVEY_TEXT_REPLY,
        channels=(Channel.SMS.value,),
        purpose=Purpose.TRANSACTIONAL,
        useful_for=timedelta(hours=12),
        conditions=(("reply", "thanks"),),
        variables=TEXT_REPLY_VARIABLES,
        delay_meaning="How long after the customer's score by text the thanks goes.",
    ),
    # One per order, once every parcel has arrived: `order_delivered` is published once.
    MessageKind(
        name=REVIEW_REQUEST,
        label=_("Review request"),
        trigger=OrderEventName.ORDER_DELIVERED,
        channels=(Channel.EMAIL.value,),
        purpose=Purpose.MARKETING,
        delay=timedelta(days=7),
        useful_for=timedelta(days=14),
        variables=(
            *ORDER_VARIABLES,
            TemplateVariable(
                "review_url", "Link to the review page", "https://example.com/feedback/…/review/"
            ),
        ),
        planner=review_request_plan,
        preview_context=order_preview_context,
        whatsapp_variables=("customer_first_name", "order_number", "review_url"),
    ),
)
