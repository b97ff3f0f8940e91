"""The REST API answers every request as its OpenAPI document says: schemathesis generates
requests from `/api/v1/openapi.json` (valid ones and deliberately broken ones), sends them to the
WSGI app with a real shop API key, and checks each answer: never a server error, only documented
status codes and content types, bodies that match the response schemas, broken requests refused.

Each operation is one test (xdist spreads them); examples are bounded and derandomized, so a run
is the same every time and takes seconds."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from loyalty.models import Programme
from orders.services.api_keys import api_key_create
from postpurchase.wsgi import application
from tests.factories import LineItemFactory, OrderFactory, ShipmentFactory

EXAMPLES_PER_OPERATION = 25

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
# The API ignores query parameters it does not know (as HTTP APIs commonly do: links carry
# analytics parameters, proxies add cache busters), so "an unknown parameter was accepted" is no
# defect here and such requests are not generated.
schema.config.generation.update(allow_extra_parameters=False)

# `positive_data_acceptance` expects every schema-valid request to succeed. Rules no schema can
# state refuse some of them, rightly: a phone number that is no number anywhere, a time zone
# name that does not exist, a line item that is not on this order, the same line twice, a
# cancel after shipping (400 with the field, or 422). Every other check runs.
EXCLUDED_CHECKS = [positive_data_acceptance]


@pytest.fixture
def wsgi_requests_in_test_transaction():
    """Requests go through the real WSGI handler, whose request signals would close the test's
    database connection (and its transaction) after each one; Django's own test client
    disconnects them the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def shop_api(shop, wsgi_requests_in_test_transaction):
    """A shop with an API key and a loyalty programme, and an order with a line item and a
    parcel to aim at."""
    _, raw_key = api_key_create(shop=shop, name="Conformance")
    Programme.objects.create(shop=shop)
    order = OrderFactory(shop=shop)
    LineItemFactory(order=order)
    shipment = ShipmentFactory(order=order)
    return {
        "headers": {"Authorization": f"Bearer {raw_key}"},
        "ids": {"orders": order.pk, "shipments": shipment.pk, "customers": order.customer_id},
    }


def _existing_id(case: schemathesis.Case, ids: dict[str, int]) -> int:
    collection = case.path.removeprefix("/api/v1/").split("/")[0]
    return ids[collection]


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_its_schema_says(case, shop_api):
    aims = [None]  # the id as generated
    # Generated ids rarely name a stored object, and a write reads its body only once its
    # object is found: aim writes at an object that exists, so that the generated bodies reach
    # validation and the services; reads go to both. (Unless the id itself was made invalid.)
    if "id" in case.path_parameters and not case.meta.is_negative_at(ParameterLocation.PATH):
        existing = _existing_id(case, shop_api["ids"])
        aims = [None, existing] if case.method.upper() == "GET" else [existing]
    for aim in aims:
        if aim is not None:
            case.path_parameters["id"] = aim
        case.call_and_validate(headers=shop_api["headers"], excluded_checks=EXCLUDED_CHECKS)
