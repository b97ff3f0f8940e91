"""A delivered order's survey: planned by the engine from `order_delivered`, on one channel,
within the contact budget; and checked again when it is about to go out."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from feedback.models import SurveyKind, SurveyRequest, SurveyRequestStatus, SurveySettings
from feedback.tokens import order_id_from_token
from notifications.models import Message, MessageStatus
from notifications.services import message_render, message_send
from orders.models import FinancialStatus, OrderStatus
from returns.services import ItemChoice, return_policy_for, return_request_create
from tests.factories import LineItemFactory, ShopFactory
from tests.feedback.conftest import (
    delivered_order,
    survey_channels,
    survey_messages,
)

pytestmark = pytest.mark.django_db


def test_a_delivered_order_owes_one_survey_three_days_later_by_email_with_a_link_per_score():
    order = delivered_order(sms=True)

    (message,) = survey_messages(order)
    survey_messages(order)  # the event delivered twice plans nothing more

    survey = SurveyRequest.objects.get(order=order)
    assert (survey.kind, survey.status) == (SurveyKind.NPS, SurveyRequestStatus.PLANNED)
    # Email first, and only one channel, though the customer could also get a text.
    assert (message.channel, message.about_type, message.about_id) == (
        "email",
        "survey_request",
        survey.pk,
    )
    assert message.send_at == order.delivered_at + timedelta(days=3)
    assert Message.objects.filter(kind="survey_request").count() == 1
    scores = message.context["scores"]
    assert [s["score"] for s in scores] == list(range(11))
    token = scores[9]["url"].split("/feedback/")[1].split("/")[0]
    assert order_id_from_token(token) == order.pk
    assert scores[9]["url"].endswith("/score/9/")
    text = message_render(kind="survey_request", channel="email", context=message.context)
    assert all(s["url"] in text.body_html for s in scores)
    assert "How likely are you to recommend" in text.body_html
    assert "<script" not in text.body_html


def test_a_shop_asking_by_text_gets_reply_with_a_number_in_its_scale():
    shop = ShopFactory()
    SurveySettings.objects.create(shop=shop, kind=SurveyKind.CSAT_ORDER)
    order = delivered_order(shop, sms=True)
    survey_channels(shop, ["sms"])

    (message,) = survey_messages(order)

    assert (message.channel, message.recipient) == ("sms", order.phone)
    text = message_render(kind="survey_request", channel="sms", context=message.context)
    assert "Reply with a number from 1 to 5." in text.body_text
    assert [s["score"] for s in message.context["scores"]] == [1, 2, 3, 4, 5]


def test_at_most_one_survey_per_customer_and_shop_in_thirty_days():
    first = delivered_order(delivered_at=timezone.now() - timedelta(days=45))
    customer = first.customer
    survey_messages(first)

    soon = delivered_order(customer=customer, delivered_at=timezone.now() - timedelta(days=20))
    later = delivered_order(customer=customer, delivered_at=timezone.now())

    assert survey_messages(soon) == []
    assert len(survey_messages(later)) == 1
    assert SurveyRequest.objects.filter(customer=customer).count() == 2


def test_the_budget_is_the_shops_own():
    first = delivered_order(delivered_at=timezone.now() - timedelta(days=45))
    SurveySettings.objects.create(shop=first.shop, budget_days=60)
    survey_messages(first)

    later = delivered_order(customer=first.customer, delivered_at=timezone.now())

    assert survey_messages(later) == []


def test_another_shops_survey_takes_nothing_from_this_shops_budget():
    first = delivered_order()
    survey_messages(first)
    # The same person (same email) at another shop is another customer of another shop.
    other = delivered_order(ShopFactory())

    assert len(survey_messages(other)) == 1


def open_return(order):
    return_policy_for(order.shop)
    line = LineItemFactory(order=order, title="Linen shirt")
    return return_request_create(
        order=order,
        items=[
            ItemChoice(
                line_item_id=line.pk, quantity=1, reason_code="too_small", resolution="refund"
            )
        ],
        method="drop_off",
        submission_key=f"survey-test-{order.pk}",
    )[0]


def test_no_survey_while_the_customer_has_a_return_open():
    returned = delivered_order(delivered_at=timezone.now() - timedelta(days=5))
    open_return(returned)
    order = delivered_order(customer=returned.customer)

    assert survey_messages(order) == []
    assert not SurveyRequest.objects.filter(order=order).exists()


def test_a_return_opened_after_planning_cancels_the_survey_when_due(daytime):
    order = delivered_order()
    (message,) = survey_messages(order)
    open_return(order)
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.QUEUED)

    message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == MessageStatus.CANCELLED
    assert message.status_reason == "survey held: a return is open"
    assert mail.outbox == []


def test_a_case_module_holds_surveys_through_the_setting(settings):
    settings.FEEDBACK_SURVEY_HOLD_CHECKS = [
        *settings.FEEDBACK_SURVEY_HOLD_CHECKS,
        "tests.feedback.test_planning.everyone_has_a_case_open",
    ]

    assert survey_messages(delivered_order()) == []


def everyone_has_a_case_open(customer_ids):
    return dict.fromkeys(customer_ids, "a follow-up case is open")


@pytest.mark.parametrize(
    "fields",
    [
        {"status": OrderStatus.CANCELLED},
        {"financial_status": FinancialStatus.VOIDED},
        {"financial_status": FinancialStatus.REFUNDED},
    ],
    ids=["cancelled", "voided", "refunded"],
)
def test_no_survey_for_a_cancelled_voided_or_refunded_order(fields):
    order = delivered_order(**fields)

    assert survey_messages(order) == []
    assert not SurveyRequest.objects.exists()


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"status": OrderStatus.CANCELLED}, "the order was cancelled"),
        ({"financial_status": FinancialStatus.VOIDED}, "the order's payment was voided"),
    ],
)
def test_a_survey_planned_before_the_order_was_cancelled_or_voided_never_goes(
    daytime, fields, reason
):
    order = delivered_order()
    (message,) = survey_messages(order)
    type(order).objects.filter(pk=order.pk).update(**fields)
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.QUEUED)

    message_send(message_id=message.pk)

    message.refresh_from_db()
    assert (message.status, message.status_reason) == (MessageStatus.CANCELLED, reason)
    assert mail.outbox == []


def test_at_send_time_a_survey_sent_meanwhile_within_the_budget_wins(daytime):
    first = delivered_order(delivered_at=timezone.now() - timedelta(days=50))
    survey_messages(first)
    second = delivered_order(customer=first.customer)
    (second_message,) = survey_messages(second)
    # The shop shortened and lengthened its budget meanwhile: both were planned, and the
    # first has just gone.
    SurveyRequest.objects.filter(order=first).update(
        status=SurveyRequestStatus.SENT, sent_at=timezone.now() - timedelta(days=2)
    )
    Message.objects.filter(pk=second_message.pk).update(status=MessageStatus.QUEUED)

    message_send(message_id=second_message.pk)

    second_message.refresh_from_db()
    assert second_message.status == MessageStatus.CANCELLED
    assert second_message.status_reason == "another survey reached the customer within the budget"


def test_a_survey_goes_out_through_anymail_and_is_mirrored_as_sent(daytime):
    from feedback.surveys.services import survey_requests_refresh

    order = delivered_order()
    (message,) = survey_messages(order)
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.QUEUED)

    assert message_send(message_id=message.pk) == MessageStatus.SENT
    survey_requests_refresh()

    (email,) = mail.outbox
    assert "/score/10/" in email.alternatives[0][0]
    survey = SurveyRequest.objects.get(order=order)
    assert survey.status == SurveyRequestStatus.SENT
    assert (survey.channel, survey.message_id) == ("email", message.pk)
    assert survey.sent_at is not None
