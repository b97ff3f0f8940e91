"""The one survey reminder: to those who opened the survey email and did not answer, three
days after it went, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.models import SurveyRequest
from feedback.surveys.reminders import survey_reminders_schedule
from feedback.surveys.services import survey_answer_record
from notifications.models import Message, MessageStatus
from notifications.services import message_send
from tests.feedback.conftest import delivered_order, sent_survey, sms_survey

pytestmark = pytest.mark.django_db


def emailed(*, opened: bool, days_ago: float = 3.5) -> SurveyRequest:
    sent_at = timezone.now() - timedelta(days=days_ago)
    survey = sent_survey(delivered_order(), at=sent_at)
    if opened:
        Message.objects.filter(pk=survey_message(survey).pk).update(
            opened_at=sent_at + timedelta(hours=2)
        )
    return survey


def survey_message(survey) -> Message:
    return Message.objects.get(kind="survey_request", about_id=survey.pk)


def reminders() -> list[Message]:
    return list(Message.objects.filter(kind="survey_reminder"))


def test_a_reminder_goes_once_to_who_opened_and_did_not_answer():
    opener = emailed(opened=True)
    emailed(opened=False)

    survey_reminders_schedule()
    survey_reminders_schedule()

    (reminder,) = reminders()
    assert (reminder.about_type, reminder.about_id) == ("survey_request", opener.pk)
    assert reminder.channel == "email"
    assert "/score/7/" in str(reminder.context["scores"])
    opener.refresh_from_db()
    assert opener.reminded_at is not None
    assert opener.opened_at is not None


def test_no_reminder_for_who_answered():
    survey = emailed(opened=True)
    survey_answer_record(request=survey, score=8, channel="email")

    survey_reminders_schedule()

    assert reminders() == []


def test_no_reminder_before_three_days():
    emailed(opened=True, days_ago=2)

    survey_reminders_schedule()

    assert reminders() == []


def test_no_reminder_for_a_survey_by_text():
    survey = sms_survey(at=timezone.now() - timedelta(days=4))
    Message.objects.filter(pk=survey_message(survey).pk).update(opened_at=timezone.now())

    survey_reminders_schedule()

    assert reminders() == []


def test_an_answer_after_the_reminder_was_planned_cancels_it(daytime):
    survey = emailed(opened=True)
    survey_reminders_schedule()
    survey.refresh_from_db()
    survey_answer_record(request=survey, score=8, channel="email")

    (reminder,) = reminders()
    assert reminder.status == MessageStatus.CANCELLED
    assert reminder.status_reason == "the survey was answered"


def test_a_reminder_answered_while_queued_never_goes(daytime):
    survey = emailed(opened=True)
    (reminder,) = survey_reminders_schedule()
    Message.objects.filter(pk=reminder.pk).update(status=MessageStatus.QUEUED)
    # Answered in the same instant as the reminder was claimed: the check at send time.
    SurveyRequest.objects.filter(pk=survey.pk).update(status="answered")

    message_send(message_id=reminder.pk)

    reminder.refresh_from_db()
    assert (reminder.status, reminder.status_reason) == (
        MessageStatus.CANCELLED,
        "the survey was answered",
    )
