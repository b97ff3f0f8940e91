"""A message held for review (its send was interrupted after the provider may have taken it):
retried only by an owner or a manager, only after a page that says the customer may already
have it, never twice; settled as sent or failed with a note; its page shows what is known."""

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from notifications.engine.operations import message_retry, message_settle
from notifications.models import (
    AttemptOutcome,
    DeliveryAttempt,
    Message,
    MessageEvent,
    MessageStatus,
)
from notifications.tasks import messages_send_batch_task
from postpurchase.exceptions import DomainError
from tests.factories import StaffMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_chunks(monkeypatch) -> list[list[int]]:
    chunks: list[list[int]] = []
    monkeypatch.setattr(messages_send_batch_task, "delay", chunks.append)
    return chunks


def _action_url(message, action: str) -> str:
    return reverse("messaging:message_action", args=[message.pk, action])


def _detail_url(message) -> str:
    return reverse("messaging:message_detail", args=[message.pk])


def _status(message) -> str:
    return Message.objects.get(pk=message.pk).status


# The dashboard ---------------------------------------------------------------------------------


def test_retrying_a_held_message_starts_with_a_page_saying_the_customer_may_have_it(client, world):
    client.force_login(world.manager)

    page = client.get(_action_url(world.message, "retry"))

    html = page.content.decode()
    assert page.status_code == 200
    assert "The customer may already have this message." in html
    assert world.message.email_message_id.replace("<", "&lt;").replace(">", "&gt;") in html
    assert 'name="held_confirmed" value="yes"' in html
    assert "<script" not in html.split("</head>")[1]
    assert _status(world.message) == MessageStatus.HELD


def test_a_retry_without_the_confirmation_goes_to_the_page_and_sends_nothing(
    client, world, sent_chunks, django_capture_on_commit_callbacks
):
    client.force_login(world.manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_action_url(world.message, "retry"))

    assert response.status_code == 302
    assert response.url == _action_url(world.message, "retry")
    assert _status(world.message) == MessageStatus.HELD
    assert sent_chunks == []


def test_a_confirmed_retry_sends_it_once_even_if_pressed_twice(
    client, world, sent_chunks, django_capture_on_commit_callbacks
):
    client.force_login(world.manager)

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(_action_url(world.message, "retry"), {"held_confirmed": "yes"})
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(_action_url(world.message, "retry"), {"held_confirmed": "yes"})

    assert first.status_code == second.status_code == 302
    assert _status(world.message) == MessageStatus.QUEUED
    assert sent_chunks == [[world.message.pk]]
    event = MessageEvent.objects.get(message=world.message, to_status=MessageStatus.QUEUED)
    assert event.from_status == MessageStatus.HELD
    assert event.actor == world.manager
    assert "may have had it already" in event.note
    notices = [str(m) for m in get_messages(second.wsgi_request)]
    assert any("refused" in notice for notice in notices)


def test_an_agent_can_neither_retry_nor_settle_a_held_message(client, world, sent_chunks):
    client.force_login(world.agent)

    detail = client.get(_detail_url(world.message)).content.decode()
    page = client.get(_action_url(world.message, "retry"))
    retry = client.post(_action_url(world.message, "retry"), {"held_confirmed": "yes"})
    settle = client.post(
        _action_url(world.message, "settle"), {"outcome": "sent", "note": "I think so"}
    )

    assert page.status_code == retry.status_code == settle.status_code == 403
    assert _action_url(world.message, "retry") not in detail
    assert _action_url(world.message, "settle") not in detail
    assert "The shop's owner or a manager can settle or retry it." in detail
    assert _status(world.message) == MessageStatus.HELD
    assert sent_chunks == []


def test_a_manager_settles_a_held_message_as_sent_with_a_note(client, world):
    client.force_login(world.manager)

    page = client.get(_action_url(world.message, "settle"))
    response = client.post(
        _action_url(world.message, "settle"),
        {"outcome": "sent", "note": "Delivered in Postmark's activity log."},
    )

    message = Message.objects.get(pk=world.message.pk)
    assert page.status_code == 200
    assert response.status_code == 302
    assert message.status == MessageStatus.SENT
    assert message.sent_at == world.message.sending_at
    event = message.events.get(to_status=MessageStatus.SENT)
    assert event.actor == world.manager
    assert event.note == "settled by staff: went out: Delivered in Postmark's activity log."


def test_settling_as_failed_lets_it_be_retried_at_once(client, world, sent_chunks):
    client.force_login(world.owner)

    client.post(
        _action_url(world.message, "settle"), {"outcome": "failed", "note": "Not in the log."}
    )
    detail = client.get(_detail_url(world.message)).content.decode()
    client.post(_action_url(world.message, "retry"))

    assert f'<form method="post" action="{_action_url(world.message, "retry")}">' in detail
    assert _status(world.message) == MessageStatus.QUEUED


def test_settling_needs_an_outcome_and_a_note(client, world):
    client.force_login(world.manager)

    response = client.post(_action_url(world.message, "settle"), {"outcome": "sent", "note": " "})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert _status(world.message) == MessageStatus.HELD


def test_a_failed_message_keeps_its_direct_retry_for_managers(client, world, sent_chunks):
    Message.objects.filter(pk=world.message.pk).update(status=MessageStatus.FAILED)
    client.force_login(world.manager)

    detail = client.get(_detail_url(world.message)).content.decode()
    response = client.post(_action_url(world.message, "retry"))

    assert f'<form method="post" action="{_action_url(world.message, "retry")}">' in detail
    assert response.status_code == 302
    assert _status(world.message) == MessageStatus.QUEUED


def test_the_message_page_shows_what_is_known(client, world):
    DeliveryAttempt.objects.create(
        message=world.message,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        outcome=AttemptOutcome.TRANSIENT,
        error="read timeout after 10 s",
    )
    MessageEvent.objects.create(
        message=world.message, from_status="sending", to_status="held", note="outcome unknown"
    )
    client.force_login(world.agent)

    html = client.get(_detail_url(world.message)).content.decode()

    assert "Held for review" in html
    assert "&lt;held-" in html  # the Message-ID header
    assert "postmark" in html  # the provider
    assert "0a1b2c3d-held" in html  # and its id
    assert "read timeout after 10 s" in html  # the attempt
    assert "postmark: delivered" in html  # the provider's event
    assert "RecordType" in html
    assert "Accepted" in html
    assert "Sending → Held for review" in html  # the history
    assert "outcome unknown" in html


# The services ----------------------------------------------------------------------------------


def test_the_service_refuses_a_held_retry_without_confirmation(world):
    with pytest.raises(DomainError, match="may already have it"):
        message_retry(message_id=world.message.pk, actor=world.manager)

    assert _status(world.message) == MessageStatus.HELD


@pytest.mark.parametrize("status", [MessageStatus.SENT, MessageStatus.FAILED])
def test_only_a_held_message_can_be_settled(world, status):
    Message.objects.filter(pk=world.message.pk).update(status=status)

    with pytest.raises(DomainError, match="only a message held for review"):
        message_settle(message_id=world.message.pk, actor=None, outcome="sent", note="log")

    assert _status(world.message) == status


def test_settle_refuses_an_unknown_outcome(world):
    with pytest.raises(DomainError, match="went out or not"):
        message_settle(message_id=world.message.pk, actor=None, outcome="delivered", note="x")


# Admin -----------------------------------------------------------------------------------------

CHANGELIST = "admin:notifications_message_changelist"


def _act(client, action: str, message, **extra):
    return client.post(
        reverse(CHANGELIST), {"action": action, "_selected_action": [message.pk], **extra}
    )


def _ops(client, shop=None, role="manager") -> User:
    user = User.objects.create_user("ops", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_message", "change_message"],
            content_type__app_label="notifications",
        )
    )
    if shop is not None:
        StaffMembershipFactory(user=user, shop=shop, role=role)
    client.force_login(user)
    return user


def test_admin_retry_of_a_held_message_asks_first(admin_client, world, sent_chunks):
    response = _act(admin_client, "retry", world.message)

    html = response.content.decode()
    assert response.status_code == 200
    assert "The customer may already have this message." in html
    assert 'name="held_confirmed" value="yes"' in html
    assert _status(world.message) == MessageStatus.HELD


def test_admin_retry_of_a_held_message_goes_through_once_confirmed(
    admin_client, world, sent_chunks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _act(admin_client, "retry", world.message, held_confirmed="yes")

    assert response.status_code == 302
    assert _status(world.message) == MessageStatus.QUEUED
    assert sent_chunks == [[world.message.pk]]


def test_admin_retry_is_for_the_shops_owner_or_manager(client, world, sent_chunks):
    _ops(client, world.shop, role="agent")

    response = _act(client, "retry", world.message, held_confirmed="yes")

    notices = [str(m) for m in get_messages(response.wsgi_request)]
    assert _status(world.message) == MessageStatus.HELD
    assert notices == [
        "Refused: 1 message: Only the shop's owner or a manager can send, cancel, retry or "
        "settle messages (you are an agent of this shop) (1)."
    ]


def test_admin_settle_asks_what_happened_and_records_it(client, world):
    user = _ops(client, world.shop, role="manager")

    page = _act(client, "settle", world.message)
    response = _act(
        client,
        "settle",
        world.message,
        settle="yes",
        **{"settle-outcome": "failed", "settle-note": "Bounced back to the sender address."},
    )

    assert page.status_code == 200
    assert "How you know" in page.content.decode()
    assert response.status_code == 302
    message = Message.objects.get(pk=world.message.pk)
    assert message.status == MessageStatus.FAILED
    assert message.events.get(to_status=MessageStatus.FAILED).actor == user
