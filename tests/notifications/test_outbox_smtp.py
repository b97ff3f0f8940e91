"""The outbox through Django's SMTP backend to a real SMTP server (aiosmtpd) answering as real
servers do: a temporary refusal is retried after its backoff and never suppresses the
customer; only a mailbox that does not exist does. Each email carries the Message-ID stored
before its provider call."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from notifications.models import (
    DeliveryAttempt,
    Message,
    MessageStatus,
    Suppression,
    SuppressionReason,
)
from notifications.services import messages_claim_due, messages_send
from notifications.tasks import messages_send_batch_task
from tests.factories import OrderFactory
from tests.notifications.smtp_server import SmtpServer
from tests.notifications.test_outbox import queued
from tests.orders.test_worker_integration import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def enqueued(monkeypatch) -> list[list[int]]:
    """The dispatcher's hand-off to the broker, kept here: the test sends what it claims."""
    batches: list[list[int]] = []
    monkeypatch.setattr(messages_send_batch_task, "delay", batches.append)
    return batches


def send(message: Message) -> Message:
    messages_send(message_ids=[message.pk])
    message.refresh_from_db()
    return message


def when_due(message: Message) -> Message:
    """What the dispatcher does once the retry is due: claim it and send it."""
    with time_machine.travel(message.send_at + timedelta(seconds=1)):
        assert messages_claim_due() == [message.pk]
        return send(message)


@pytest.mark.parametrize(
    ("at", "reply"),
    [
        ("RCPT", "451 4.7.1 Greylisted, try again later"),
        ("DATA", "451 4.3.0 Temporary server error, try again"),
    ],
)
def test_a_temporary_refusal_is_retried_later_and_delivered_never_suppressed(
    smtp_server: SmtpServer, at: str, reply: str
):
    message = queued(OrderFactory())
    smtp_server.reply(message.recipient, reply, at=at)

    message = send(message)

    assert message.status == MessageStatus.SCHEDULED
    assert message.send_at > timezone.now()
    assert reply.split()[0] in message.last_error
    assert not Suppression.objects.exists()
    assert smtp_server.received == []
    first_message_id = message.email_message_id

    message = when_due(message)

    assert message.status == MessageStatus.SENT
    assert smtp_server.recipients() == [message.recipient]
    # The retry carried the Message-ID of the first attempt.
    assert smtp_server.message_ids() == [first_message_id] == [message.email_message_id]
    assert message.provider_message_id == first_message_id
    assert list(message.attempts.values_list("outcome", flat=True)) == ["transient", "sent"]


def test_an_unknown_user_fails_the_message_and_suppresses_the_address(smtp_server: SmtpServer):
    order = OrderFactory()
    message = queued(order)
    smtp_server.reply(message.recipient, "550 5.1.1 The email account does not exist")

    message = send(message)

    assert message.status == MessageStatus.FAILED
    suppression = Suppression.objects.get()
    assert suppression.address == message.recipient.lower()
    assert suppression.reason == SuppressionReason.INVALID
    assert suppression.detail.startswith("550 5.1.1:")
    later = send(queued(order, kind="shipment_shipped"))
    assert later.status == MessageStatus.SUPPRESSED
    assert smtp_server.received == []


def test_a_full_mailbox_is_retried_and_in_the_end_fails_without_suppressing(
    settings, smtp_server: SmtpServer
):
    """552 5.2.2 is, in RFC 3463's words, a persistent transient failure: the customer may
    make room, so it is retried; when it never clears, the message fails alone and the next
    one (a shipping update, days later) still goes out."""
    settings.NOTIFICATIONS_MAX_SEND_ATTEMPTS = 2
    order = OrderFactory()
    message = queued(order)
    smtp_server.reply(message.recipient, "552 5.2.2 Mailbox full", "552 5.2.2 Mailbox full")

    message = when_due(send(message))

    assert message.status == MessageStatus.FAILED
    assert message.status_reason.startswith("gave up after 2 attempts")
    assert not Suppression.objects.exists()
    assert send(queued(order, kind="shipment_shipped")).status == MessageStatus.SENT


def test_a_mail_server_that_is_down_puts_the_message_back_on_the_schedule(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    server = SmtpServer().start()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    server.stop()  # down: the port refuses connections
    message = queued(OrderFactory())

    message = send(message)

    assert message.status == MessageStatus.SCHEDULED
    assert not Suppression.objects.exists()
    restarted = SmtpServer().start()
    settings.EMAIL_PORT = restarted.port
    try:
        assert when_due(message).status == MessageStatus.SENT
    finally:
        restarted.stop()
    assert restarted.message_ids() == [message.email_message_id]


def test_a_send_whose_answer_never_comes_is_held_and_its_message_id_finds_the_copy(
    settings, smtp_server: SmtpServer
):
    """The server kept the message but its answer came after our timeout: held for review,
    never resent; the Message-ID stored before the call is the one in the server's copy."""
    settings.NOTIFICATIONS_EMAIL_TIMEOUT = 0.3
    smtp_server.data_delay = 0.8
    message = queued(OrderFactory())

    message = send(message)

    assert message.status == MessageStatus.HELD
    assert message.status_reason.startswith("outcome unknown")
    assert wait_for(lambda: smtp_server.received, timeout=5)
    assert smtp_server.message_ids() == [message.email_message_id]
    assert messages_send(message_ids=[message.pk]) == {}  # not resent
    assert DeliveryAttempt.objects.filter(message=message).count() == 1
