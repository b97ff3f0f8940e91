from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.events import OrderEventName
from orders.models import Order, OrderStatus
from orders.services import order_ingest, shipment_ingest
from orders.services.data import (
    CustomerData,
    LineItemData,
    OrderData,
    ShipmentData,
    ShipmentItemData,
    TrackingEventData,
)
from postpurchase.events import domain_event_deliver
from postpurchase.models import DomainEvent
from tests.conftest import event_enqueues

pytestmark = pytest.mark.django_db

PLACED_AT = timezone.now() - timedelta(days=1)


def an_order(**overrides) -> OrderData:
    values = {
        "external_id": "1",
        "number": "#1001",
        "placed_at": PLACED_AT,
        "currency": "USD",
        "total": Decimal("10.00"),
        "line_items": (
            LineItemData(external_id="11", title="Tea", quantity=2, unit_price=Decimal("5")),
        ),
        "source": "api",
        "customer": CustomerData(email="a@example.org"),
    }
    values.update(overrides)
    return OrderData(**values)


def delivered_scan(at=None) -> TrackingEventData:
    return TrackingEventData(status="delivered", occurred_at=at or timezone.now())


def test_order_then_shipment_then_delivery(shop, subscribed, django_capture_on_commit_callbacks):
    got = subscribed(*OrderEventName.values)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = order_ingest(shop=shop, data=an_order())
        again = order_ingest(shop=shop, data=an_order())
        shipment_ingest(
            order=result.order,
            data=ShipmentData(external_id="s1", tracking_number="T1", events=(delivered_scan(),)),
        )
    assert result.created
    assert not again.changed
    assert Order.objects.get().status == OrderStatus.DELIVERED
    assert (
        len(event_enqueues(callbacks)) == 4
    )  # one per event with a subscriber, none for the repeat
    for event in DomainEvent.objects.order_by("pk"):
        domain_event_deliver(event_id=event.pk)
    assert [e.name for e in got] == [
        "order_placed",
        "shipment_created",
        "shipment_status_changed",
        "order_delivered",
    ]


def test_order_is_delivered_only_when_every_item_has_shipped_and_arrived(shop):
    order = order_ingest(
        shop=shop,
        data=an_order(
            line_items=(
                LineItemData(external_id="a", title="Mug", quantity=1, unit_price=Decimal("5")),
                LineItemData(external_id="b", title="Tea", quantity=2, unit_price=Decimal("2.5")),
            )
        ),
    ).order
    first = ShipmentData(
        external_id="s1", items=(ShipmentItemData("a", 1),), events=(delivered_scan(),)
    )
    shipment_ingest(order=order, data=first)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED  # the tea has not left yet

    second = ShipmentData(external_id="s2", items=(ShipmentItemData("b", 2),))
    shipment_ingest(order=order, data=second)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED  # the second parcel is still on its way

    shipment_ingest(order=order, data=ShipmentData(external_id="s2", events=(delivered_scan(),)))
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert DomainEvent.objects.filter(name=OrderEventName.ORDER_DELIVERED).count() == 1


def test_late_scan_is_kept_but_does_not_move_the_shipment_back(shop):
    order = order_ingest(shop=shop, data=an_order()).order
    now = timezone.now()
    shipment = shipment_ingest(
        order=order, data=ShipmentData(external_id="s1", events=(delivered_scan(now),))
    )
    late = TrackingEventData(status="in_transit", occurred_at=now - timedelta(hours=5))

    shipment_ingest(order=order, data=ShipmentData(external_id="s1", events=(late,)))

    shipment.refresh_from_db()
    assert shipment.status == "delivered"
    assert shipment.events.count() == 2


def test_older_update_than_the_applied_one_is_ignored(shop):
    now = timezone.now()
    order_ingest(shop=shop, data=an_order(number="#1001", source_updated_at=now))

    result = order_ingest(
        shop=shop, data=an_order(number="#OLD", source_updated_at=now - timedelta(minutes=1))
    )

    assert not result.changed
    assert Order.objects.get().number == "#1001"


def test_a_cancelled_order_cannot_ship(shop):
    from postpurchase.exceptions import DomainError

    order = order_ingest(shop=shop, data=an_order(cancelled_at=timezone.now())).order
    assert order.status == OrderStatus.CANCELLED

    with pytest.raises(DomainError, match="cancelled"):
        shipment_ingest(order=order, data=ShipmentData(external_id="s1"))
