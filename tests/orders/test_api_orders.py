"""Orders through the REST API: create or update by external id, validation, lists, PATCH and
cancel."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from orders.events import OrderEventName
from orders.models import LineItem, Order, OrderEvent, OrderStatus
from orders.services.api_keys import api_key_create
from postpurchase.models import DomainEvent
from tests.conftest import event_enqueues
from tests.factories import (
    LineItemFactory,
    LineItemPayloadFactory,
    OrderFactory,
    OrderPayloadFactory,
    ShipmentFactory,
    TrackingEventFactory,
)

pytestmark = pytest.mark.django_db
ORDERS = "/api/v1/orders/"


@pytest.fixture
def api(shop):
    _, raw = api_key_create(shop=shop, name="Storefront")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_create_order_returns_201_with_the_stored_order(api, shop):
    payload = OrderPayloadFactory(phone="+44 20 7946 0958", is_paid=True)

    response = api.post(ORDERS, payload, format="json")

    assert response.status_code == 201
    body = response.json()
    order = Order.objects.get(shop=shop)
    assert body["id"] == order.pk
    assert body["external_id"] == payload["external_id"]
    assert body["source"] == "api"
    assert body["total"] == "29.95"
    assert body["financial_status"] == "paid"
    assert body["phone"] == "+442079460958"
    assert body["email"] == payload["customer"]["email"]
    assert body["shipping_address"]["postcode"] == "SW1Y 4JH"
    assert body["customer"]["external_id"] == payload["customer"]["external_id"]
    assert [li["quantity"] for li in body["line_items"]] == [2]
    assert body["line_items"][0]["unit_price"] == "12.50"
    assert body["shipments"] == []
    assert order.total == Decimal("29.95")
    assert order.customer.timezone == "Europe/London"


def test_create_publishes_order_placed(api, shop, subscribed, django_capture_on_commit_callbacks):
    subscribed(OrderEventName.ORDER_PLACED)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post(ORDERS, OrderPayloadFactory(), format="json")

    assert response.status_code == 201
    assert len(event_enqueues(callbacks)) == 1
    event = DomainEvent.objects.get(name=OrderEventName.ORDER_PLACED)
    assert event.payload["order_id"] == response.json()["id"]


def test_same_external_id_again_updates_the_order_and_returns_200(api, shop):
    payload = OrderPayloadFactory()
    first = api.post(ORDERS, payload, format="json")

    again = api.post(ORDERS, {**payload, "total": "31.00"}, format="json")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["total"] == "31.00"
    assert Order.objects.filter(shop=shop).count() == 1


def test_currency_and_country_are_accepted_in_lower_case(api):
    payload = OrderPayloadFactory(currency="eur")
    payload["shipping_address"]["country"] = "fr"

    body = api.post(ORDERS, payload, format="json").json()

    assert body["currency"] == "EUR"
    assert body["shipping_address"]["country"] == "FR"


def test_national_phone_number_is_read_in_the_shipping_country(api):
    payload = OrderPayloadFactory()
    payload["customer"]["phone"] = "07911 123456"

    body = api.post(ORDERS, payload, format="json").json()

    assert body["customer"]["phone"] == "+447911123456"


def _without(payload: dict, name: str) -> dict:
    return {key: value for key, value in payload.items() if key != name}


def _with_line(**fields) -> dict:
    return OrderPayloadFactory(line_items=[LineItemPayloadFactory(**fields)])


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (OrderPayloadFactory(total="12.345"), "total"),
        (OrderPayloadFactory(total="twelve"), "total"),
        (OrderPayloadFactory(shipping_total="-1.00"), "shipping_total"),
        (_without(OrderPayloadFactory(), "line_items"), "line_items"),
        (OrderPayloadFactory(line_items=[]), "line_items"),
        (_with_line(quantity=0), "line_items.0.quantity"),
        (_with_line(unit_price="9.999"), "line_items.0.unit_price"),
        (OrderPayloadFactory(currency="US"), "currency"),
        (OrderPayloadFactory(currency="U$D"), "currency"),
        (OrderPayloadFactory(phone="12345"), "phone"),
        (
            OrderPayloadFactory(customer={"email": "a@example.org", "phone": "call me"}),
            "customer.phone",
        ),
        (OrderPayloadFactory(customer={"timezone": "Mars/Olympus"}), "customer.timezone"),
        (OrderPayloadFactory(customer={"email": "not-an-email"}), "customer.email"),
        (_without(OrderPayloadFactory(), "placed_at"), "placed_at"),
    ],
)
def test_invalid_order_is_400_naming_the_field_and_stores_nothing(api, payload, field):
    response = api.post(ORDERS, payload, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid request"
    assert list(body["fields"]) == [field]
    assert body["fields"][field]
    assert not Order.objects.exists()


def test_each_bad_line_item_is_named_by_its_position(api):
    payload = OrderPayloadFactory(
        line_items=[
            LineItemPayloadFactory(),
            LineItemPayloadFactory(quantity=0),
            LineItemPayloadFactory(),
            LineItemPayloadFactory(unit_price="-2.00"),
        ]
    )

    body = api.post(ORDERS, payload, format="json").json()

    assert set(body["fields"]) == {"line_items.1.quantity", "line_items.3.unit_price"}


def test_line_item_external_id_twice_is_400(api):
    lines = [LineItemPayloadFactory(external_id="dup"), LineItemPayloadFactory(external_id="dup")]

    body = api.post(ORDERS, OrderPayloadFactory(line_items=lines), format="json").json()

    assert list(body["fields"]) == ["line_items.1.external_id"]
    assert not Order.objects.exists()


def test_malformed_json_is_400_in_the_documented_invalid_request_shape(api):
    response = api.generic("POST", ORDERS, "{not json", content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid request"
    assert body["fields"]["non_field_errors"][0].startswith("JSON parse error")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"external_id": 5001}, "external_id", "Expected a string."),
        ({"is_paid": "yes"}, "is_paid", "Expected true or false."),
        ({"is_paid": 1}, "is_paid", "Expected true or false."),
        ({"total": " 1e2 "}, "total", "A valid number is required."),
        ({"total": "+5"}, "total", "A valid number is required."),
        ({"total": ["5"]}, "total", "Expected a number or a decimal string."),
    ],
)
def test_values_of_another_json_type_than_documented_are_refused(api, change, field, message):
    response = api.post(ORDERS, {**OrderPayloadFactory(), **change}, format="json")

    assert response.status_code == 400
    assert response.json()["fields"] == {field: [message]}
    assert not Order.objects.exists()


def test_nested_values_are_read_with_their_documented_types_too(api):
    payload = OrderPayloadFactory(line_items=[LineItemPayloadFactory(quantity="2")])

    response = api.post(ORDERS, payload, format="json")

    assert response.status_code == 400
    assert response.json()["fields"] == {"line_items.0.quantity": ["Expected an integer."]}


def test_the_payment_state_is_kept_as_given_and_each_change_is_on_the_timeline(api, shop):
    payload = OrderPayloadFactory(financial_status="authorized")
    created = api.post(ORDERS, payload, format="json").json()
    url = f"{ORDERS}{created['id']}/"

    refunded = api.patch(url, {"financial_status": "partially_refunded"}, format="json").json()
    untouched = api.patch(url, {"total": "31.00"}, format="json").json()

    assert created["financial_status"] == "authorized"
    assert created["paid_at"] is None
    assert refunded["financial_status"] == "partially_refunded"
    assert refunded["paid_at"] is not None
    assert untouched["financial_status"] == "partially_refunded"
    order = Order.objects.get(shop=shop)
    kinds = [OrderEvent.Kind.PAID, OrderEvent.Kind.PAYMENT_STATUS]
    changes = order.events.filter(kind__in=kinds).order_by("pk")
    assert list(changes.values_list("kind", "from_status", "to_status")) == [
        ("payment_status", "pending", "authorized"),
        ("paid", "authorized", "paid"),
        ("payment_status", "paid", "partially_refunded"),
    ]


def test_money_may_be_a_json_number(api):
    response = api.post(ORDERS, OrderPayloadFactory(total=31.5), format="json")

    assert response.status_code == 201
    assert response.json()["total"] == "31.50"


@pytest.mark.parametrize("query", ["page_size=abc", "page_size=0", "page=", "page=last"])
def test_a_malformed_page_or_page_size_is_400(api, query):
    response = api.get(f"{ORDERS}?{query}")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [query.split("=")[0]]


def test_an_empty_updated_since_filters_nothing(api, shop):
    OrderFactory(shop=shop)

    response = api.get(f"{ORDERS}?updated_since=")

    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/nothing-here/"),
        ("get", "/api/v1/orders/0.5/"),
        ("post", "/api/v1/orders/0.5/cancel/"),
        ("patch", "/api/v1/shipments/x.y/"),
    ],
)
def test_a_url_naming_no_endpoint_is_a_json_404(api, method, path):
    response = getattr(api, method)(path, {}, format="json")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "not found", "detail": "No such API endpoint."}


def test_list_paginates_with_count_next_and_previous(api, shop):
    for days in range(5):
        OrderFactory(shop=shop, placed_at=timezone.now() - timedelta(days=days))

    first = api.get(ORDERS, {"page_size": 2}).json()
    last = api.get(ORDERS, {"page_size": 2, "page": 3}).json()

    assert first["count"] == 5
    assert len(first["results"]) == 2
    assert first["previous"] is None
    assert "page=2" in first["next"]
    assert len(last["results"]) == 1
    assert last["next"] is None
    assert "page=2" in last["previous"]
    newest_first = [o["placed_at"] for o in first["results"]]
    assert newest_first == sorted(newest_first, reverse=True)


def test_page_size_is_capped_at_200(api, shop):
    OrderFactory.create_batch(201, shop=shop, customer=None, email="")

    body = api.get(ORDERS, {"page_size": 1000}).json()

    assert body["count"] == 201
    assert len(body["results"]) == 200


def test_page_past_the_end_is_404(api, shop):
    OrderFactory(shop=shop)

    assert api.get(ORDERS, {"page": 9}).status_code == 404


def test_list_filters_by_external_id_status_and_updated_since(api, shop):
    placed = OrderFactory(shop=shop)
    cancelled = OrderFactory(shop=shop, status=OrderStatus.CANCELLED)
    Order.objects.filter(pk=placed.pk).update(updated_at=timezone.now() - timedelta(days=2))

    def ids(**params):
        return [o["id"] for o in api.get(ORDERS, params).json()["results"]]

    assert ids(external_id=placed.external_id) == [placed.pk]
    assert sorted(ids(external_id="", status="")) == sorted([placed.pk, cancelled.pk])
    assert ids(status="cancelled") == [cancelled.pk]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(updated_since=since) == [cancelled.pk]


def test_bad_filter_is_400_naming_it(api):
    response = api.get(ORDERS, {"status": "lost", "updated_since": "yesterday"})

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"status", "updated_since"}


def test_list_query_count_does_not_grow_with_orders(api, shop, django_assert_max_num_queries):
    OrderFactory.create_batch(3, shop=shop)
    api.get(ORDERS)  # the key's last-used time is written on first use only
    OrderFactory.create_batch(20, shop=shop)

    with django_assert_max_num_queries(3):
        response = api.get(ORDERS)

    assert len(response.json()["results"]) == 23


def test_detail_has_line_items_shipments_and_tracking_events(api, shop):
    order = OrderFactory(shop=shop)
    line = LineItemFactory(order=order, quantity=3)
    shipment = ShipmentFactory(order=order)
    scan = TrackingEventFactory(shipment=shipment, status="in_transit", location="Leeds")

    body = api.get(f"{ORDERS}{order.pk}/").json()

    assert body["external_id"] == order.external_id
    assert [(li["id"], li["quantity"]) for li in body["line_items"]] == [(line.pk, 3)]
    assert [s["id"] for s in body["shipments"]] == [shipment.pk]
    events = body["shipments"][0]["tracking_events"]
    assert [(e["id"], e["location"]) for e in events] == [(scan.pk, "Leeds")]


@pytest.mark.parametrize("order_id", ["999999", "abc"])
def test_unknown_order_is_404(api, order_id):
    response = api.get(f"{ORDERS}{order_id}/")

    assert response.status_code == 404
    assert response.json()["error"] == "not found"


def test_put_and_delete_are_not_allowed(api, shop):
    order = OrderFactory(shop=shop)

    assert api.put(f"{ORDERS}{order.pk}/", {}, format="json").status_code == 405
    assert api.delete(f"{ORDERS}{order.pk}/").status_code == 405
    assert Order.objects.filter(pk=order.pk).exists()


@pytest.fixture
def created(api):
    """An order created through the API; its response body."""
    payload = OrderPayloadFactory(
        line_items=[
            LineItemPayloadFactory(external_id="tea", quantity=2),
            LineItemPayloadFactory(external_id="pot", quantity=1, unit_price="30.00"),
        ]
    )
    return api.post(ORDERS, payload, format="json").json()


def test_patch_changes_the_fields_given_and_keeps_the_rest(api, created):
    url = f"{ORDERS}{created['id']}/"

    response = api.patch(
        url, {"total": "35.00", "shipping_address": {"city": "Bath"}}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == "35.00"
    assert body["shipping_address"]["city"] == "Bath"
    assert body["shipping_address"]["postcode"] == created["shipping_address"]["postcode"]
    assert body["number"] == created["number"]
    assert body["customer"]["id"] == created["customer"]["id"]
    assert [li["quantity"] for li in body["line_items"]] == [2, 1]
    assert Order.objects.get().shipping_city == "Bath"


def test_patch_merges_line_items_by_external_id(api, created):
    url = f"{ORDERS}{created['id']}/"
    new_line = {"external_id": "cups", "title": "Cups", "quantity": 4, "unit_price": "3.00"}

    body = api.patch(
        url, {"line_items": [{"external_id": "tea", "quantity": 5}, new_line]}, format="json"
    ).json()

    quantities = {li["external_id"]: li["quantity"] for li in body["line_items"]}
    assert quantities == {"tea": 5, "pot": 1, "cups": 4}
    assert LineItem.objects.get(external_id="tea").title == "Earl Grey, 100 g"


def test_patch_with_incomplete_new_line_item_is_400(api, created):
    url = f"{ORDERS}{created['id']}/"

    response = api.patch(url, {"line_items": [{"external_id": "cups"}]}, format="json")

    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {
        "line_items.0.title",
        "line_items.0.quantity",
        "line_items.0.unit_price",
    }
    assert LineItem.objects.count() == 2


def test_patch_validates_what_it_is_given(api, created):
    url = f"{ORDERS}{created['id']}/"

    response = api.patch(url, {"total": "1.001", "currency": "EURO"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"total", "currency"}
    assert Order.objects.get().total == Decimal("29.95")


def test_patch_cannot_change_the_external_id(api, created):
    response = api.patch(f"{ORDERS}{created['id']}/", {"external_id": "other"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["external_id"]


def test_patch_customer_updates_the_customer_of_the_order(api, created):
    url = f"{ORDERS}{created['id']}/"

    body = api.patch(url, {"customer": {"first_name": "Augusta"}}, format="json").json()

    assert body["customer"]["id"] == created["customer"]["id"]
    assert body["customer"]["first_name"] == "Augusta"
    assert body["customer"]["email"] == created["customer"]["email"]


def test_cancel_placed_order(api, shop, created):
    response = api.post(
        f"{ORDERS}{created['id']}/cancel/", {"reason": "customer changed mind"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "customer changed mind"
    order = Order.objects.get()
    assert order.status == OrderStatus.CANCELLED
    assert DomainEvent.objects.filter(name=OrderEventName.ORDER_CANCELLED).count() == 1


def test_cancel_shipped_order_is_422_with_the_reason(api, shop, created):
    shipped = api.post(
        f"{ORDERS}{created['id']}/shipments/", {"tracking_number": "1Z999"}, format="json"
    )
    assert shipped.status_code == 201

    response = api.post(f"{ORDERS}{created['id']}/cancel/", {}, format="json")

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "illegal transition"
    assert "'shipped' to 'cancelled'" in body["detail"]
    assert Order.objects.get().status == OrderStatus.SHIPPED
    assert not DomainEvent.objects.filter(name=OrderEventName.ORDER_CANCELLED).exists()


def test_an_order_with_only_an_email_gets_the_customer_of_that_email(api, shop):
    known = OrderFactory(shop=shop).customer
    known.email = "known@example.org"
    known.save(update_fields=["email"])
    payload = OrderPayloadFactory(email="new@example.org")
    del payload["customer"]
    again = OrderPayloadFactory(email="KNOWN@example.org")
    del again["customer"]

    first = api.post(ORDERS, payload, format="json")
    second = api.post(ORDERS, again, format="json")

    assert first.status_code == 201
    assert first.json()["customer"]["email"] == "new@example.org"
    created = Order.objects.get(pk=first.json()["id"]).customer
    assert (created.shop, created.email) == (shop, "new@example.org")
    assert second.status_code == 201
    assert second.json()["customer"]["id"] == known.pk
