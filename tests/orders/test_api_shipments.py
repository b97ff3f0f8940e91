"""Shipments, carrier scans and customers through the REST API."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from orders.events import OrderEventName
from orders.models import OrderStatus, Shipment, ShipmentStatus, TrackingEvent
from orders.services.api_keys import api_key_create
from postpurchase.events import domain_event_deliver
from postpurchase.models import DomainEvent
from tests.conftest import event_enqueues
from tests.factories import (
    ConsentFactory,
    CustomerFactory,
    LineItemFactory,
    LineItemPayloadFactory,
    OrderFactory,
    OrderPayloadFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(shop):
    _, raw = api_key_create(shop=shop, name="Storefront")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def order(api):
    """An order placed through the API with two line items; its response body."""
    payload = OrderPayloadFactory(
        line_items=[
            LineItemPayloadFactory(external_id="tea", quantity=2),
            LineItemPayloadFactory(external_id="pot", quantity=1),
        ]
    )
    return api.post("/api/v1/orders/", payload, format="json").json()


def _ship(api, order, **body):
    return api.post(f"/api/v1/orders/{order['id']}/shipments/", body, format="json")


def _scan(api, shipment_id, status, at="2025-03-03T10:00:00Z", **body):
    return api.post(
        f"/api/v1/shipments/{shipment_id}/tracking-events/",
        {"status": status, "occurred_at": at, **body},
        format="json",
    )


def test_shipment_creation_publishes_event_after_commit(
    api, order, subscribed, django_capture_on_commit_callbacks
):
    received = subscribed(OrderEventName.SHIPMENT_CREATED)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _ship(api, order, carrier="UPS", tracking_number="1Z999AA10123456784")

    assert response.status_code == 201
    assert received == []  # nothing is delivered before the transaction commits
    assert len(event_enqueues(callbacks)) == 1
    event = DomainEvent.objects.get(name=OrderEventName.SHIPMENT_CREATED)
    assert event.payload == {"order_id": order["id"], "shipment_id": response.json()["id"]}
    domain_event_deliver(event_id=event.pk)
    assert [e.payload["shipment_id"] for e in received] == [response.json()["id"]]


def test_shipment_with_items_by_line_item_id(api, order):
    tea = order["line_items"][0]["id"]

    response = _ship(
        api,
        order,
        carrier="DHL",
        tracking_number="JD014600003828",
        tracking_url="https://track.example/JD014600003828",
        estimated_delivery_date="2025-03-06",
        items=[{"line_item_id": tea, "quantity": 2}],
    )

    assert response.status_code == 201
    body = response.json()
    assert body["order_id"] == order["id"]
    assert body["items"] == [{"line_item_id": tea, "quantity": 2}]
    assert body["estimated_delivery_date"] == "2025-03-06"
    assert body["status"] == "pending"
    shipment = Shipment.objects.get()
    assert shipment.order.status == OrderStatus.SHIPPED
    assert [item.line_item_id for item in shipment.items.all()] == [tea]


def test_same_tracking_number_again_updates_the_shipment_and_returns_200(api, order):
    first = _ship(api, order, tracking_number="1Z1")

    again = _ship(api, order, tracking_number="1Z1", carrier="UPS")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["carrier"] == "UPS"
    assert Shipment.objects.count() == 1


def test_a_moved_estimate_keeps_the_first_promised_date(api, order):
    first = _ship(api, order, tracking_number="1Z2")
    _ship(api, order, tracking_number="1Z2", estimated_delivery_date="2025-03-06")

    moved = _ship(api, order, tracking_number="1Z2", estimated_delivery_date="2025-03-09")

    assert moved.json()["estimated_delivery_date"] == "2025-03-09"
    shipment = Shipment.objects.get(pk=first.json()["id"])
    assert shipment.estimated_delivery_date == date(2025, 3, 9)
    assert shipment.first_estimated_delivery_date == date(2025, 3, 6)


def test_item_of_another_order_is_400_naming_it(api, shop, order):
    elsewhere = LineItemFactory(order=OrderFactory(shop=shop))
    tea = order["line_items"][0]["id"]

    response = _ship(
        api,
        order,
        items=[
            {"line_item_id": tea, "quantity": 1},
            {"line_item_id": elsewhere.pk, "quantity": 1},
        ],
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["items.1.line_item_id"]
    assert not Shipment.objects.exists()


@pytest.mark.parametrize("quantity", [0, 3])
def test_item_quantity_must_be_positive_and_within_the_line(api, order, quantity):
    tea = order["line_items"][0]["id"]  # ordered twice

    response = _ship(api, order, items=[{"line_item_id": tea, "quantity": quantity}])

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["items.0.quantity"]
    assert not Shipment.objects.exists()


def test_shipment_of_cancelled_order_is_422(api, order):
    api.post(f"/api/v1/orders/{order['id']}/cancel/", {}, format="json")

    response = _ship(api, order, tracking_number="1Z2")

    assert response.status_code == 422
    assert response.json()["error"] == "request refused"
    assert "cancelled" in response.json()["detail"]
    assert not Shipment.objects.exists()


def test_get_shipment_shows_its_tracking_history(api, order):
    shipment = _ship(api, order, tracking_number="1Z3").json()
    _scan(api, shipment["id"], "in_transit", location="Leeds")

    body = api.get(f"/api/v1/shipments/{shipment['id']}/").json()

    assert body["status"] == "in_transit"
    assert [(e["status"], e["location"]) for e in body["tracking_events"]] == [
        ("in_transit", "Leeds")
    ]


def test_tracking_event_moves_the_shipment(api, order):
    shipment = _ship(api, order, tracking_number="1Z4").json()

    response = _scan(api, shipment["id"], "out_for_delivery", description="With the courier")

    assert response.status_code == 201
    body = response.json()
    assert body["shipment_status"] == "out_for_delivery"
    assert body["order_status"] == "shipped"
    assert body["source"] == "api"
    assert Shipment.objects.get().status == ShipmentStatus.OUT_FOR_DELIVERY


def test_order_is_delivered_when_all_its_shipments_are(api, order):
    tea, pot = (line["id"] for line in order["line_items"])
    first = _ship(api, order, tracking_number="A1", items=[{"line_item_id": tea, "quantity": 2}])
    second = _ship(api, order, tracking_number="B2", items=[{"line_item_id": pot, "quantity": 1}])

    one_delivered = _scan(api, first.json()["id"], "delivered").json()
    both_delivered = _scan(api, second.json()["id"], "delivered", at="2025-03-04T12:00:00Z")

    assert one_delivered["order_status"] == "shipped"
    assert both_delivered.json()["order_status"] == "delivered"
    detail = api.get(f"/api/v1/orders/{order['id']}/").json()
    assert detail["status"] == "delivered"
    assert detail["delivered_at"].startswith("2025-03-04T12:00:00")
    assert DomainEvent.objects.filter(name=OrderEventName.ORDER_DELIVERED).count() == 1


def test_same_scan_twice_is_recorded_once(api, order):
    shipment = _ship(api, order, tracking_number="1Z5").json()

    first = _scan(api, shipment["id"], "in_transit", external_id="scan-1")
    again = _scan(api, shipment["id"], "in_transit", external_id="scan-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert TrackingEvent.objects.count() == 1


@pytest.mark.parametrize("status", ["shipped", "Delivered", ""])
def test_tracking_status_must_be_a_normalised_value(api, order, status):
    shipment = _ship(api, order, tracking_number="1Z6").json()

    response = _scan(api, shipment["id"], status)

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["status"]
    assert not TrackingEvent.objects.exists()


def test_customer_detail_includes_consents(api, shop):
    customer = CustomerFactory(shop=shop, phone="+14155552671")
    ConsentFactory(customer=customer, channel="sms", status="granted")

    response = api.get(f"/api/v1/customers/{customer.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["external_id"] == customer.external_id
    assert body["phone"] == "+14155552671"
    assert [(c["channel"], c["status"]) for c in body["consents"]] == [("sms", "granted")]


def test_customer_list_filters_by_email_case_blind(api, shop):
    wanted = CustomerFactory(shop=shop, email="Grace@Example.org")
    CustomerFactory(shop=shop)

    body = api.get("/api/v1/customers/", {"email": "grace@example.org"}).json()

    assert body["count"] == 1
    assert [c["id"] for c in body["results"]] == [wanted.pk]


def test_consents_sent_with_an_order_are_stored(api):
    payload = OrderPayloadFactory()
    payload["customer"]["consents"] = [{"channel": "email", "is_granted": True}]
    customer_id = api.post("/api/v1/orders/", payload, format="json").json()["customer"]["id"]

    body = api.get(f"/api/v1/customers/{customer_id}/").json()

    assert [(c["channel"], c["status"], c["source"]) for c in body["consents"]] == [
        ("email", "granted", "api")
    ]
