"""Delay detection: a parcel that went quiet or missed its date gets one apology."""

from datetime import UTC, date, datetime, timedelta

import pytest

from notifications.engine.kinds import flows_ensure_defaults
from notifications.flows.delays import shipments_delayed_schedule
from notifications.models import Flow, Message, MessageStatus, Purpose
from notifications.services import message_render, messages_cancel
from notifications.tasks import shipments_delayed_schedule_task
from orders.models import OrderStatus
from tests.factories import OrderFactory, ShipmentFactory, ShopFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 08:00 in New York, 01:00 on the 11th in Auckland


def parcel(shop=None, *, silent_days: float = 1, **fields):
    order = OrderFactory(shop=shop or ShopFactory(timezone="America/New_York"))
    fields.setdefault("status", "in_transit")
    fields.setdefault("last_event_at", NOW - timedelta(days=silent_days))
    fields.setdefault("shipped_at", NOW - timedelta(days=6))
    return ShipmentFactory(order=order, carrier="UPS", **fields)


def test_a_parcel_without_a_scan_for_three_days_gets_an_apology():
    quiet = parcel(silent_days=3.5)
    parcel(silent_days=2.5)

    (message,) = shipments_delayed_schedule(now=NOW)

    assert (message.about_type, message.about_id) == ("shipment", quiet.pk)
    assert message.kind == "shipment_delayed"
    assert message.purpose == Purpose.TRANSACTIONAL
    assert message.send_at == NOW
    assert message.context["delay_reason"] == "no_scan"
    assert message.context["tracking_number"] == quiet.tracking_number
    text = message_render(kind="shipment_delayed", channel="email", context=message.context)
    assert "has not updated the tracking" in text.body_text
    assert "What happens next" in text.body_text
    assert "https://shop.test/track/" in text.body_html


def test_a_parcel_never_scanned_counts_from_when_it_shipped():
    never = parcel(last_event_at=None, status="label_created")
    parcel(last_event_at=None, status="pending", shipped_at=NOW - timedelta(days=1))

    (message,) = shipments_delayed_schedule(now=NOW)

    assert message.about_id == never.pk


def test_how_long_is_too_quiet_is_a_setting(settings):
    settings.NOTIFICATIONS_SHIPMENT_SILENT_DAYS = 5
    parcel(silent_days=4)
    late = parcel(silent_days=5.5)

    assert [m.about_id for m in shipments_delayed_schedule(now=NOW)] == [late.pk]


def test_past_the_estimated_date_in_the_shops_zone():
    new_york = ShopFactory(timezone="America/New_York")
    auckland = ShopFactory(timezone="Pacific/Auckland")
    yesterday_ny = parcel(new_york, estimated_delivery_date=date(2026, 3, 9))
    parcel(new_york, estimated_delivery_date=date(2026, 3, 10))  # still today in New York
    today_utc_but_over_in_auckland = parcel(auckland, estimated_delivery_date=date(2026, 3, 10))

    messages = shipments_delayed_schedule(now=NOW)

    assert sorted(m.about_id for m in messages) == sorted(
        [yesterday_ny.pk, today_utc_but_over_in_auckland.pk]
    )
    assert {m.context["delay_reason"] for m in messages} == {"past_estimate"}
    text = message_render(kind="shipment_delayed", channel="sms", context=messages[0].context)
    assert "running late" in text.body_text


@pytest.mark.parametrize("status", ["delivered", "exception", "returned_to_sender"])
def test_parcels_that_arrived_or_already_have_their_own_message_are_left_alone(status):
    parcel(silent_days=10, status=status, estimated_delivery_date=date(2026, 3, 1))

    assert shipments_delayed_schedule(now=NOW) == []


def test_a_cancelled_orders_parcel_is_left_alone():
    quiet = parcel(silent_days=10)
    quiet.order.status = OrderStatus.CANCELLED
    quiet.order.save()

    assert shipments_delayed_schedule(now=NOW) == []


def test_once_per_parcel_even_after_its_message_was_cancelled():
    parcel(silent_days=4)
    (message,) = shipments_delayed_schedule(now=NOW)
    messages_cancel(reason="staff", about=("shipment", message.about_id))

    assert shipments_delayed_schedule(now=NOW + timedelta(hours=1)) == []
    assert shipments_delayed_schedule(now=NOW + timedelta(days=3)) == []
    assert Message.objects.get().status == MessageStatus.CANCELLED


def test_a_disabled_flow_schedules_nothing():
    quiet = parcel(silent_days=4)
    flows_ensure_defaults(shop_id=quiet.shop_id)
    Flow.objects.filter(shop_id=quiet.shop_id, kind="shipment_delayed").update(is_enabled=False)

    assert shipments_delayed_schedule(now=NOW) == []


def test_the_hourly_task_returns_how_many_it_scheduled():
    ShipmentFactory(status="in_transit", last_event_at=datetime(2020, 1, 1, tzinfo=UTC))

    assert shipments_delayed_schedule_task() == 1
    assert shipments_delayed_schedule_task() == 0
