"""Every (from, to) pair of each state machine: only the pairs in the table succeed."""

import itertools

import pytest

from orders.models import (
    ORDER_TRANSITIONS,
    SHIPMENT_TRANSITIONS,
    OrderEvent,
    OrderStatus,
    ShipmentStatus,
)
from orders.services import order_transition, shipment_transition
from postpurchase.exceptions import IllegalTransition
from tests.factories import OrderFactory, ShipmentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("from_status", "to_status"), list(itertools.product(OrderStatus.values, repeat=2))
)
def test_order_transition_allows_exactly_the_table(from_status, to_status):
    order = OrderFactory(status=from_status)
    allowed = to_status in ORDER_TRANSITIONS[from_status]

    if allowed:
        order_transition(order_id=order.pk, to=to_status)
        order.refresh_from_db()
        assert order.status == to_status
        event = order.events.get(kind=OrderEvent.Kind.STATUS_CHANGED)
        assert (event.from_status, event.to_status) == (from_status, to_status)
    else:
        with pytest.raises(IllegalTransition):
            order_transition(order_id=order.pk, to=to_status)
        order.refresh_from_db()
        assert order.status == from_status
        assert not order.events.exists()


@pytest.mark.parametrize(
    ("from_status", "to_status"), list(itertools.product(ShipmentStatus.values, repeat=2))
)
def test_shipment_transition_allows_exactly_the_table(from_status, to_status):
    shipment = ShipmentFactory(status=from_status, order__status=OrderStatus.SHIPPED)
    allowed = to_status in SHIPMENT_TRANSITIONS[from_status]

    if allowed:
        shipment_transition(shipment=shipment, to=to_status, publish=False)
        shipment.refresh_from_db()
        assert shipment.status == to_status
    else:
        with pytest.raises(IllegalTransition):
            shipment_transition(shipment=shipment, to=to_status, publish=False)
        shipment.refresh_from_db()
        assert shipment.status == from_status


def test_cancelling_a_shipped_order_is_refused_and_changes_nothing():
    order = OrderFactory(status=OrderStatus.SHIPPED)

    with pytest.raises(IllegalTransition, match="shipped"):
        order_transition(order_id=order.pk, to=OrderStatus.CANCELLED, note="customer asked")

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert order.cancelled_at is None
