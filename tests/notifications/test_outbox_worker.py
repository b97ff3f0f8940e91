"""A real Celery worker on Redis sends a due message from the outbox, once."""

import pytest
from django.core import mail

from notifications.models import Message, MessageStatus
from notifications.services import message_schedule
from notifications.tasks import messages_dispatch_due_task
from tests.factories import OrderFactory
from tests.notifications.test_outbox import confirmation
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
