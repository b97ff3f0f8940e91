"""The demo's history lies in the past, each object's steps in order and spread out as real
ones would be: no return filed tomorrow, no history stamped all in one minute."""

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.db import models

from notifications.models import Message, MessageEvent, MessageStatus
from orders.models import Order, Shipment, TrackingEvent
from returns.models import ReturnEvent, ReturnRequest, StoreCreditEntry

pytestmark = pytest.mark.django_db
_APPS = ("orders", "notifications", "returns", "feedback", "loyalty")
# Loyalty's dates that may lie ahead, by design, and the rows of which they must not: when
# points confirm (past once confirmed), until when a code can be used (past once expired), and
# when a lot expires (any lot: a spent one keeps its date).
_LOYALTY_AHEAD = {
    ("OrderEarning", "confirm_at"): {"status": "confirmed"},
    ("PointLot", "expires_at"): {"pk__in": []},
    ("Redemption", "ends_at"): {"status": "expired"},
}


@pytest.fixture
def seeded_at():
    """A small demo seeded in the afternoon (the history's reference is that day's
    midnight); the moment it was seeded."""
    moment = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        call_command("seed_demo", scale=0.1, stdout=StringIO())
    return moment


def _timestamps() -> list[tuple[str, str, models.QuerySet]]:
    found = []
    for label in _APPS:
        for model in apps.get_app_config(label).get_models():
            for field in model._meta.get_fields():
                if isinstance(field, models.DateTimeField):
                    found.append((model.__name__, field.name, model.objects.all()))
    return found


def test_every_seeded_time_lies_in_the_past_and_not_all_in_one_minute(seeded_at):
    future = {}
    for model, field, rows in _timestamps():
        if model == "Message" and field == "send_at":
            rows = rows.exclude(status=MessageStatus.SCHEDULED)  # owed later, by design
        if model == "Case" and field.endswith(("_due_at", "_soon_at")):
            continue  # a case's deadlines lie ahead, by design
        if (model, field) in _LOYALTY_AHEAD:
            rows = rows.filter(**_LOYALTY_AHEAD[model, field])
        count = rows.filter(**{f"{field}__gt": seeded_at}).count()
        if count:
            future[f"{model}.{field}"] = count
    assert future == {}
    assert ReturnRequest.objects.count() > 5
    _spread_over_many_minutes()
    _scheduled_within_minutes(seeded_at)


def _scheduled_within_minutes(seeded_at: datetime) -> None:
    scheduled = Message.objects.filter(status=MessageStatus.SCHEDULED)
    assert scheduled.exists()
    assert not scheduled.filter(send_at__gt=seeded_at + timedelta(minutes=15)).exists()
    assert not scheduled.filter(created_at__gt=seeded_at).exists()


def _in_order(moments: list[datetime]) -> bool:
    return all(a <= b for a, b in itertools.pairwise(moments))


def test_each_objects_history_is_in_order(seeded_at):
    _orders_in_order()
    _returns_in_order()
    _messages_in_order()


def _orders_in_order() -> None:
    for order in Order.objects.prefetch_related("shipments__events"):
        assert order.created_at <= order.updated_at, order.number
        if order.paid_at:
            assert order.placed_at <= order.paid_at, order.number
        for shipment in order.shipments.all():
            assert order.placed_at <= shipment.shipped_at, order.number
            scans = sorted(shipment.events.all(), key=lambda e: e.pk)
            assert _in_order([e.occurred_at for e in scans]), order.number
            if scans:
                assert shipment.shipped_at <= scans[0].occurred_at + timedelta(hours=1)
            if shipment.delivered_at:
                assert shipment.delivered_at >= shipment.shipped_at, order.number
        if order.delivered_at:
            assert order.placed_at < order.delivered_at, order.number


def _returns_in_order() -> None:
    events = defaultdict(list)
    for event in ReturnEvent.objects.order_by("pk"):
        events[event.return_request_id].append(event.at)
    same_minute = 0
    for request in ReturnRequest.objects.select_related("order"):
        moments = events[request.pk]
        assert request.order.delivered_at < request.created_at, request.rma
        assert moments[0] == request.created_at, request.rma
        assert _in_order(moments), request.rma
        assert request.updated_at == moments[-1], request.rma
        if request.resolved_at:
            assert request.resolved_at == moments[-1], request.rma
        if len(moments) > 1 and moments[-1] - moments[0] < timedelta(minutes=1):
            same_minute += 1
    assert same_minute == 0
    for credit in StoreCreditEntry.objects.select_related("return_request"):
        if credit.return_request:
            assert credit.created_at >= credit.return_request.created_at


def _messages_in_order() -> None:
    events = defaultdict(list)
    for event in MessageEvent.objects.order_by("pk"):
        events[event.message_id].append(event.at)
    for message in Message.objects.exclude(status=MessageStatus.SCHEDULED):
        moments = events[message.pk]
        assert moments, message.pk
        assert message.created_at <= moments[0], message.pk
        assert _in_order(moments), message.pk
        for later in (message.delivered_at, message.opened_at, message.clicked_at):
            if later and message.sent_at:
                assert message.sent_at <= later, message.pk


def _spread_over_many_minutes() -> None:
    for model, field in (
        (Order, "created_at"),
        (Shipment, "shipped_at"),
        (TrackingEvent, "occurred_at"),
        (ReturnRequest, "created_at"),
        (ReturnEvent, "at"),
        (Message.objects.exclude(status=MessageStatus.SCHEDULED), "created_at"),
        (MessageEvent, "at"),
    ):
        rows = model if isinstance(model, models.QuerySet) else model.objects.all()
        minutes = {
            moment.replace(second=0, microsecond=0) for moment in rows.values_list(field, flat=True)
        }
        assert len(minutes) > 10, f"{rows.model.__name__}.{field}"
