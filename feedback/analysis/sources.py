"""The texts customers write, fed to `record_text` as they arrive: the problem reports of the
tracking page (through `orders`' `problem_reported` event), the texts customers send us
(through the messaging engine's inbound subscribers), a survey's "why" (`survey_answered`
with its comment, `survey_commented`) and reviews (`review_submitted`). A case's thread is
read by the cases service itself (`case_message_analyse`). And an erased customer's texts
are erased (through `customer_redacted`).

A strongly negative text from a source that opened no case of its own (a text message no
survey or case took, the "why" of a passive or happy score) opens a "text" case
(`FEEDBACK_TEXT_CASE_THRESHOLD`)."""

import re

from feedback.analysis.services import (
    rating_from_score,
    rating_from_stars,
    record_text,
    texts_erase_for_customer,
)
from feedback.cases.services import open_case_for_negative_text
from feedback.cases.subscribers import survey_score_calls_for_case
from feedback.models import AnalysedText, TextSource
from feedback.reviews.selectors import review_get
from feedback.surveys.selectors import survey_answer_get
from notifications.engine.inbound_texts import InboundText
from orders.models import Customer, Order, ProblemReport, Shop
from postpurchase.events import Event

# A text worth reading has at least one word: not "9", not "👍".
_A_WORD = re.compile(r"[^\W\d_]{2,}")


def problem_reported_analyse(event: Event) -> None:
    """Subscribed to `problem_reported`: the customer's description of the problem."""
    report = (
        ProblemReport.objects.select_related("shop", "order__customer")
        .filter(pk=event.payload["problem_report_id"])
        .first()
    )
    if report is None:  # deleted with its shop or order since
        return
    record_text(
        shop=report.shop,
        source=TextSource.PROBLEM_REPORT,
        source_id=report.pk,
        text=report.description,
        customer=report.order.customer,
        written_at=report.created_at,
    )


def _negative_text_case(row: AnalysedText, order: Order | None = None) -> None:
    open_case_for_negative_text(
        shop=row.shop,
        order=order,
        text_id=row.pk,
        sentiment=row.sentiment,
        text=row.text,
        customer=row.customer,
    )


def inbound_text_analyse(text: InboundText) -> None:
    """Registered with the engine's inbound subscribers: a customer's own words by text.
    STOP, START and HELP are commands, and a bare number or emoji says nothing to read. A
    text a survey or a case took is read there (its "why", the case's thread), not twice; one
    nobody took that is strongly negative opens a "text" case."""
    if text.shop_id is None or text.keyword or not _A_WORD.search(text.body):
        return
    if text.handled_by:
        return
    shop = Shop.objects.get(pk=text.shop_id)
    customer = (
        Customer.objects.filter(pk=text.customer_id, shop=shop).first()
        if text.customer_id
        else None
    )
    row = record_text(
        shop=shop,
        source=TextSource.INBOUND_REPLY,
        source_id=text.inbound_id,
        text=text.body,
        customer=customer,
        written_at=text.received_at,
    )
    _negative_text_case(row)


def survey_answer_analyse(event: Event) -> None:
    """Subscribed to `survey_answered` and `survey_commented`: the customer's "why", rated by
    their score. A strongly negative "why" whose score opened no case opens a "text" case."""
    if not event.payload.get("has_comment"):
        return
    answer = survey_answer_get(answer_id=event.payload["answer_id"])
    if answer is None or not answer.comment.strip():
        return
    low, high = answer.request.scale
    row = record_text(
        shop=answer.shop,
        source=TextSource.SURVEY_ANSWER,
        source_id=answer.pk,
        text=answer.comment,
        customer=answer.customer,
        rating=rating_from_score(answer.score, lowest=low, highest=high),
        written_at=answer.commented_at or answer.answered_at,
    )
    if not survey_score_calls_for_case(kind=answer.kind, score=answer.score):
        _negative_text_case(row, order=answer.request.order)


def review_analyse(event: Event) -> None:
    """Subscribed to `review_submitted`: the review's title and text, rated by its stars
    (an edit scores the new words again, on the same row)."""
    review = review_get(review_id=event.payload["review_id"])
    if review is None:
        return
    words = "\n".join(part for part in (review.title, review.body) if part.strip())
    if not words.strip():
        return
    record_text(
        shop=review.shop,
        source=TextSource.REVIEW,
        source_id=review.pk,
        text=words,
        customer=review.customer,
        rating=rating_from_stars(review.rating),
        written_at=review.edited_at or review.submitted_at,
    )


def customer_redacted_erase(event: Event) -> None:
    """Subscribed to `customer_redacted`: the customer's texts are personal data too."""
    texts_erase_for_customer(shop_id=event.shop_id, customer_id=event.payload["customer_id"])
