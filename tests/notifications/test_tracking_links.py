"""Messages link to the order's tracking page, and always to its current link."""

import pytest
from django.core import mail

from notifications.models import MessageStatus
from notifications.services import message_send
from orders.messages import order_context
from orders.services.tracking import tracking_link_renew
from tests.factories import OrderFactory
from tests.notifications.test_outbox import queued

pytestmark = pytest.mark.django_db


def test_an_orders_messages_link_to_its_tracking_page():
    order = OrderFactory()

    assert order_context(order)["tracking_url"] == (
        f"https://shop.test/track/{order.tracking_token}/"
    )


def test_a_message_scheduled_before_the_link_was_renewed_carries_the_new_one(client):
    order = OrderFactory()
    message = queued(order, context={**order_context(order), "items": []})
    old = order.tracking_token

    renewed = tracking_link_renew(order=order)
    assert message_send(message_id=message.pk) == MessageStatus.SENT

    (email,) = mail.outbox
    assert f"/track/{renewed.tracking_token}/" in email.body
    assert old not in email.body
    assert client.get(f"/track/{renewed.tracking_token}/").status_code == 200
