"""The order's own message kinds: planned from orders' events in the kernel's terms."""

import pytest
from django.utils import timezone

from postpurchase.events import Event
from postpurchase.message_kinds import PlanRequest, message_kind
from tests.factories import LineItemFactory, OrderFactory, ShipmentFactory

pytestmark = pytest.mark.django_db


def request_for(kind: str, order, *, is_backfill: bool = False, **payload) -> PlanRequest:
    event = Event(
        id=1,
        name=message_kind(kind).trigger,
        shop_id=order.shop_id,
        payload={"order_id": order.pk, **payload},
    )
    return PlanRequest(
        kind=kind,
        event=event,
        order=order,
        delay=message_kind(kind).delay,
        now=timezone.now(),
        is_backfill=is_backfill,
    )


def test_the_confirmation_is_about_the_order_and_suggests_what_goes_with_it():
    order = OrderFactory()
    LineItemFactory(order=order, title="Green tea")

    (plan,) = message_kind("order_confirmation").planner(request_for("order_confirmation", order))

    assert plan.about == ("order", order.pk)
    assert plan.context["items"][0]["title"] == "Green tea"
    assert plan.context["recommendations"] == []


def test_a_backfilled_confirmation_looks_up_no_recommendations(django_assert_num_queries):
    order = OrderFactory()
    request = request_for("order_confirmation", order, is_backfill=True)

    with django_assert_num_queries(1):  # the order's lines; no bought-together lookup
        (plan,) = message_kind("order_confirmation").planner(request)

    assert "recommendations" not in plan.context


def test_a_parcel_update_is_about_the_parcel_the_event_names():
    shipment = ShipmentFactory(carrier="UPS")
    request = request_for(
        "shipment_delivered",
        shipment.order,
        shipment_id=shipment.pk,
        from_status="in_transit",
        to_status="delivered",
    )

    (plan,) = message_kind("shipment_delivered").planner(request)

    assert plan.about == ("shipment", shipment.pk)
    assert plan.context["carrier"] == "UPS"
    assert plan.due == request.now


def test_a_parcel_of_another_order_is_refused():
    shipment = ShipmentFactory()
    other = OrderFactory(shop=shipment.shop)
    request = request_for("shipment_shipped", other, shipment_id=shipment.pk)

    with pytest.raises(type(shipment).DoesNotExist):
        message_kind("shipment_shipped").planner(request)
