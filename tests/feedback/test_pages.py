"""The survey's pages: a score recorded once by one tap, then the "why", without JavaScript;
a link that does not work is a friendly 404."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from feedback.events import FeedbackEventName
from feedback.models import SurveyAnswer, SurveyRequestStatus
from feedback.surveys import views
from feedback.tokens import order_token
from orders.tracking.ratelimit import RateLimit
from postpurchase.models import DomainEvent
from tests.feedback.conftest import delivered_order, sent_survey

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_limits(monkeypatch):
    # A name of its own per test: the counters live in Redis, shared by the whole run.
    name = f"feedback-survey-test-{timezone.now().timestamp()}"
    monkeypatch.setattr(views, "PAGE_LIMIT_PER_ADDRESS", RateLimit(name, limit=60, window=600))


@pytest.fixture
def survey():
    return sent_survey(delivered_order())


def score_url(survey, score: int) -> str:
    return f"/feedback/{order_token(survey.order)}/score/{score}/"


def page_of(link: str) -> str:
    """The survey page a score link lands on, named by the link's own token (a token made a
    second later carries another timestamp)."""
    return link.split("score/")[0]


def page_url(survey) -> str:
    return f"/feedback/{order_token(survey.order)}/"


def published(name: str) -> list[dict]:
    return list(DomainEvent.objects.filter(name=name).values_list("payload", flat=True))


def test_one_tap_records_the_score_once_and_lands_on_the_why(client, survey):
    link = score_url(survey, 9)
    first = client.get(link)
    again = client.get(link)

    assert first.status_code == again.status_code == 303
    assert first["Location"] == page_of(link)
    answer = SurveyAnswer.objects.get()
    assert (answer.score, answer.channel, answer.kind) == (9, "email", "nps")
    survey.refresh_from_db()
    assert survey.status == SurveyRequestStatus.ANSWERED
    assert survey.answered_at == answer.answered_at
    (payload,) = published(FeedbackEventName.SURVEY_ANSWERED)
    assert payload == {
        "order_id": survey.order_id,
        "customer_id": survey.customer_id,
        "request_id": survey.pk,
        "answer_id": answer.pk,
        "kind": "nps",
        "score": 9,
        "scale_min": 0,
        "scale_max": 10,
        "channel": "email",
        "has_comment": False,
        "answered_at": answer.answered_at.isoformat(),
    }
    assert DomainEvent.objects.get(name=FeedbackEventName.SURVEY_ANSWERED).shop_id == survey.shop_id


def test_a_different_second_tap_does_not_overwrite_the_first_score(client, survey):
    client.get(score_url(survey, 2))

    client.get(score_url(survey, 10))
    page = client.get(page_url(survey))

    assert SurveyAnswer.objects.get().score == 2
    assert "Your score of 2 out of 10 is recorded" in page.content.decode()


def test_a_head_request_of_a_link_checker_records_nothing(client, survey):
    response = client.head(score_url(survey, 0))

    assert response.status_code == 303
    assert not SurveyAnswer.objects.exists()


def test_a_score_outside_the_scale_records_nothing(client, survey):
    response = client.get(score_url(survey, 11))

    assert response.status_code == 404
    assert not SurveyAnswer.objects.exists()


def test_a_made_up_or_tampered_token_gets_a_friendly_404(client, survey):
    token = order_token(survey.order)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")

    for url in ("/feedback/nonsense/", f"/feedback/{tampered}/", f"/feedback/{tampered}/score/9/"):
        response = client.get(url)
        assert response.status_code == 404
        assert "This link does not work" in response.content.decode()
    assert not SurveyAnswer.objects.exists()


def test_an_expired_link_gets_the_friendly_404(client, survey):
    url = score_url(survey, 9)

    with time_machine.travel(timezone.now() + timedelta(days=181)):
        response = client.get(url)

    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()
    assert not SurveyAnswer.objects.exists()


def test_an_order_never_surveyed_has_no_survey_page(client):
    order = delivered_order()

    response = client.get(f"/feedback/{order_token(order)}/score/9/")

    assert response.status_code == 404


def test_the_why_page_works_without_javascript_on_a_phone(client, survey):
    client.get(score_url(survey, 4))

    page = client.get(page_url(survey))
    html = page.content.decode()

    assert page.status_code == 200
    assert page["Cache-Control"] == "private, no-store"
    assert "<script" not in html
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert re.search(r'<form class="card form" method="post"', html)
    assert '<label for="id_comment">' in html
    assert "csrfmiddlewaretoken" in html

    sent = client.post(page_url(survey), {"comment": "It arrived late and the box was crushed."})
    again = client.post(page_url(survey), {"comment": "Something else"})
    thanks = client.get(page_url(survey))

    assert sent.status_code == again.status_code == 303
    answer = SurveyAnswer.objects.get()
    assert answer.comment == "It arrived late and the box was crushed."
    assert answer.commented_at is not None
    assert "Thank you!" in thanks.content.decode()
    (payload,) = published(FeedbackEventName.SURVEY_COMMENTED)
    assert (payload["has_comment"], payload["score"], payload["answer_id"]) == (True, 4, answer.pk)


def test_the_survey_page_asks_the_score_first_with_a_link_per_score(client, survey):
    html = client.get(page_url(survey)).content.decode()

    assert html.count("/score/") == 11
    assert "How likely are you to recommend" in html


def test_the_pages_speak_the_customers_language(client, survey):
    survey.customer.locale = "de"
    survey.customer.save(update_fields=["locale"])

    response = client.get(page_url(survey))

    assert response["Content-Language"] == "de"


def test_too_many_hits_from_one_address_are_refused(client, survey, monkeypatch):
    name = f"feedback-survey-tight-{timezone.now().timestamp()}"
    monkeypatch.setattr(views, "PAGE_LIMIT_PER_ADDRESS", RateLimit(name, limit=2, window=600))

    codes = [client.get(page_url(survey)).status_code for _ in range(3)]

    assert codes == [200, 200, 429]


def test_a_repeated_tap_reads_the_survey_once_and_writes_nothing(
    client, survey, django_assert_num_queries
):
    client.get(score_url(survey, 9))

    link = score_url(survey, 3)
    with django_assert_num_queries(1) as captured:
        again = client.get(link)

    assert again.status_code == 303
    assert again["Location"] == page_of(link)
    assert "FOR UPDATE" not in captured.captured_queries[0]["sql"]
    assert SurveyAnswer.objects.get().score == 9
    assert len(published(FeedbackEventName.SURVEY_ANSWERED)) == 1


def test_behind_the_deployments_proxy_each_customer_has_their_own_limit(
    client, survey, monkeypatch, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    name = f"feedback-survey-proxy-{timezone.now().timestamp()}"
    monkeypatch.setattr(views, "PAGE_LIMIT_PER_ADDRESS", RateLimit(name, limit=2, window=600))

    def tap(client_address: str) -> int:
        # Every request comes from the proxy; the proxy names the customer.
        return client.get(
            score_url(survey, 9), REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=client_address
        ).status_code

    customers = [tap(f"203.0.113.{n}") for n in range(1, 6)]
    one_customer = [tap("198.51.100.7") for _ in range(3)]

    assert customers == [303] * 5
    assert one_customer == [303, 303, 429]


def test_a_first_tap_before_any_reminder_touches_only_the_survey_its_answer_and_the_event(
    client, survey
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(score_url(survey, 9))

    assert response.status_code == 303
    statements = " ".join(q["sql"] for q in captured.captured_queries)
    # No reminder was ever planned (`reminded_at` is empty), so there is none to look for.
    assert "notifications_message" not in statements
    assert SurveyAnswer.objects.get().score == 9
    assert len(published(FeedbackEventName.SURVEY_ANSWERED)) == 1
