"""What opens a follow-up case from the other parts of feedback, each a thin subscriber of
their domain events (subscribed in `FeedbackConfig.ready()`), calling one service. Each is
safe to run twice: a case is keyed on its signal (source, source id).

- `survey_answered`: NPS 0-6, CSAT 1-2 or CES 1-2 of 7 opens a "survey" case;
- `survey_commented`: the "why" that came after the score joins that case, if it opened one
  (a strongly negative "why" of a score that opened none is the text analysis' to raise,
  `feedback.analysis.sources`);
- `review_submitted`: a review of 1-2★ opens a "review" case (an edit down to 1★ too)."""

from feedback.cases.services import (
    case_for_signal,
    case_words_add,
    open_case_for_signal,
    signal_priority,
)
from feedback.models import Case, CaseSource, SurveyKind
from feedback.reviews.selectors import review_get
from feedback.surveys.selectors import survey_answer_get
from postpurchase.events import Event

# A survey's kind → the scale the cases service reads its score on.
SURVEY_CASE_SCALES = {
    SurveyKind.NPS: "nps",
    SurveyKind.CSAT_DELIVERY: "csat",
    SurveyKind.CSAT_ORDER: "csat",
    SurveyKind.CES: "ces",
}


def survey_score_calls_for_case(*, kind: str, score: int) -> bool:
    """Whether this score opens a case of its own (else its "why" is read as free text)."""
    scale = SURVEY_CASE_SCALES.get(SurveyKind(kind))
    return signal_priority(source=CaseSource.SURVEY, score=score, scale=scale) is not None


def survey_answered_open_case(event: Event) -> Case | None:
    """Subscriber of `survey_answered`: a detractor's answer opens one case."""
    answer = survey_answer_get(answer_id=event.payload["answer_id"])
    if answer is None or answer.customer is None:  # erased since
        return None
    return open_case_for_signal(
        shop=answer.shop,
        customer=answer.customer,
        order=answer.request.order,
        source=CaseSource.SURVEY,
        source_id=answer.pk,
        score=answer.score,
        scale=SURVEY_CASE_SCALES.get(SurveyKind(answer.kind)),
        text=answer.comment,
    )


def survey_commented_case_words(event: Event) -> Case | None:
    """Subscriber of `survey_commented`: the customer's "why" joins the case their score
    opened (its description and summary), so staff read it before they answer."""
    payload = event.payload
    case = case_for_signal(
        shop_id=event.shop_id, source=CaseSource.SURVEY, source_id=payload["answer_id"]
    )
    if case is None:
        return None
    answer = survey_answer_get(answer_id=payload["answer_id"])
    if answer is None or not answer.comment.strip():
        return case
    return case_words_add(case=case, text=answer.comment)


def review_submitted_open_case(event: Event) -> Case | None:
    """Subscriber of `review_submitted`: a review of 1-2★ opens one case."""
    review = review_get(review_id=event.payload["review_id"])
    if review is None:
        return None
    words = " ".join(part for part in (review.title, review.body) if part.strip())
    return open_case_for_signal(
        shop=review.shop,
        customer=review.customer,
        order=review.order,
        source=CaseSource.REVIEW,
        source_id=review.pk,
        score=review.rating,
        scale="stars",
        text=words,
    )
