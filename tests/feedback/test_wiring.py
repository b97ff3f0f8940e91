"""The feedback parts wired together: an unhappy survey answer or review opens one case and
its words are read; a strongly negative text nobody took opens a "text" case; an open case
holds the next survey; a case's inbound messages are read; the demo's cases point at real
answers and reviews."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from feedback.cases.services import (
    TEXT_SENTIMENT_THRESHOLD,
    case_customer_reply_record,
    case_resolve,
)
from feedback.cases.subscribers import survey_answered_open_case
from feedback.models import AnalysedText, Case, Review, SurveyAnswer, SurveyRequest, TextSource
from feedback.surveys.selectors import survey_holds
from feedback.surveys.services import survey_answer_record, survey_comment_record
from orders.demo import demo_seed
from orders.models import Shop
from postpurchase.events import Event, domain_event_deliver
from postpurchase.models import DomainEvent
from tests.factories import CustomerFactory, OrderFactory, ShopFactory, StaffMembershipFactory
from tests.feedback import helpers
from tests.feedback.case_helpers import detractor_case
from tests.feedback.conftest import PHONE, delivered_order, sms_survey, survey_messages
from tests.feedback.test_analysis_services import text_in
from tests.notifications.test_twilio_webhooks import sent_sms

pytestmark = pytest.mark.django_db

ANGRY = "This is the worst service ever. I am furious, nobody answers and the parcel is lost!"


def deliver(name: str) -> DomainEvent:
    """Deliver the latest event of that name to its subscribers, as the worker would."""
    event = DomainEvent.objects.filter(name=name).latest("pk")
    domain_event_deliver(event_id=event.pk)
    return event


def answered(score: int, *, kind: str = "", comment: str = "") -> SurveyAnswer:
    request = sms_survey()
    if kind:
        SurveyRequest.objects.filter(pk=request.pk).update(kind=kind)
        request.refresh_from_db()
    with transaction.atomic():
        recorded = survey_answer_record(request=request, score=score, channel="sms")
    answer = recorded.answer
    deliver("survey_answered")
    if comment:
        with transaction.atomic():
            survey_comment_record(answer=answer, comment=comment)
        deliver("survey_commented")
    answer.refresh_from_db()
    return answer


# --- Surveys → cases and the analysis -------------------------------------------------------


def test_a_detractor_nps_answer_opens_exactly_one_case_however_often_delivered():
    answer = answered(3)
    event = DomainEvent.objects.get(name="survey_answered")

    domain_event_deliver(event_id=event.pk)  # a redelivery
    survey_answered_open_case(  # and the subscriber itself, run again
        Event(id=event.pk, name=event.name, shop_id=event.shop_id, payload=event.payload)
    )

    case = Case.objects.get()
    assert (case.source, case.source_id, case.scale, case.score) == ("survey", answer.pk, "nps", 3)
    assert (case.customer_id, case.order_id) == (answer.customer_id, answer.request.order_id)
    assert case.priority == "high"


def test_a_promoter_opens_no_case():
    answered(9)

    assert not Case.objects.exists()


@pytest.mark.parametrize(("score", "opens"), [(1, True), (2, True), (3, False), (7, False)])
def test_a_hard_effort_score_opens_a_case(score, opens):
    answered(score, kind="ces")

    assert Case.objects.filter(source="survey", scale="ces").exists() is opens


def test_the_why_of_a_detractor_joins_its_case_and_is_read():
    answer = answered(4, comment="The lid leaks every time I tip the mug.")

    case = Case.objects.get()
    assert "The lid leaks every time" in case.description
    assert case.summary == "NPS 4 of 10: The lid leaks every time I tip the mug."
    read = AnalysedText.objects.get(source=TextSource.SURVEY_ANSWER, source_id=answer.pk)
    assert read.rating == pytest.approx(0.4)
    assert read.sentiment is not None


def test_a_strongly_negative_why_of_a_passive_score_opens_a_text_case():
    answer = answered(7, comment=ANGRY)

    read = AnalysedText.objects.get(source=TextSource.SURVEY_ANSWER, source_id=answer.pk)
    assert read.sentiment < TEXT_SENTIMENT_THRESHOLD
    case = Case.objects.get()
    assert (case.source, case.source_id, case.scale) == ("text", read.pk, "sentiment")
    assert case.order_id == answer.request.order_id


def test_a_mild_why_of_a_passive_score_opens_no_case():
    answered(8, comment="Fine, arrived on time.")

    assert not Case.objects.exists()


# --- Reviews → cases and the analysis -------------------------------------------------------


def test_a_one_star_review_opens_a_case_and_is_read():
    order = helpers.delivered_order(ShopFactory())
    review = helpers.review(order, rating=1, body="Broke after two days, very disappointed.")
    deliver("review_submitted")
    deliver("review_submitted")

    case = Case.objects.get()
    assert (case.source, case.source_id, case.scale, case.score) == (
        "review",
        review.pk,
        "stars",
        1,
    )
    read = AnalysedText.objects.get(source=TextSource.REVIEW, source_id=review.pk)
    assert read.rating == 0.0
    assert "Broke after two days" in read.text


def test_a_five_star_review_is_read_and_opens_no_case():
    order = helpers.delivered_order(ShopFactory())
    review = helpers.review(order, rating=5)
    deliver("review_submitted")

    assert not Case.objects.exists()
    assert AnalysedText.objects.get(source=TextSource.REVIEW, source_id=review.pk).rating == 1.0


def test_an_edit_down_to_two_stars_opens_a_case_and_rereads_the_words():
    order = helpers.delivered_order(ShopFactory())
    review = helpers.review(order, rating=5)
    deliver("review_submitted")
    helpers.review(order, rating=2, body="It stopped working after a week.")
    event = deliver("review_submitted")

    assert event.payload["is_edit"] is True
    assert Case.objects.get().source_id == review.pk
    read = AnalysedText.objects.get(source=TextSource.REVIEW, source_id=review.pk)
    assert (read.rating, read.text) == (0.25, "It stopped working after a week.")


def test_the_same_review_sent_again_publishes_nothing():
    order = helpers.delivered_order(ShopFactory())
    helpers.review(order, rating=4)
    helpers.review(order, rating=4)

    assert DomainEvent.objects.filter(name="review_submitted").count() == 1


# --- Free text nobody took → a "text" case --------------------------------------------------


def test_a_strongly_negative_text_nobody_took_opens_a_text_case(client, twilio_token):
    customer = CustomerFactory(phone=PHONE)
    sent_sms(OrderFactory(customer=customer, shop=customer.shop))

    assert text_in(client, ANGRY).status_code == 200

    read = AnalysedText.objects.get(source=TextSource.INBOUND_REPLY)
    case = Case.objects.get()
    assert (case.source, case.source_id, case.customer) == ("text", read.pk, customer)


def test_a_mild_text_opens_no_case(client, twilio_token):
    customer = CustomerFactory(phone=PHONE)
    sent_sms(OrderFactory(customer=customer, shop=customer.shop))

    text_in(client, "Thanks, it arrived today.")

    assert AnalysedText.objects.filter(source=TextSource.INBOUND_REPLY).exists()
    assert not Case.objects.exists()


def test_an_angry_text_a_case_took_joins_it_and_opens_no_other(
    client, twilio_token, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(phone=PHONE)
    sent_sms(OrderFactory(customer=customer, shop=customer.shop))
    case = detractor_case(customer.shop, phone="+14155550999")
    Case.objects.filter(pk=case.pk).update(customer=customer)

    with django_capture_on_commit_callbacks(execute=True):
        text_in(client, ANGRY)

    assert Case.objects.count() == 1
    assert not AnalysedText.objects.filter(source=TextSource.INBOUND_REPLY).exists()
    assert AnalysedText.objects.filter(source=TextSource.CASE_MESSAGE).count() == 1


# --- An open case holds the next survey -----------------------------------------------------


def test_an_open_case_holds_the_next_survey():
    order = delivered_order(sms=True)
    case = detractor_case(order.shop)
    Case.objects.filter(pk=case.pk).update(customer=order.customer)

    assert survey_holds([order.customer_id]) == {order.customer_id: "a follow-up case is open"}
    assert survey_messages(order) == []


def test_a_resolved_case_holds_no_survey():
    shop = ShopFactory()
    case = detractor_case(shop)
    agent = StaffMembershipFactory(shop=shop, role="agent").user
    case_resolve(case=case, actor=agent, kind="apology", note="Sorry.")

    assert survey_holds([case.customer_id]) == {}


# --- A case's inbound messages are read ---------------------------------------------------


def test_a_customers_message_in_a_case_is_read_once(django_capture_on_commit_callbacks):
    case = detractor_case(ShopFactory())

    with django_capture_on_commit_callbacks(execute=True):
        entry = case_customer_reply_record(
            case=case, channel="email", body="Still broken, please help.", inbound_key="e:1"
        )
    with django_capture_on_commit_callbacks(execute=True):
        case_customer_reply_record(
            case=case, channel="email", body="Still broken, please help.", inbound_key="e:1"
        )

    read = AnalysedText.objects.get(source=TextSource.CASE_MESSAGE)
    assert (read.source_id, read.customer_id) == (entry.pk, case.customer_id)
    assert read.text == "Still broken, please help."


# --- The demo --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_demos_cases_point_at_real_answers_and_reviews_and_its_words_are_read():
    demo_seed(scale=0.1, seed=7, now=timezone.now() - timedelta(hours=1))
    shop = Shop.objects.get(slug="demo")

    cases = list(Case.objects.filter(shop=shop))
    assert {c.source for c in cases} == {"survey", "review"}
    for case in cases:
        if case.source == "survey":
            answer = SurveyAnswer.objects.get(pk=case.source_id, shop=shop)
            assert (answer.customer_id, answer.request.order_id) == (
                case.customer_id,
                case.order_id,
            )
            assert int(case.score) == answer.score
        else:
            review = Review.objects.get(pk=case.source_id, shop=shop)
            assert review.rating <= 2
            assert (review.customer_id, review.order_id) == (case.customer_id, case.order_id)
    sources = set(AnalysedText.objects.filter(shop=shop).values_list("source", flat=True))
    assert {TextSource.SURVEY_ANSWER, TextSource.REVIEW} <= sources
    assert not AnalysedText.objects.filter(shop=shop, sentiment__isnull=True).exists()
