"""A real Celery worker on Redis sends a due message from the outbox, once."""

import pytest
from django.core import mail

from notifications.engine.channels import console
from notifications.models import Message, MessageStatus
from notifications.services import message_schedule
from notifications.tasks import messages_dispatch_due_task
from orders.models import Order
from tests.factories import OrderFactory, ShopFactory
from tests.notifications.fake_twilio import twilio_accepts
from tests.notifications.test_outbox import confirmation
from tests.orders.test_shopify_webhooks import deliver, fixture
from tests.orders.test_worker_integration import wait_for


@pytest.mark.django_db(transaction=True)
def test_worker_sends_a_due_message_once_even_when_two_ticks_run(celery_worker_live):
    order = OrderFactory()
    message, _ = message_schedule(request=confirmation(order))

    messages_dispatch_due_task.delay()
    messages_dispatch_due_task.delay()

    assert wait_for(
        lambda: Message.objects.filter(pk=message.pk, status=MessageStatus.SENT).exists()
    ), Message.objects.values("status", "status_reason").get(pk=message.pk)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [order.email]


@pytest.mark.django_db(transaction=True)
def test_shopify_order_in_confirmation_out_by_email_and_sms(
    daytime, celery_worker_live, client, fake_twilio
):
    """A signed orders/create webhook in; a real worker on Redis processes it, the order's
    flow schedules the confirmation, a dispatcher tick sends it: email through anymail's test
    backend, SMS through the twilio client to a local fake Twilio."""
    twilio_accepts(fake_twilio)
    shop = ShopFactory()
    payload = fixture("orders_create")
    payload["customer"]["sms_marketing_consent"]["state"] = "subscribed"

    assert deliver(client, shop, "orders/create", payload).status_code == 200
    assert wait_for(lambda: Message.objects.filter(shop=shop).count() == 2)

    messages_dispatch_due_task.delay()

    def all_sent() -> bool:
        return set(Message.objects.filter(shop=shop).values_list("status", flat=True)) == {"sent"}

    assert wait_for(all_sent), list(Message.objects.values("channel", "status", "status_reason"))
    order = Order.objects.get(shop=shop)
    assert [m.subject for m in mail.outbox] == [
        f"{shop.name}: your order {order.number} is confirmed"
    ]
    assert mail.outbox[0].to == [order.email]
    request, _ = fake_twilio.log[-1]
    assert request.form["To"] == "+16135550123"
    assert order.number in request.form["Body"]


@pytest.mark.django_db(transaction=True)
def test_without_a_twilio_account_a_text_goes_to_the_log_with_its_number_masked(
    daytime, celery_worker_live, client, settings
):
    """The demo: with no Twilio account the text goes to the console channel through a real
    worker. Its log line says which message went where, never the number or the text (the
    `celery_worker_live` fixture checks every log record for personal data)."""
    settings.TWILIO_ACCOUNT_SID = ""
    console.sent.clear()
    shop = ShopFactory()
    payload = fixture("orders_create")
    payload["customer"]["sms_marketing_consent"]["state"] = "subscribed"

    assert deliver(client, shop, "orders/create", payload).status_code == 200
    assert wait_for(lambda: Message.objects.filter(shop=shop).count() == 2)
    messages_dispatch_due_task.delay()

    def text_sent() -> bool:
        return Message.objects.filter(shop=shop, channel="sms", status="sent").exists()

    assert wait_for(text_sent), list(Message.objects.values("channel", "status", "status_reason"))
    [text] = [record.message for record in console.sent if record.message.channel == "sms"]
    assert text.recipient == "+16135550123"
    assert Message.objects.get(shop=shop, channel="sms").provider == "console"
