"""Ops' admin of surveys: every page loads, requests and answers are read-only, filters and
search run."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from feedback.models import SurveyAnswer, SurveyRequest, SurveySettings
from feedback.surveys.services import survey_answer_record
from tests.feedback.conftest import delivered_order, sent_survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_client(client):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-123456789")
    client.force_login(user)
    return client


@pytest.fixture
def answer():
    survey = sent_survey(delivered_order())
    SurveySettings.objects.create(shop=survey.shop)
    return survey_answer_record(request=survey, score=3, channel="email", comment="Late").answer


def url(model, view, *args):
    return reverse(f"admin:feedback_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", [SurveySettings, SurveyRequest, SurveyAnswer])
def test_every_survey_page_loads_with_filters_and_search(ops_client, answer, model):
    listing = ops_client.get(url(model, "changelist"), {"q": answer.request.order.number})
    filtered = ops_client.get(url(model, "changelist"), {"shop__id__exact": answer.shop_id})
    row = {SurveySettings: answer.shop.survey_settings, SurveyRequest: answer.request}.get(
        model, answer
    )
    detail = ops_client.get(url(model, "change", row.pk))

    assert listing.status_code == filtered.status_code == detail.status_code == 200


@pytest.mark.parametrize("model", [SurveyRequest, SurveyAnswer])
def test_requests_and_answers_cannot_be_added_or_changed(ops_client, answer, model):
    row = answer.request if model is SurveyRequest else answer

    assert ops_client.get(url(model, "add")).status_code == 403
    response = ops_client.post(url(model, "change", row.pk), {"score": 10})
    assert response.status_code == 403
    answer.refresh_from_db()
    assert answer.score == 3
