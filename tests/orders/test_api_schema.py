"""The OpenAPI document and the interactive docs page: public, valid, and self-hosted."""

from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from orders.services.api_keys import api_key_create
from tests.factories import OrderFactory, ShipmentFactory

pytestmark = pytest.mark.django_db

EXPECTED_PATHS = {
    "/api/v1/orders/": {"get", "post"},
    "/api/v1/orders/{id}/": {"get", "patch"},
    "/api/v1/orders/{id}/cancel/": {"post"},
    "/api/v1/orders/{id}/shipments/": {"post"},
    "/api/v1/shipments/{id}/": {"get"},
    "/api/v1/shipments/{id}/tracking-events/": {"post"},
    "/api/v1/customers/": {"get"},
    "/api/v1/customers/{id}/": {"get"},
    "/api/v1/customers/{id}/loyalty/": {"get"},
    "/api/v1/customers/{id}/loyalty/adjustments/": {"post"},
}


@pytest.fixture
def schema():
    response = APIClient().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_openapi_json_is_valid_openapi_3_listing_every_endpoint(schema):
    validate_schema(schema)  # raises on any deviation from the OpenAPI 3.0 JSON schema

    assert schema["openapi"].startswith("3.")
    operations = {
        path: {method for method in item if method != "parameters"}
        for path, item in schema["paths"].items()
    }
    assert operations == EXPECTED_PATHS


def test_schema_documents_the_bearer_scheme_on_every_operation(schema):
    assert schema["components"]["securitySchemes"]["ShopApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "pp_live_<prefix>_<secret>",
        "description": "A shop API key, sent as `Authorization: Bearer <key>`.",
    }
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert operation["security"] == [{"ShopApiKey": []}], (method, path)


def test_every_post_documents_the_idempotency_key_header(schema):
    posts = [(path, item["post"]) for path, item in schema["paths"].items() if "post" in item]

    assert len(posts) == 5
    for path, operation in posts:
        headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert headers == ["Idempotency-Key"], path


def test_list_endpoints_document_filters_and_pagination(schema):
    params = {p["name"] for p in schema["paths"]["/api/v1/orders/"]["get"]["parameters"]}

    assert {"external_id", "status", "updated_since", "page", "page_size"} <= params
    assert "PaginatedOrderList" in schema["components"]["schemas"]


def test_request_bodies_say_what_validation_enforces(schema):
    order = schema["components"]["schemas"]["OrderInputRequest"]["properties"]

    assert order["external_id"]["minLength"] == 1
    assert order["line_items"]["minItems"] == 1
    money_string, money_number = order["total"]["oneOf"]
    assert money_string["pattern"] == r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
    assert money_number["type"] == "number"
    list_responses = schema["paths"]["/api/v1/orders/"]["get"]["responses"]
    assert set(list_responses) == {"200", "400", "401", "404"}


def test_schema_is_public_even_with_a_bad_key():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer pp_live_00000000_wrong")

    assert client.get("/api/v1/openapi.json").status_code == 200


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value]


def test_docs_page_loads_and_references_only_local_urls():
    client = APIClient()

    page = client.get("/api/v1/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    parser = _Links()
    parser.feed(html)
    assert len(parser.urls) >= 4
    assert "http://" not in html
    assert "https://" not in html
    for url in parser.urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url
    scripts = [url for url in parser.urls if url.startswith("/api/v1/docs/")]
    assert len(scripts) == 1
    script = client.get(scripts[0])
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert '"validatorUrl": null' in script.content.decode()
    assert "/api/v1/openapi.json" in script.content.decode()


@pytest.fixture
def api(shop):
    _, raw = api_key_create(shop=shop, name="Storefront")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.mark.parametrize("path", sorted(EXPECTED_PATHS))
def test_options_answers_the_allowed_methods_and_points_to_the_schema(api, shop, path):
    order = OrderFactory(shop=shop)
    shipment = ShipmentFactory(order=order)
    object_id = shipment.pk if path.startswith("/api/v1/shipments/") else order.pk
    if path.startswith("/api/v1/customers/"):
        object_id = order.customer_id

    response = api.options(path.replace("{id}", str(object_id)))

    assert response.status_code == 200
    allowed = {method.strip().lower() for method in response["Allow"].split(",")}
    assert EXPECTED_PATHS[path] <= allowed
    assert response.json()["schema"] == "http://testserver/api/v1/openapi.json"


def test_options_without_a_key_is_401_like_any_other_method():
    response = APIClient().options("/api/v1/orders/")

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
