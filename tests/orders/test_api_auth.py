"""Who may call the REST API, and that a key sees its own shop's data only."""

import pytest
from rest_framework.test import APIClient

from orders.models import Order
from orders.services.api_keys import api_key_create, api_key_revoke
from tests.factories import (
    CustomerFactory,
    LineItemFactory,
    OrderFactory,
    OrderPayloadFactory,
    ShipmentFactory,
    ShopFactory,
)

pytestmark = pytest.mark.django_db


def _client(raw_key: str | None = None) -> APIClient:
    client = APIClient()
    if raw_key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@pytest.fixture
def api(shop):
    _, raw = api_key_create(shop=shop, name="Storefront")
    return _client(raw)


def test_request_without_key_is_401_with_bearer_challenge():
    response = _client().get("/api/v1/orders/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"] == "unauthorized"


def test_wrong_key_is_401(shop):
    api_key_create(shop=shop, name="Storefront")

    response = _client("pp_live_00000000_not-the-secret").get("/api/v1/orders/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == {"error": "unauthorized", "detail": "Invalid or revoked API key."}


def test_revoked_key_is_401(shop):
    key, raw = api_key_create(shop=shop, name="Storefront")
    assert _client(raw).get("/api/v1/orders/").status_code == 200
    api_key_revoke(key=key)

    response = _client(raw).get("/api/v1/orders/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_key_of_deactivated_shop_is_401(shop):
    _, raw = api_key_create(shop=shop, name="Storefront")
    shop.is_active = False
    shop.save(update_fields=["is_active"])

    assert _client(raw).get("/api/v1/orders/").status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer two parts", "Basic dXNlcjpwYXNz"])
def test_malformed_authorization_header_is_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/orders/")

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_no_key_changes_nothing():
    response = _client().post("/api/v1/orders/", OrderPayloadFactory(), format="json")

    assert response.status_code == 401
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/orders/{order}/"),
        ("patch", "/api/v1/orders/{order}/"),
        ("post", "/api/v1/orders/{order}/cancel/"),
        ("post", "/api/v1/orders/{order}/shipments/"),
        ("get", "/api/v1/shipments/{shipment}/"),
        ("post", "/api/v1/shipments/{shipment}/tracking-events/"),
        ("get", "/api/v1/customers/{customer}/"),
    ],
)
def test_another_shops_objects_are_404(api, method, path):
    theirs = ShopFactory()
    order = OrderFactory(shop=theirs)
    LineItemFactory(order=order)
    shipment = ShipmentFactory(order=order)
    url = path.format(order=order.pk, shipment=shipment.pk, customer=order.customer_id)
    body = {"status": "in_transit", "occurred_at": "2025-03-02T10:00:00Z", "total": "1.00"}

    response = getattr(api, method)(url, body, format="json")

    assert response.status_code == 404
    assert response.json()["error"] == "not found"
    order.refresh_from_db()
    assert order.status == "placed"
    assert order.total != 1


def test_lists_never_show_another_shops_rows(api, shop):
    mine = OrderFactory(shop=shop)
    theirs = OrderFactory(shop=ShopFactory(), external_id=mine.external_id)
    CustomerFactory(shop=theirs.shop, email=mine.customer.email)

    orders = api.get("/api/v1/orders/").json()
    by_external_id = api.get(f"/api/v1/orders/?external_id={mine.external_id}").json()
    customers = api.get(f"/api/v1/customers/?email={mine.customer.email}").json()

    assert [o["id"] for o in orders["results"]] == [mine.pk]
    assert orders["count"] == 1
    assert [o["id"] for o in by_external_id["results"]] == [mine.pk]
    assert [c["id"] for c in customers["results"]] == [mine.customer_id]


def test_same_external_id_in_two_shops_makes_two_orders(api, shop):
    other_shop = ShopFactory()
    _, other_raw = api_key_create(shop=other_shop, name="Other storefront")
    payload = OrderPayloadFactory()

    mine = api.post("/api/v1/orders/", payload, format="json")
    theirs = _client(other_raw).post("/api/v1/orders/", payload, format="json")

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    assert shop.orders.count() == 1
    assert other_shop.orders.count() == 1
