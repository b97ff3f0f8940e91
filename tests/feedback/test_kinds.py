"""The survey's kinds as staff and the engine see them: in the flow settings, with their
defaults; the request's transitions."""

import pytest
from django.urls import reverse

from feedback.models import SURVEY_REQUEST_TRANSITIONS, SurveyRequestStatus
from postpurchase.message_kinds import message_kind
from postpurchase.states import can_transition

pytestmark = pytest.mark.django_db


def test_the_flow_settings_list_the_survey_kinds(staff_client):
    html = staff_client.get(reverse("messaging:flow_list")).content.decode()

    for label in ("Survey reminder", "Survey: ask again for a number", "Review request"):
        assert label in html


def test_the_survey_is_feedbacks_three_days_after_delivery_on_one_channel():
    survey = message_kind("survey_request")
    reminder = message_kind("survey_reminder")

    assert (survey.app, survey.trigger, survey.delay.days) == ("feedback", "order_delivered", 3)
    assert survey.channels == ("email", "sms")
    assert survey.single_channel
    assert survey.send_check is not None
    assert (reminder.channels, reminder.delay.days, reminder.is_periodic) == (("email",), 3, True)
    assert message_kind("review_request").app == "feedback"


ALL = list(SurveyRequestStatus)


@pytest.mark.parametrize("to", ALL)
@pytest.mark.parametrize("from_", ALL)
def test_only_the_tables_moves_are_allowed(from_, to):
    allowed = {
        (SurveyRequestStatus.PLANNED, SurveyRequestStatus.SENT),
        (SurveyRequestStatus.PLANNED, SurveyRequestStatus.ANSWERED),
        (SurveyRequestStatus.PLANNED, SurveyRequestStatus.CANCELLED),
        (SurveyRequestStatus.SENT, SurveyRequestStatus.ANSWERED),
    }
    assert can_transition(from_, to, SURVEY_REQUEST_TRANSITIONS) == ((from_, to) in allowed)
