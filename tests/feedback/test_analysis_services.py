"""Recording a text: one row per source object, scored at once; and the texts customers
already write elsewhere (tracking-page problem reports, text messages) analysed as they
arrive, through `orders`' event and the messaging engine's inbound subscribers."""

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.core.cache import cache
from twilio.request_validator import RequestValidator

from feedback.analysis.services import (
    rating_from_score,
    rating_from_stars,
    record_text,
    topics_refresh,
)
from feedback.models import AnalysedText, TextSource, Topic
from notifications.engine import inbound_texts as inbound_subscribers
from notifications.models import InboundMessage
from orders.events import OrderEventName
from orders.services import problem_report_create
from orders.services.privacy import customer_redact
from postpurchase.events import domain_event_deliver
from postpurchase.exceptions import DomainError
from postpurchase.models import DomainEvent
from tests.factories import CustomerFactory, OrderFactory
from tests.notifications.fake_twilio import FROM_NUMBER
from tests.notifications.test_twilio_webhooks import sent_sms

pytestmark = pytest.mark.django_db
PHONE = "+14155550123"
TOKEN = "twilio-auth-token-for-tests"


def test_recording_the_same_source_twice_updates_its_one_row(shop):
    customer = CustomerFactory(shop=shop)
    written = datetime(2026, 10, 1, 8, 30, tzinfo=UTC)
    first = record_text(
        shop=shop,
        source=TextSource.REVIEW,
        source_id=42,
        text="Wonderful, I love it!",
        customer=customer,
        rating=rating_from_stars(5),
        written_at=written,
    )

    again = record_text(
        shop=shop,
        source=TextSource.REVIEW,
        source_id=42,
        text="Edited: it broke after a week. Terrible, I hate it.",
        rating=rating_from_stars(1),
    )

    assert AnalysedText.objects.count() == 1
    assert again.pk == first.pk
    row = AnalysedText.objects.get()
    assert row.text.startswith("Edited")
    assert (row.rating, row.scorer) == (0.0, "vader")
    assert first.sentiment > 0 > row.sentiment
    # Not given the second time: kept.
    assert (row.customer, row.written_at) == (customer, written)
    assert (again.customer, again.written_at) == (customer, written)


def test_the_same_id_from_another_source_or_shop_is_another_text(shop, other_shop):
    record_text(shop=shop, source=TextSource.REVIEW, source_id=1, text="Good")
    record_text(shop=shop, source=TextSource.SURVEY_ANSWER, source_id=1, text="Good")
    record_text(shop=other_shop, source=TextSource.REVIEW, source_id=1, text="Good")

    assert AnalysedText.objects.count() == 3


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ({"source": "tweet"}, "Unknown text source"),
        ({"text": "   "}, "no text"),
        ({"rating": 5}, "0..1"),
    ],
)
def test_record_text_refuses_what_it_cannot_store(shop, call, message):
    arguments = {"source": TextSource.REVIEW, "source_id": 1, "text": "Fine", **call}

    with pytest.raises(DomainError, match=message):
        record_text(shop=shop, **arguments)

    assert not AnalysedText.objects.exists()


def test_record_text_refuses_another_shops_customer(shop, other_shop):
    with pytest.raises(DomainError, match="not the shop's"):
        record_text(
            shop=shop,
            source=TextSource.REVIEW,
            source_id=1,
            text="Fine",
            customer=CustomerFactory(shop=other_shop),
        )


def test_ratings_scale_to_0_1():
    assert [rating_from_stars(s) for s in (1, 3, 5)] == [0.0, 0.5, 1.0]
    assert [rating_from_score(s) for s in (0, 6, 10)] == [0.0, 0.6, 1.0]
    assert rating_from_score(4, lowest=1, highest=7) == 0.5


def test_a_problem_report_from_the_tracking_page_is_analysed_through_its_event(shop):
    cache.clear()  # the report form's counters, keyed by order id
    order = OrderFactory(shop=shop)
    report, _ = problem_report_create(
        order=order,
        kind="damaged",
        description="The box was crushed and the mug is broken. Really disappointed.",
        submission_key="k" * 32,
    )
    event = DomainEvent.objects.get(name=OrderEventName.PROBLEM_REPORTED)
    assert event.payload == {
        "problem_report_id": report.pk,
        "order_id": order.pk,
        "customer_id": order.customer_id,
        "kind": "damaged",
    }

    handled = domain_event_deliver(event_id=event.pk)

    assert "feedback.problem_reported_analyse" in handled
    text = AnalysedText.objects.get(source=TextSource.PROBLEM_REPORT, source_id=report.pk)
    assert (text.shop, text.customer) == (shop, order.customer)
    assert text.written_at == report.created_at
    assert text.sentiment < 0


@pytest.fixture
def twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN


def text_in(client, body: str, sid: str = "SM" + "e" * 32):
    form = {"MessageSid": sid, "From": PHONE, "To": FROM_NUMBER, "Body": body}
    signature = RequestValidator(TOKEN).compute_signature(
        settings.PUBLIC_BASE_URL + "/webhooks/twilio/inbound/", form
    )
    return client.post("/webhooks/twilio/inbound/", form, headers={"X-Twilio-Signature": signature})


def test_a_customers_text_message_is_analysed_through_the_inbound_subscribers(client, twilio_token):
    customer = CustomerFactory(phone=PHONE)
    sent_sms(OrderFactory(customer=customer, shop=customer.shop))
    assert "feedback.inbound_text_analyse" in inbound_subscribers.subscribers

    response = text_in(client, "Still nothing after two weeks, this is awful service.")

    assert response.status_code == 200
    reply = InboundMessage.objects.get()
    text = AnalysedText.objects.get(source=TextSource.INBOUND_REPLY)
    assert (text.source_id, text.shop, text.customer) == (reply.pk, customer.shop, customer)
    assert text.sentiment < 0


@pytest.mark.parametrize("body", ["STOP", "9", "👍"])
def test_commands_and_bare_scores_by_text_are_not_analysed(client, twilio_token, body):
    customer = CustomerFactory(phone=PHONE)
    sent_sms(OrderFactory(customer=customer, shop=customer.shop))

    text_in(client, body)

    assert InboundMessage.objects.count() == 1
    assert not AnalysedText.objects.exists()


def test_a_failing_inbound_subscriber_undoes_neither_the_text_nor_the_analysis(
    client, twilio_token, monkeypatch
):
    customer = CustomerFactory(phone=PHONE)
    sent_sms(OrderFactory(customer=customer, shop=customer.shop))

    def broken(text):
        raise RuntimeError("boom")

    monkeypatch.setitem(inbound_subscribers.subscribers, "tests.broken", broken)

    response = text_in(client, "The parcel never came, awful.")

    assert response.status_code == 200
    assert InboundMessage.objects.count() == 1
    assert AnalysedText.objects.filter(source=TextSource.INBOUND_REPLY).count() == 1


def test_an_erased_customers_texts_and_quotes_are_erased_through_customer_redacted(shop):
    customer = CustomerFactory(shop=shop, email="erase.me@example.com", external_id="c-9")
    other = CustomerFactory(shop=shop)
    for i in range(12):
        record_text(
            shop=shop,
            source=TextSource.REVIEW,
            source_id=i,
            text=f"Leaking lid number {i}, awful.",
            customer=customer if i == 0 else other,
            rating=0.0,
        )
    for i in range(12, 40):
        record_text(shop=shop, source=TextSource.REVIEW, source_id=i, text="Great mug", rating=1.0)
    topics_refresh(shop_id=shop.pk)
    lid = Topic.objects.get(shop=shop, key="leak lid")
    lid.examples = ["Leaking lid number 0, awful.", "Leaking lid number 1, awful."]
    lid.save(update_fields=["examples"])

    customer_redact(shop=shop, customer_external_id="c-9")
    event = DomainEvent.objects.get(name=OrderEventName.CUSTOMER_REDACTED)
    handled = domain_event_deliver(event_id=event.pk)

    assert "feedback.customer_redacted_erase" in handled
    assert not AnalysedText.objects.filter(customer=customer).exists()
    assert AnalysedText.objects.filter(customer=other).count() == 11
    lid.refresh_from_db()
    assert lid.examples == ["Leaking lid number 1, awful."]
