"""Ops admin for the outbox: read-only messages moved only by the services, editable flows."""

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notifications.models import (
    AttemptOutcome,
    DeliveryAttempt,
    Flow,
    InboundMessage,
    Message,
    MessageEvent,
    MessageStatus,
    NumberOptOut,
    ProviderEvent,
    Purpose,
    Suppression,
)
from notifications.services import message_schedule
from notifications.tasks import messages_send_batch_task
from orders.events import OrderEventName
from orders.models import Order
from tests.factories import OrderFactory, StaffMembershipFactory
from tests.notifications.test_outbox import confirmation, queued

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:notifications_message_changelist"


def _url(model: type, view: str, *args: Any) -> str:
    return reverse(f"admin:notifications_{model._meta.model_name}_{view}", args=args)


def _scheduled(order: Order, **overrides: Any) -> Message:
    message, _ = message_schedule(request=confirmation(order, **overrides))
    return message


def _with_status(message: Message, status: str) -> Message:
    Message.objects.filter(pk=message.pk).update(status=status)
    message.refresh_from_db()
    return message


def _act(client: Client, action: str, messages: list[Message]) -> HttpResponse:
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [m.pk for m in messages]},
    )


def _notices(response: HttpResponse) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def sent_chunks(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    chunks: list[list[int]] = []
    monkeypatch.setattr(messages_send_batch_task, "delay", chunks.append)
    return chunks


@pytest.fixture
def outbox(shop) -> SimpleNamespace:
    """A message with its history and an attempt, and a flow, in one shop."""
    order = OrderFactory(shop=shop)
    message = queued(order, recipient="ada@lovelace.example")
    Message.objects.filter(pk=message.pk).update(
        subject="Your order",
        body_text="Thanks, Ada.",
        body_html="<p>Thanks, <b>Ada</b>.</p>",
        provider_message_id="prov-123",
        last_error="mailbox full",
    )
    MessageEvent.objects.create(
        message=message, from_status="scheduled", to_status="queued", note="claimed by tick"
    )
    now = timezone.now()
    DeliveryAttempt.objects.create(
        message=message,
        started_at=now,
        finished_at=now,
        outcome=AttemptOutcome.TRANSIENT,
        error="503 from provider",
    )
    flow = Flow.objects.create(
        shop=shop,
        kind="review_request",
        trigger=OrderEventName.ORDER_DELIVERED,
        delay=timedelta(days=7),
        channels=["email"],
        purpose=Purpose.MARKETING,
    )
    return SimpleNamespace(order=order, message=message, flow=flow)


@pytest.mark.parametrize("model", [Message, Flow], ids=lambda m: m.__name__)
def test_changelist_lists_the_rows(admin_client, outbox, model):
    response = admin_client.get(_url(model, "changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == model.objects.count() == 1


def test_message_change_page_shows_content_escaped_and_history(admin_client, outbox):
    response = admin_client.get(_url(Message, "change", outbox.message.pk))
    html = response.content.decode()

    assert response.status_code == 200
    assert response.context["original"] == outbox.message
    # The HTML body is shown as source, never rendered.
    assert "&lt;b&gt;Ada&lt;/b&gt;" in html
    assert "<b>Ada</b>" not in html
    assert "&quot;order_number&quot;" in html  # the context, as pretty JSON
    assert "prov-123" in html
    assert "mailbox full" in html
    assert "claimed by tick" in html  # the MessageEvent inline
    assert "503 from provider" in html  # the DeliveryAttempt inline


def test_message_change_page_is_read_only(admin_client, outbox):
    response = admin_client.get(_url(Message, "change", outbox.message.pk))

    assert response.status_code == 200
    assert response.context["adminform"].form.fields == {}
    assert not response.context["has_change_permission"]


def test_flow_change_page_shows_the_flow(admin_client, outbox):
    response = admin_client.get(_url(Flow, "change", outbox.flow.pk))

    assert response.status_code == 200
    assert response.context["original"] == outbox.flow
    assert "channels" in response.context["adminform"].form.fields


def test_message_search_finds_by_recipient(admin_client, outbox):
    _scheduled(OrderFactory(shop=outbox.order.shop), recipient="grace@hopper.example")

    response = admin_client.get(reverse(CHANGELIST), {"q": "lovelace"})

    assert [m.pk for m in response.context["cl"].result_list] == [outbox.message.pk]


def test_message_search_finds_by_customer_email(admin_client, outbox):
    other = _scheduled(OrderFactory(shop=outbox.order.shop), recipient="+447700900123")
    email = other.customer.email

    response = admin_client.get(reverse(CHANGELIST), {"q": email})

    assert [m.pk for m in response.context["cl"].result_list] == [other.pk]


def test_message_add_is_forbidden(admin_client, outbox):
    assert admin_client.get(_url(Message, "add")).status_code == 403


def test_message_delete_is_forbidden(admin_client, outbox):
    response = admin_client.post(_url(Message, "delete", outbox.message.pk), {"post": "yes"})

    assert response.status_code == 403
    assert Message.objects.filter(pk=outbox.message.pk).exists()


def test_send_now_queues_scheduled_and_reports_the_refused(
    admin_client, admin_user, shop, sent_chunks, django_capture_on_commit_callbacks
):
    later = timezone.now() + timedelta(days=1)
    due = _scheduled(OrderFactory(shop=shop), send_at=later)
    sent = _with_status(_scheduled(OrderFactory(shop=shop), send_at=later), MessageStatus.SENT)

    with django_capture_on_commit_callbacks() as callbacks:
        response = _act(admin_client, "send_now", [due, sent])
        # Nothing is handed to a worker until the status change commits.
        assert sent_chunks == []
    for callback in callbacks:
        callback()

    due.refresh_from_db()
    sent.refresh_from_db()
    assert response.status_code == 302
    assert due.status == MessageStatus.QUEUED
    assert due.send_at <= timezone.now()
    assert sent.status == MessageStatus.SENT
    assert sent_chunks == [[due.pk]]
    assert due.events.get().actor == admin_user
    assert _notices(response) == [
        "Sent now: 1 message.",
        "Refused: 1 message: only a scheduled message can be sent now (this one is sent) (1).",
    ]


def test_cancel_cancels_pending_and_reports_the_refused(admin_client, shop, sent_chunks):
    scheduled = _scheduled(OrderFactory(shop=shop))
    in_queue = queued(OrderFactory(shop=shop))
    delivered = _with_status(_scheduled(OrderFactory(shop=shop)), MessageStatus.DELIVERED)

    response = _act(admin_client, "cancel", [scheduled, in_queue, delivered])

    statuses = dict(Message.objects.values_list("pk", "status"))
    assert statuses == {
        scheduled.pk: MessageStatus.CANCELLED,
        in_queue.pk: MessageStatus.CANCELLED,
        delivered.pk: MessageStatus.DELIVERED,
    }
    assert sent_chunks == []
    assert _notices(response) == [
        "Cancelled: 2 messages.",
        "Refused: 1 message: Message cannot go from 'delivered' to 'cancelled' (1).",
    ]


def test_retry_requeues_failed_after_commit_and_reports_the_refused(
    admin_client, admin_user, shop, sent_chunks, django_capture_on_commit_callbacks
):
    failed = _with_status(_scheduled(OrderFactory(shop=shop)), MessageStatus.FAILED)
    also_failed = _with_status(_scheduled(OrderFactory(shop=shop)), MessageStatus.FAILED)
    sent = _with_status(_scheduled(OrderFactory(shop=shop)), MessageStatus.SENT)
    bounced = _with_status(_scheduled(OrderFactory(shop=shop)), MessageStatus.BOUNCED)
    scheduled = _scheduled(OrderFactory(shop=shop))

    with django_capture_on_commit_callbacks(execute=True):
        response = _act(admin_client, "retry", [failed, also_failed, sent, bounced, scheduled])

    statuses = dict(Message.objects.values_list("pk", "status"))
    assert statuses == {
        failed.pk: MessageStatus.QUEUED,
        also_failed.pk: MessageStatus.QUEUED,
        sent.pk: MessageStatus.SENT,
        bounced.pk: MessageStatus.BOUNCED,
        scheduled.pk: MessageStatus.SCHEDULED,  # a retry never sends one before its time
    }
    assert sorted(pk for chunk in sent_chunks for pk in chunk) == sorted(
        [failed.pk, also_failed.pk]
    )
    assert MessageEvent.objects.filter(actor=admin_user, to_status="queued").count() == 2
    assert _notices(response) == [
        "Queued again: 2 messages.",
        "Refused: 3 messages: only a failed or held message can be retried (this one is "
        "bounced) (1); only a failed or held message can be retried (this one is scheduled) (1); "
        "only a failed or held message can be retried (this one is sent) (1).",
    ]


def _staff_client(client: Client, *codenames: str, shop=None, role: str = "manager") -> Client:
    """An admin user who is not a superuser: the model permissions `codenames`, and, with
    `shop`, that role in it (actions on messages follow the staff policy in admin too)."""
    user = User.objects.create_user("ops", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=codenames, content_type__app_label="notifications")
    )
    if shop is not None:
        StaffMembershipFactory(user=user, shop=shop, role=role)
    client.force_login(user)
    return client


def _offered_actions(client: Client) -> list[str]:
    form = client.get(reverse(CHANGELIST)).context["action_form"]
    if form is None:
        return []
    return [name for name, _ in form.fields["action"].choices if name]


def test_actions_are_refused_without_the_change_permission(client, shop, sent_chunks):
    viewer = _staff_client(client, "view_message")
    message = _scheduled(OrderFactory(shop=shop), send_at=timezone.now() + timedelta(days=1))

    offered = _offered_actions(viewer)
    response = _act(viewer, "send_now", [message])

    message.refresh_from_db()
    assert offered == []
    # The changelist is shown again rather than running an action the user may not use.
    assert response.status_code == 200
    assert message.status == MessageStatus.SCHEDULED
    assert sent_chunks == []


def test_actions_are_offered_with_the_change_permission(client, shop, sent_chunks):
    operator = _staff_client(client, "view_message", "change_message", shop=shop)
    message = _scheduled(OrderFactory(shop=shop), send_at=timezone.now() + timedelta(days=1))

    offered = _offered_actions(operator)
    response = _act(operator, "cancel", [message])

    message.refresh_from_db()
    assert offered == ["send_now", "cancel", "retry", "settle"]
    assert response.status_code == 302
    assert message.status == MessageStatus.CANCELLED


def test_flow_change_form_saves(admin_client, outbox):
    response = admin_client.post(
        _url(Flow, "change", outbox.flow.pk),
        {
            "kind": "review_request",
            "trigger": OrderEventName.ORDER_DELIVERED,
            "delay": "3 00:00:00",
            "channels": '["sms", "email"]',
            "purpose": Purpose.MARKETING,
            "useful_for": "2 00:00:00",
            # is_enabled left out: an unticked checkbox
        },
    )

    outbox.flow.refresh_from_db()
    assert response.status_code == 302
    assert outbox.flow.delay == timedelta(days=3)
    assert outbox.flow.channels == ["sms", "email"]
    assert outbox.flow.useful_for == timedelta(days=2)
    assert outbox.flow.is_enabled is False
    assert outbox.flow.shop == outbox.order.shop


def test_flow_change_form_rejects_an_unknown_channel(admin_client, outbox):
    response = admin_client.post(
        _url(Flow, "change", outbox.flow.pk),
        {
            "kind": "review_request",
            "trigger": OrderEventName.ORDER_DELIVERED,
            "delay": "7 00:00:00",
            "channels": '["emial"]',
            "purpose": Purpose.MARKETING,
            "is_enabled": "on",
        },
    )

    outbox.flow.refresh_from_db()
    assert response.status_code == 200
    assert "channels" in response.context["adminform"].form.errors
    assert outbox.flow.channels == ["email"]


@pytest.mark.parametrize(
    "model", [Suppression, ProviderEvent, InboundMessage], ids=lambda m: m.__name__
)
def test_delivery_feedback_changelists_list_their_rows(admin_client, outbox, model):
    shop = outbox.order.shop
    Suppression.objects.create(shop=shop, channel="sms", address="+14155550123", reason="stop")
    ProviderEvent.objects.create(
        provider="twilio", event_key="SM1:delivered", kind="status", message=outbox.message
    )
    InboundMessage.objects.create(
        shop=shop, channel="sms", sender="+14155550123", body="STOP", provider_message_id="SM2"
    )

    response = admin_client.get(_url(model, "changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_staff_can_add_an_address_to_the_suppression_list(admin_client, outbox):
    response = admin_client.post(
        _url(Suppression, "add"),
        {
            "shop": outbox.order.shop.pk,
            "channel": "email",
            "address": "complainer@example.org",
            "reason": "manual",
            "source": "support ticket",
            "detail": "",
        },
    )

    assert response.status_code == 302
    assert Suppression.objects.get().address == "complainer@example.org"


def test_opt_outs_of_shared_numbers_are_listed_and_read_only(admin_client):
    opt_out = NumberOptOut.objects.create(
        our_number="+15005550006", phone="+14155550123", channel="sms"
    )

    listed = admin_client.get(_url(NumberOptOut, "changelist"))
    edit = admin_client.post(_url(NumberOptOut, "change", opt_out.pk), {"phone": "+1"})
    delete = admin_client.post(_url(NumberOptOut, "delete", opt_out.pk), {"post": "yes"})

    assert listed.status_code == 200
    assert b"+14155550123" in listed.content
    assert (edit.status_code, delete.status_code) == (403, 403)
    assert NumberOptOut.objects.get().phone == "+14155550123"
