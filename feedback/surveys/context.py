"""What the survey's messages say, as plain values: the question in the customer's language,
the scale, and a one-tap link per score."""

from typing import Any

from django.utils.translation import gettext

from feedback.models import SurveyKind, SurveyRequest
from feedback.tokens import feedback_url
from orders.messages import order_context
from orders.models import Order
from postpurchase.message_kinds import TemplateVariable
from postpurchase.shell.customer import customer_locale


def survey_question(kind: str, shop_name: str) -> str:
    """The survey's one question (translated in the active language)."""
    questions = {
        SurveyKind.NPS: gettext(
            "How likely are you to recommend %(shop)s to a friend or colleague?"
        ),
        SurveyKind.CSAT_DELIVERY: gettext("How satisfied are you with the delivery of your order?"),
        SurveyKind.CSAT_ORDER: gettext("How satisfied are you with your order?"),
        SurveyKind.CES: gettext("How easy was it to get what you needed from %(shop)s?"),
    }
    return questions[SurveyKind(kind)] % {"shop": shop_name}


def survey_scale_labels(kind: str) -> tuple[str, str]:
    """What the lowest and the highest score mean (translated in the active language)."""
    if kind == SurveyKind.NPS:
        return gettext("Not at all likely"), gettext("Extremely likely")
    if kind == SurveyKind.CES:
        return gettext("Very difficult"), gettext("Very easy")
    return gettext("Very dissatisfied"), gettext("Very satisfied")


def score_url(order: Order, score: int) -> str:
    """The one-tap link of a score (`/feedback/<token>/score/<n>/`)."""
    return feedback_url(order, f"score/{score}/")


def survey_context(request: SurveyRequest, order: Order) -> dict[str, Any]:
    """The plain values a survey message (request or reminder) may use, written in the
    customer's language when it is planned."""
    low, high = request.scale
    with customer_locale(customer=order.customer, shop=order.shop).active():
        question = survey_question(request.kind, order.shop.name)
        low_label, high_label = survey_scale_labels(request.kind)
    return order_context(order) | {
        "survey_kind": request.kind,
        "question": question,
        "scale_min": low,
        "scale_max": high,
        "low_label": low_label,
        "high_label": high_label,
        "scores": [{"score": n, "url": score_url(order, n)} for n in range(low, high + 1)],
        "survey_url": feedback_url(order),
    }


def _sample_scores() -> list[dict[str, Any]]:
    return [{"score": n, "url": f"https://example.com/feedback/…/score/{n}/"} for n in range(11)]


SURVEY_VARIABLES = (
    TemplateVariable(
        "survey_kind", 'The survey: "nps", "csat_delivery", "csat_order" or "ces"', "nps"
    ),
    TemplateVariable(
        "question",
        "The survey's question, in the customer's language",
        "How likely are you to recommend Acme Tea to a friend or colleague?",
    ),
    TemplateVariable("scale_min", "The lowest score (0 for NPS, else 1)", 0),
    TemplateVariable("scale_max", "The highest score (10 for NPS, 5 for CSAT, 7 for CES)", 10),
    TemplateVariable("low_label", "What the lowest score means", "Not at all likely"),
    TemplateVariable("high_label", "What the highest score means", "Extremely likely"),
    TemplateVariable(
        "scores", "One link per score, lowest first: each has score and url", _sample_scores
    ),
    TemplateVariable(
        "survey_url",
        "The survey's page (asks the score, then why)",
        "https://example.com/feedback/…/",
    ),
)
TEXT_REPLY_VARIABLES = (
    TemplateVariable("shop_name", "The shop's name", "Acme Tea"),
    TemplateVariable("order_number", "The number of the order surveyed", "#1001"),
    TemplateVariable("customer_first_name", "The customer's first name (may be blank)", "Ada"),
    TemplateVariable("scale_min", "The lowest score (0 for NPS, else 1)", 0),
    TemplateVariable("scale_max", "The highest score (10 for NPS, 5 for CSAT, 7 for CES)", 10),
    TemplateVariable("score", "The score the customer gave (the thanks only)", 9),
)
