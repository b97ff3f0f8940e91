"""The OpenAPI document and the interactive docs page: public, valid, and self-hosted."""

from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

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

    assert len(posts) == 4
    for path, operation in posts:
        headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert headers == ["Idempotency-Key"], path


def test_list_endpoints_document_filters_and_pagination(schema):
    params = {p["name"] for p in schema["paths"]["/api/v1/orders/"]["get"]["parameters"]}

    assert {"external_id", "status", "updated_since", "page", "page_size"} <= params
    assert "PaginatedOrderList" in schema["components"]["schemas"]


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
