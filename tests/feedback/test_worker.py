"""Through a real Celery worker on Redis: a parcel delivered, the order's `order_delivered`
plans its survey, the dispatcher texts it through the twilio client (a local fake Twilio), the
customer answers by text with a detractor's score, the answer is recorded, `survey_answered` is
delivered to its subscribers (a test's, and the follow-up's: a case is opened), and the thanks
goes out too."""

import pytest
from django.db import transaction
from django.utils import timezone

from feedback.events import FeedbackEventName
from feedback.models import Case, SurveyAnswer, SurveyRequest
from notifications.engine.kinds import flows_ensure_defaults
from notifications.models import Flow, Message
from notifications.tasks import messages_dispatch_due_task
from orders.models import OrderStatus, Purpose
from orders.services.shipments import shipment_transition
from postpurchase import events
from tests.factories import ConsentFactory, CustomerFactory, OrderFactory, ShipmentFactory
from tests.feedback.conftest import PHONE
from tests.feedback.test_texts import text
from tests.notifications.fake_twilio import twilio_accepts
from tests.orders.test_worker_integration import wait_for


@pytest.fixture
def answers_heard():
    heard: list[events.Event] = []
    key = "tests.feedback.answers_heard"
    events.subscribe(FeedbackEventName.SURVEY_ANSWERED, heard.append, key=key)
    yield heard
    events.unsubscribe(FeedbackEventName.SURVEY_ANSWERED, key)


def _sent(kind: str) -> bool:
    return Message.objects.filter(kind=kind, status="sent").exists()


@pytest.mark.django_db(transaction=True)
def test_a_delivery_is_surveyed_by_text_and_a_detractors_text_answer_opens_a_case(
    daytime, celery_worker_live, client, fake_twilio, answers_heard
):
    twilio_accepts(fake_twilio)
    customer = CustomerFactory(phone=PHONE)
    ConsentFactory(customer=customer, channel="sms", purpose=Purpose.MARKETING)
    order = OrderFactory(
        shop=customer.shop, customer=customer, status=OrderStatus.SHIPPED, phone=PHONE
    )
    flows_ensure_defaults(shop_id=order.shop_id)
    # The shop asks by text, as soon as the order is delivered.
    Flow.objects.filter(shop=order.shop, kind="survey_request").update(
        channels=["sms"], delay=timezone.timedelta(0)
    )
    shipment = ShipmentFactory(order=order, status="in_transit")

    with transaction.atomic():
        shipment_transition(shipment=shipment, to="delivered", at=timezone.now())

    assert wait_for(lambda: Message.objects.filter(kind="survey_request").exists())
    messages_dispatch_due_task.delay()
    assert wait_for(lambda: _sent("survey_request")), list(
        Message.objects.values("kind", "status", "status_reason")
    )
    asked = [r.form["Body"] for r, _ in fake_twilio.log]
    assert any("Reply with a number from 0 to 10." in body for body in asked), asked

    text(client, "3")

    answer = SurveyAnswer.objects.get()
    assert (answer.score, answer.channel) == (3, "sms")
    assert SurveyRequest.objects.get(order=order).status == "answered"
    assert wait_for(lambda: len(answers_heard) == 1)
    assert answers_heard[0].payload["score"] == 3
    assert answers_heard[0].payload["order_id"] == order.pk
    # The worker delivered the same event to the follow-up: one case for this answer.
    assert wait_for(lambda: Case.objects.filter(source="survey", source_id=answer.pk).exists())
    case = Case.objects.get()
    assert (case.customer_id, case.order_id, case.scale, case.status) == (
        customer.pk,
        order.pk,
        "nps",
        "open",
    )
    messages_dispatch_due_task.delay()
    assert wait_for(lambda: _sent("survey_thanks"))
    request, _ = fake_twilio.log[-1]
    assert "why you gave 3" in request.form["Body"]
