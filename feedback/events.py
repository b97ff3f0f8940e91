"""The domain events `feedback` publishes, declared on the kernel's bus (`postpurchase.events`).

`survey_answered` — a customer's score was recorded (once per survey request), by tap or text:
    shop_id, order_id, customer_id, request_id, answer_id, kind ("nps", "csat_delivery",
    "csat_order", "ces"), score (int), scale_min, scale_max, channel ("email", "sms"),
    has_comment (bool: the "why" came with it), answered_at (ISO 8601).
`survey_commented` — the customer's "why" arrived after their score (at most once per answer):
    the same keys, has_comment true, and commented_at (ISO 8601). The text itself is not in the
    payload (personal data stays in its row): read it with
    `feedback.surveys.selectors.survey_answer_get(answer_id=…)`.
`review_submitted` — a buyer's review was written, or its author changed it (a resubmission of
    the same words publishes nothing): shop_id, review_id, order_id, customer_id, product_id,
    rating (1..5), is_edit (bool), written_at (ISO 8601). The words stay in the row: read them
    with `feedback.reviews.selectors.review_get(review_id=…)`.
`review_published` — a review went live for the first time (at once, or when staff or an edit
    cleared it; published again later, or edited, it publishes nothing): shop_id, review_id,
    order_id, customer_id, product_id, has_photos (bool: with a current photo when it went
    live), published_at (ISO 8601). No rating: what follows (loyalty's points for a review) must
    not depend on it.

A follow-up module subscribes by name from its `ready()` (`events.subscribe(
FeedbackEventName.SURVEY_ANSWERED, handler, key=…)`); the wiring between feedback's
parts (a survey answer or a review opening a case, the words read) is subscribed in `apps.py`."""

from django.db import models

from postpurchase import events


class FeedbackEventName(models.TextChoices):
    SURVEY_ANSWERED = "survey_answered"
    SURVEY_COMMENTED = "survey_commented"
    REVIEW_SUBMITTED = "review_submitted"
    REVIEW_PUBLISHED = "review_published"


events.declare(FeedbackEventName.values, app="feedback")
