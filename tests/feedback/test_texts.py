"""Answering a survey by text, against signed Twilio requests: a score in any usual form, one
re-ask for what is not one, STOP still a STOP, and the "why" after the score."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from twilio.request_validator import RequestValidator

from feedback.events import FeedbackEventName
from feedback.models import SurveyAnswer, SurveyRequest, SurveyRequestStatus
from notifications.models import Message, MessageStatus, Suppression, SuppressionReason
from notifications.services import message_send
from postpurchase.models import DomainEvent
from tests.feedback.conftest import PHONE, sms_survey
from tests.notifications.fake_twilio import FROM_NUMBER, twilio_accepts, twilio_form

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("twilio_token")]

INBOUND_URL = "/webhooks/twilio/inbound/"


def text(client, body: str, n: int = 1):
    form = {"MessageSid": f"SM{n:032d}", "From": PHONE, "To": FROM_NUMBER, "Body": body}
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    signature = validator.compute_signature(settings.PUBLIC_BASE_URL + INBOUND_URL, form)
    response = client.post(INBOUND_URL, form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    return response


def replies(kind: str) -> list[Message]:
    return list(Message.objects.filter(kind=kind).order_by("pk"))


@pytest.mark.parametrize(
    ("body", "score"), [("9", 9), (" 9 ", 9), ("nine", 9), ("9/10", 9), ("10!", 10), ("Ten", 10)]
)
def test_a_score_by_text_is_recorded_and_thanked(client, body, score):
    survey = sms_survey()

    text(client, body)

    answer = SurveyAnswer.objects.get()
    assert (answer.request_id, answer.score, answer.channel) == (survey.pk, score, "sms")
    survey.refresh_from_db()
    assert survey.status == SurveyRequestStatus.ANSWERED
    (thanks,) = replies("survey_thanks")
    assert (thanks.recipient, thanks.channel, thanks.about_id) == (PHONE, "sms", survey.pk)
    assert replies("survey_reask") == []
    assert DomainEvent.objects.filter(name=FeedbackEventName.SURVEY_ANSWERED).count() == 1


@pytest.mark.parametrize("body", ["maybe", "11", ""])
def test_what_is_not_a_score_is_asked_again_once_and_a_later_score_still_counts(client, body):
    survey = sms_survey()

    text(client, body, n=1)
    text(client, "I don't know", n=2)

    assert not SurveyAnswer.objects.exists()
    (reask,) = replies("survey_reask")
    assert (reask.recipient, reask.about_id) == (PHONE, survey.pk)
    survey.refresh_from_db()
    assert survey.reasked_at is not None

    text(client, "7", n=3)

    assert SurveyAnswer.objects.get().score == 7
    assert len(replies("survey_reask")) == 1


def test_stop_still_opts_out_and_is_no_answer(client):
    survey = sms_survey()

    response = text(client, "STOP")

    assert b"unsubscribed" in response.content
    suppression = Suppression.objects.get(shop_id=survey.shop_id, channel="sms")
    assert suppression.reason == SuppressionReason.STOP
    assert not SurveyAnswer.objects.exists()
    assert replies("survey_reask") == []
    assert replies("survey_thanks") == []


def test_the_text_after_the_score_is_the_why(client):
    sms_survey()
    text(client, "3", n=1)

    text(client, "The lid leaks and it came two days late", n=2)
    text(client, "Also the colour", n=3)

    answer = SurveyAnswer.objects.get()
    assert (answer.score, answer.comment) == (3, "The lid leaks and it came two days late")
    (event,) = DomainEvent.objects.filter(name=FeedbackEventName.SURVEY_COMMENTED)
    assert event.payload["has_comment"] is True


def test_a_why_a_day_too_late_is_not_attached(client):
    sms_survey()
    text(client, "3", n=1)

    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        text(client, "The lid leaks", n=2)

    assert SurveyAnswer.objects.get().comment == ""


def test_a_second_score_does_not_change_the_first(client):
    sms_survey()
    text(client, "3", n=1)

    text(client, "10", n=2)

    answer = SurveyAnswer.objects.get()
    assert (answer.score, answer.comment) == (3, "")


def test_a_text_answers_only_a_survey_sent_within_seven_days(client):
    sms_survey(at=timezone.now() - timedelta(days=8))

    text(client, "9")

    assert not SurveyAnswer.objects.exists()
    assert replies("survey_reask") == []


def test_a_text_answers_the_latest_survey_texted_to_the_number(client):
    older = sms_survey(at=timezone.now() - timedelta(days=5))
    latest_order = older.order.__class__.objects.create(
        shop=older.shop,
        customer=older.customer,
        external_id="later",
        number="#later",
        currency="USD",
        subtotal="1.00",
        total="1.00",
        shipping_total="0.00",
        placed_at=timezone.now(),
        status="delivered",
        delivered_at=timezone.now() - timedelta(days=3),
        phone=PHONE,
    )
    later = SurveyRequest.objects.create(
        shop=older.shop,
        order=latest_order,
        customer=older.customer,
        kind="nps",
        due_at=timezone.now(),
    )
    Message.objects.filter(about_id=older.pk).update(about_id=later.pk)
    older_message = Message.objects.get(about_id=later.pk)
    Message.objects.create(
        shop=older.shop,
        customer=older.customer,
        order=older.order,
        kind="survey_request",
        channel="sms",
        purpose="marketing",
        recipient=PHONE,
        about_type="survey_request",
        about_id=older.pk,
        send_at=timezone.now() - timedelta(days=5),
        sent_at=timezone.now() - timedelta(days=5),
        status=MessageStatus.SENT,
        dedupe_key="older-survey",
    )
    Message.objects.filter(pk=older_message.pk).update(sent_at=timezone.now() - timedelta(days=1))

    text(client, "6")

    assert SurveyAnswer.objects.get().request_id == later.pk


def test_the_thanks_goes_out_through_twilio(client, daytime, fake_twilio):
    sms_survey()
    text(client, "9")
    (thanks,) = replies("survey_thanks")
    twilio_accepts(fake_twilio)
    Message.objects.filter(pk=thanks.pk).update(status=MessageStatus.QUEUED, send_at=timezone.now())

    assert message_send(message_id=thanks.pk) == MessageStatus.SENT

    form = twilio_form(fake_twilio)
    assert form["To"] == PHONE
    assert "thank you" in form["Body"]
    assert "why you gave 9" in form["Body"]
