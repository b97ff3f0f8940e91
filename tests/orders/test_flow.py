from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import EventName, Order, OrderStatus
from orders.services import order_ingest, shipment_ingest
from orders.services.data import (
    CustomerData,
    LineItemData,
    OrderData,
    ShipmentData,
    TrackingEventData,
)

pytestmark = pytest.mark.django_db


def test_order_then_shipment_then_delivery(shop, subscribed, django_capture_on_commit_callbacks):
    got = subscribed(*EventName.values)
    data = OrderData(
        external_id="1",
        number="#1001",
        placed_at=timezone.now() - timedelta(days=1),
        currency="USD",
        total=Decimal("10.00"),
        line_items=(
            LineItemData(external_id="11", title="Tea", quantity=2, unit_price=Decimal("5")),
        ),
        source="api",
        customer=CustomerData(email="a@example.org"),
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = order_ingest(shop=shop, data=data)
        again = order_ingest(shop=shop, data=data)
        shipment_ingest(
            order=result.order,
            data=ShipmentData(
                external_id="s1",
                tracking_number="T1",
                events=(TrackingEventData(status="delivered", occurred_at=timezone.now()),),
            ),
        )
    assert result.created
    assert not again.changed
    assert Order.objects.get().status == OrderStatus.DELIVERED
    assert len(callbacks) == 4  # one per event with a subscriber, none for the repeat
    from orders.events import domain_event_deliver
    from orders.models import DomainEvent

    for event in DomainEvent.objects.order_by("pk"):
        domain_event_deliver(event_id=event.pk)
    assert [e.name for e in got] == [
        "order_placed",
        "shipment_created",
        "shipment_status_changed",
        "order_delivered",
    ]
