"""Reads of surveys: what a link or a text names, whom a survey may not reach now, and what a
follow-up module reads about an answer."""

from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.module_loading import import_string

from feedback.models import SurveyAnswer, SurveyRequest, SurveySettings
from feedback.models.surveys import BUDGETED_STATUSES
from feedback.tokens import order_id_from_token
from notifications.models import Message, MessageStatus
from orders.models import Channel

SURVEY_REQUEST_KIND = "survey_request"
# A text answers the latest survey texted to its number within this long.
TEXT_ANSWER_WINDOW = timedelta(days=7)
# A text after the score is its "why" within this long.
TEXT_COMMENT_WINDOW = timedelta(hours=24)


def survey_settings_for(*, shop_id: int) -> SurveySettings:
    """The shop's survey settings; the defaults (unsaved) for a shop that never changed them."""
    found = SurveySettings.objects.filter(shop_id=shop_id).first()
    return found if found is not None else SurveySettings(shop_id=shop_id)


# --- Holds: who must not be surveyed now ----------------------------------------------------


@lru_cache(maxsize=8)
def _hold_checks(paths: tuple[str, ...]) -> tuple[Callable[[Collection[int]], dict], ...]:
    return tuple(import_string(path) for path in paths)


def survey_holds(customer_ids: Collection[int]) -> dict[int, str]:
    """{customer_id: reason} for the customers no survey may reach now: a return open, a
    follow-up case open, … — every check named in `FEEDBACK_SURVEY_HOLD_CHECKS` (dotted paths,
    so this app names none of the apps that hold a customer, e.g. `returns`). Each check takes
    customer ids and returns {customer_id: reason} in a fixed number of queries, like the
    marketing pause checks (`NOTIFICATIONS_MARKETING_PAUSE_CHECKS`)."""
    held: dict[int, str] = {}
    if not customer_ids:
        return held
    for check in _hold_checks(tuple(settings.FEEDBACK_SURVEY_HOLD_CHECKS)):
        for customer_id, reason in check(customer_ids).items():
            held.setdefault(customer_id, reason)
    return held


def survey_budget_used(
    *, customer_id: int, shop_id: int, around: datetime, budget: timedelta, exclude_id: int = 0
) -> SurveyRequest | None:
    """Another survey of this customer by this shop that uses the budget around `around`:
    planned, sent or answered, due within `budget` before or after it."""
    return (
        SurveyRequest.objects.filter(
            customer_id=customer_id,
            shop_id=shop_id,
            status__in=BUDGETED_STATUSES,
            due_at__gt=around - budget,
            due_at__lt=around + budget,
        )
        .exclude(pk=exclude_id)
        .order_by("-due_at")
        .first()
    )


# --- What a link or a text names ------------------------------------------------------------


def _surveys_for_token(token: str) -> QuerySet[SurveyRequest] | None:
    """The open-to-view survey of the order the feedback token names, as a query; None for a
    bad or expired token."""
    if not token or len(token) > 128:
        return None
    order_id = order_id_from_token(token)
    if order_id is None:
        return None
    return SurveyRequest.objects.filter(order_id=order_id, shop__is_active=True).exclude(
        status="cancelled"
    )


def survey_request_for_token(token: str) -> SurveyRequest | None:
    """The survey of the order the feedback token names, with its order, shop, customer and
    answer; None for a bad or expired token, an inactive shop or an order never surveyed."""
    surveys = _surveys_for_token(token)
    if surveys is None:
        return None
    return surveys.select_related("order", "shop", "customer", "answer").first()


def survey_request_to_answer(token: str) -> SurveyRequest | None:
    """The survey a one-tap link answers: its own row only, which is all a tap needs (the
    answer's service locks and reads it again); None as for `survey_request_for_token`."""
    surveys = _surveys_for_token(token)
    return surveys.first() if surveys is not None else None


def survey_request_for_text(*, shop_id: int, sender: str, now: datetime) -> SurveyRequest | None:
    """The survey a text from `sender` answers: the latest one the shop texted to that number
    within `TEXT_ANSWER_WINDOW`."""
    message = (
        Message.objects.filter(
            shop_id=shop_id,
            kind=SURVEY_REQUEST_KIND,
            channel=Channel.SMS,
            recipient=sender,
            status__in=(MessageStatus.SENT, MessageStatus.DELIVERED),
            sent_at__gte=now - TEXT_ANSWER_WINDOW,
            about_type="survey_request",
        )
        .order_by("-sent_at")
        .only("about_id")
        .first()
    )
    if message is None:
        return None
    return (
        SurveyRequest.objects.select_related("order", "shop", "customer")
        .filter(pk=message.about_id, shop_id=shop_id)
        .exclude(status="cancelled")
        .first()
    )


def survey_answer_get(*, answer_id: int) -> SurveyAnswer | None:
    """An answer with its request, order and customer (what a follow-up reads on the event)."""
    return (
        SurveyAnswer.objects.select_related("request__order", "customer", "shop")
        .filter(pk=answer_id)
        .first()
    )


def survey_answers_for_shop(*, shop_id: int, since: datetime | None = None) -> list[SurveyAnswer]:
    """The shop's answers, newest first (since a moment, when given)."""
    answers = SurveyAnswer.objects.filter(shop_id=shop_id)
    if since is not None:
        answers = answers.filter(Q(answered_at__gte=since))
    return list(answers.order_by("-answered_at"))
