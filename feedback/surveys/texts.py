"""A customer's text about their survey: the score ("9", "nine", "9/10"), or, after the score,
why. Registered with the messaging engine's inbound-text handlers (`FeedbackConfig.ready()`),
which offer it only texts that are not STOP, START or HELP.

The text answers the latest survey the shop texted to that number within 7 days. A text that is
not a score in the survey's scale gets one short "please reply with a number" (never a second
one for the same survey: `SurveyRequest.reasked_at`); a later valid score still counts. A
valid score is thanked, with an invitation to say why; the next text within 24 hours that is
not a score becomes that "why". The replies are messages like any other (consent, opt-outs,
quiet hours), sent through the engine."""

from datetime import datetime

from django.db import transaction

from feedback.models import SurveyAnswer, SurveyRequest, SurveyRequestStatus
from feedback.surveys.scores import score_parse
from feedback.surveys.selectors import TEXT_COMMENT_WINDOW, survey_request_for_text
from feedback.surveys.services import (
    survey_answer_record,
    survey_comment_record,
    survey_request_mirror,
)
from notifications.services import InboundText, MessageRequest, flows_for, message_schedule
from orders.models import Channel, Purpose
from postpurchase.locks import row_lock

REASK = "survey_reask"
THANKS = "survey_thanks"
TRIGGER = "survey_text_reply"


def _reply(
    request: SurveyRequest, *, kind: str, reply: str, to: str, at: datetime, **extra
) -> bool:
    """Schedule the reply `kind` to `to`, as the shop's flow of it says; False when the shop
    turned it off."""
    flows = flows_for(shop_id=request.shop_id, trigger=TRIGGER, payload={"reply": reply})
    flow = next((f for f in flows if f.kind == kind), None)
    if flow is None:
        return False
    low, high = request.scale
    due = at + flow.delay
    message_schedule(
        request=MessageRequest(
            shop_id=request.shop_id,
            customer_id=request.customer_id,
            order_id=request.order_id,
            kind=kind,
            channel=Channel.SMS,
            purpose=Purpose.TRANSACTIONAL,
            recipient=to,
            about_type="survey_request",
            about_id=request.pk,
            send_at=due,
            expires_at=due + flow.useful_for if flow.useful_for else None,
            context={
                "shop_name": request.shop.name,
                "order_number": request.order.number,
                "customer_first_name": request.customer.first_name,
                "scale_min": low,
                "scale_max": high,
                **extra,
            },
        )
    )
    return True


def _score_answer(request: SurveyRequest, text: InboundText) -> None:
    low, high = request.scale
    score = score_parse(text.body, low=low, high=high)
    if score is not None:
        recorded = survey_answer_record(request=request, score=score, channel=Channel.SMS)
        if recorded.created:
            _reply(
                request,
                kind=THANKS,
                reply="thanks",
                to=text.sender,
                at=text.received_at,
                score=score,
            )
        return
    row_lock(request)
    if request.reasked_at is None:
        request.reasked_at = text.received_at
        request.save(update_fields=["reasked_at", "updated_at"])
        _reply(request, kind=REASK, reply="reask", to=text.sender, at=text.received_at)


def _comment(request: SurveyRequest, text: InboundText) -> bool:
    answer = SurveyAnswer.objects.filter(request=request).first()
    if answer is None or answer.channel != Channel.SMS or answer.has_comment:
        return False
    if text.received_at - answer.answered_at > TEXT_COMMENT_WINDOW:
        return False
    low, high = request.scale
    if score_parse(text.body, low=low, high=high) is not None:
        return True  # the score again: the first one stands, and it is no "why"
    return survey_comment_record(answer=answer, comment=text.body)


@transaction.atomic
def survey_text_reply_handle(text: InboundText) -> bool:
    """The inbound-text handler: True when the text was about a survey (a score, a text that
    should have been one, or the "why" after it); False leaves it to other handlers."""
    if text.shop_id is None or text.channel != Channel.SMS:
        return False
    request = survey_request_for_text(
        shop_id=text.shop_id, sender=text.sender, now=text.received_at
    )
    if request is None:
        return False
    request = survey_request_mirror(request)
    if request.status == SurveyRequestStatus.ANSWERED:
        return _comment(request, text)
    if not text.body.strip() and request.reasked_at is not None:
        return True
    _score_answer(request, text)
    return True
