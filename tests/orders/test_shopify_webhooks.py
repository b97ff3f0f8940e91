"""`POST /webhooks/shopify/` and the processor, replaying Shopify's documented payloads signed
with the real algorithm."""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from orders.events import OrderEventName
from orders.ingest import shopify
from orders.ingest.webhooks import webhook_event_process, webhook_events_dispatch
from orders.models import (
    PAID_FINANCIAL_STATUSES,
    Channel,
    Consent,
    ConsentStatus,
    Customer,
    DataExport,
    FinancialStatus,
    Order,
    OrderEvent,
    OrderStatus,
    Shipment,
    ShipmentStatus,
    TrackingStatus,
    WebhookEvent,
    WebhookStatus,
)
from orders.selectors import order_timeline
from orders.services import consent_record
from orders.services.data import ConsentData
from orders.tasks import webhook_event_process_task, webhook_events_dispatch_task
from postpurchase.models import DomainEvent
from tests.factories import ShopFactory

pytestmark = pytest.mark.django_db

URL = "/webhooks/shopify/"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "shopify"
ORDER_ID = "820982911946154508"
CUSTOMER_ID = "115310627314723954"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def deliver(client, shop, topic: str, data: dict | bytes, **header_changes: str | None):
    """POST a delivery as Shopify sends it; a header given as None is left out."""
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop.domain,
        "X-Shopify-Hmac-Sha256": sign(shop.shopify_webhook_secret, body),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-API-Version": "2025-01",
        "X-Shopify-Triggered-At": "2025-01-10T12:00:00.000000Z",
    }
    for name, value in header_changes.items():
        key = name.replace("_", "-")
        if value is None:
            headers.pop(key)
        else:
            headers[key] = value
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def receive(client, shop, topic: str, data: dict | bytes, **headers: str | None) -> WebhookEvent:
    response = deliver(client, shop, topic, data, **headers)
    assert response.status_code == 200, response.content
    return WebhookEvent.objects.get(event_id=response.wsgi_request.headers["X-Shopify-Event-Id"])


def apply(client, shop, topic: str, data: dict, **headers: str | None) -> WebhookEvent:
    event = receive(client, shop, topic, data, **headers)
    webhook_event_process(event_id=event.pk)
    event.refresh_from_db()
    return event


def order_payload(**changes: Any) -> dict[str, Any]:
    return {**fixture("orders_create"), **changes}


def fulfillment_payload(**changes: Any) -> dict[str, Any]:
    return {**fixture("fulfillments_create"), **changes}


def privacy_payload(name: str, shop) -> dict[str, Any]:
    return {**fixture(name), "shop_domain": shop.domain}


def events_named(name: str) -> int:
    return DomainEvent.objects.filter(name=name).count()


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    """Stands in for the broker: a requested dispatch round runs at once, as a worker would,
    and the deliveries it hands to processing are recorded instead of sent."""
    sent: list[int] = []
    monkeypatch.setattr(
        webhook_events_dispatch_task,
        "apply_async",
        lambda **options: sent.extend(webhook_events_dispatch()),
    )
    monkeypatch.setattr(webhook_event_process_task, "delay", lambda event_id: None)
    return sent


# --- Receiving ------------------------------------------------------------------------------


def test_signed_delivery_is_stored_and_queued_after_commit(
    client, shop, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = deliver(client, shop, "orders/create", order_payload(), X_Shopify_Event_Id="e1")

    assert response.status_code == 200
    assert response.json() == {"status": "received"}
    event = WebhookEvent.objects.get()
    assert (event.status, event.topic, event.event_id, event.shop) == (
        WebhookStatus.RECEIVED,
        "orders/create",
        "e1",
        shop,
    )
    assert enqueued == []  # nothing leaves before the commit
    with django_capture_on_commit_callbacks(execute=True):  # the commit, as Django runs it
        for callback in callbacks:
            callback()
    assert enqueued == [event.pk]
    assert not Order.objects.exists()


def test_stored_headers_are_the_useful_ones_without_the_signature(client, shop):
    event = receive(client, shop, "orders/create", order_payload(), X_Shopify_Event_Id="e2")

    assert event.headers == {
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Shop-Domain": shop.domain,
        "X-Shopify-Event-Id": "e2",
        "X-Shopify-Webhook-Id": event.headers["X-Shopify-Webhook-Id"],
        "X-Shopify-API-Version": "2025-01",
        "X-Shopify-Triggered-At": "2025-01-10T12:00:00.000000Z",
    }


def test_stored_body_is_the_raw_body(client, shop):
    body = json.dumps(order_payload(), indent=1).encode()

    event = receive(client, shop, "orders/create", body)

    assert event.body == body.decode()


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(lambda secret, body: sign("not-the-secret", body), id="wrong-secret"),
        pytest.param(lambda secret, body: sign(secret, body + b" "), id="other-body"),
        pytest.param(lambda secret, body: "not base64 at all", id="garbage"),
        pytest.param(lambda secret, body: "ünïcode", id="non-ascii"),
        pytest.param(lambda secret, body: hashlib.sha256(body).hexdigest(), id="unkeyed-hex"),
    ],
)
def test_bad_signature_is_refused_and_nothing_stored(client, shop, signature):
    body = json.dumps(order_payload()).encode()
    bad = signature(shop.shopify_webhook_secret, body)

    response = deliver(client, shop, "orders/create", body, X_Shopify_Hmac_Sha256=bad)

    assert response.status_code == 401
    assert response.json() == {"error": "invalid signature"}
    assert not WebhookEvent.objects.exists()


def test_body_changed_after_signing_is_refused(client, shop):
    signed = json.dumps(order_payload()).encode()
    tampered = signed.replace(b'"359.97"', b'"0.01"')

    response = deliver(
        client,
        shop,
        "orders/create",
        tampered,
        X_Shopify_Hmac_Sha256=sign(shop.shopify_webhook_secret, signed),
    )

    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_missing_signature_is_refused_and_nothing_stored(client, shop):
    response = deliver(client, shop, "orders/create", order_payload(), X_Shopify_Hmac_Sha256=None)

    assert response.status_code == 401
    assert response.json() == {"error": "missing signature"}
    assert not WebhookEvent.objects.exists()


def test_shop_without_a_secret_accepts_no_signature(client):
    shop = ShopFactory(shopify_webhook_secret="")

    response = deliver(client, shop, "orders/create", order_payload())

    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_signature_is_checked_before_the_body_is_read(client, shop):
    response = deliver(client, shop, "orders/create", b"not json", X_Shopify_Hmac_Sha256="bad")

    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_unknown_shop_is_404_and_nothing_stored(client, shop):
    stranger = ShopFactory.build(domain="nobody.myshopify.com", shopify_webhook_secret="s3cret")

    response = deliver(client, stranger, "orders/create", order_payload())

    assert response.status_code == 404
    assert response.json() == {"error": "unknown shop"}
    assert not WebhookEvent.objects.exists()


def test_inactive_shop_is_unknown(client):
    shop = ShopFactory(is_active=False)

    response = deliver(client, shop, "orders/create", order_payload())

    assert response.status_code == 404
    assert not WebhookEvent.objects.exists()


def test_shop_domain_header_is_matched_case_insensitively(client, shop):
    response = deliver(
        client, shop, "orders/create", order_payload(), X_Shopify_Shop_Domain=shop.domain.upper()
    )

    assert response.status_code == 200
    assert WebhookEvent.objects.get().shop == shop


def test_rotated_secret_is_used_at_once(client, shop):
    deliver(client, shop, "shop/update", {"id": 1})  # the shop is now cached
    shop.shopify_webhook_secret = "shpss_rotated"
    shop.save(update_fields=["shopify_webhook_secret", "updated_at"])

    response = deliver(client, shop, "shop/update", {"id": 1})

    assert response.status_code == 200
    assert WebhookEvent.objects.count() == 2


def test_redelivery_is_stored_once_and_makes_one_order(
    client, shop, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(client, shop, "orders/create", order_payload(), X_Shopify_Event_Id="e3")
        again = deliver(client, shop, "orders/create", order_payload(), X_Shopify_Event_Id="e3")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == {"status": "duplicate"}
    event = WebhookEvent.objects.get()
    assert enqueued == [event.pk]
    for event_id in enqueued:
        webhook_event_process_task(event_id)
        webhook_event_process_task(event_id)
    assert Order.objects.count() == 1
    assert events_named(OrderEventName.ORDER_PLACED) == 1


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_delivery_commits_then_is_queued(client, enqueued):
    shop = ShopFactory()

    first = deliver(client, shop, "orders/create", order_payload(), X_Shopify_Event_Id="e5")
    again = deliver(client, shop, "orders/create", order_payload(), X_Shopify_Event_Id="e5")

    assert (first.json(), again.json()) == ({"status": "received"}, {"status": "duplicate"})
    event = WebhookEvent.objects.get()
    assert enqueued == [event.pk]


def test_same_content_under_a_new_event_id_changes_nothing_more(client, shop):
    apply(client, shop, "orders/create", order_payload())

    second = apply(client, shop, "orders/create", order_payload())

    assert second.status == WebhookStatus.IGNORED
    assert Order.objects.count() == 1
    assert events_named(OrderEventName.ORDER_PLACED) == 1


def test_webhook_id_stands_in_for_a_missing_event_id(client, shop):
    response = deliver(
        client, shop, "orders/create", order_payload(), X_Shopify_Event_Id=None,
        X_Shopify_Webhook_Id="b54557e4-8a5f-4bf7-8d70-bcd0430f0001",
    )  # fmt: skip

    assert response.status_code == 200
    assert WebhookEvent.objects.get().event_id == "b54557e4-8a5f-4bf7-8d70-bcd0430f0001"


def test_delivery_without_any_event_id_is_refused(client, shop):
    response = deliver(
        client, shop, "orders/create", order_payload(), X_Shopify_Event_Id=None,
        X_Shopify_Webhook_Id=None,
    )  # fmt: skip

    assert response.status_code == 400
    assert "X-Shopify-Event-Id" in response.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_delivery_without_a_topic_is_refused(client, shop):
    response = deliver(client, shop, "orders/create", order_payload(), X_Shopify_Topic=None)

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_unhandled_topic_is_stored_as_ignored_and_not_queued(
    client, shop, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, shop, "products/update", {"id": 788032119674292922})

    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    event = WebhookEvent.objects.get()
    assert (event.status, event.topic) == (WebhookStatus.IGNORED, "products/update")
    assert enqueued == []


def assert_only_a_failed_delivery_was_stored(error_part: str) -> None:
    event = WebhookEvent.objects.get()
    assert event.status == WebhookStatus.FAILED
    assert error_part in event.error
    assert not Order.objects.exists()
    assert not Customer.objects.exists()
    assert not DomainEvent.objects.exists()


def test_body_that_is_not_json_is_refused_and_recorded_once(
    client, shop, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, shop, "orders/create", b'{"id": 1, "name": ')

    assert response.status_code == 400
    answer = response.json()
    assert (answer["error"], answer["field"]) == ("invalid payload", "body")
    assert "not valid JSON" in answer["reason"]
    assert_only_a_failed_delivery_was_stored("not valid JSON")
    assert enqueued == []


def test_body_with_a_nul_byte_is_recorded(client, shop):
    response = deliver(client, shop, "orders/create", b"\x00\xff garbage")

    assert response.status_code == 400
    assert_only_a_failed_delivery_was_stored("body")


def without(data: dict[str, Any], *path: str | int) -> dict[str, Any]:
    *parents, last = path
    target: Any = data
    for key in parents:
        target = target[key]
    del target[last]
    return data


def with_value(data: dict[str, Any], value: Any, *path: str | int) -> dict[str, Any]:
    *parents, last = path
    target: Any = data
    for key in parents:
        target = target[key]
    target[last] = value
    return data


@pytest.mark.parametrize(
    ("payload", "field", "reason"),
    [
        (lambda: without(order_payload(), "line_items", 0, "price"), "line_items.0.price",
         "Field required"),
        (lambda: with_value(order_payload(), "12,50", "line_items", 1, "price"),
         "line_items.1.price", "valid decimal"),
        (lambda: with_value(order_payload(), "-1.00", "total_price"), "total_price",
         "greater than or equal to 0"),
        (lambda: with_value(order_payload(), 0, "line_items", 2, "quantity"),
         "line_items.2.quantity", "greater than 0"),
        (lambda: without(order_payload(), "currency"), "currency", "Field required"),
        (lambda: with_value(order_payload(), "2021-12-31T19:00:00", "created_at"), "created_at",
         "timezone"),
        (lambda: without(order_payload(), "customer", "id"), "customer.id", "Field required"),
        (lambda: without(order_payload(), "name"), "name", "Field required"),
    ],
)  # fmt: skip
def test_missing_or_wrong_field_is_refused_with_the_field(client, shop, payload, field, reason):
    response = deliver(client, shop, "orders/create", payload())

    assert response.status_code == 400
    answer = response.json()
    assert (answer["error"], answer["field"]) == ("invalid payload", field)
    assert reason in answer["reason"]
    assert_only_a_failed_delivery_was_stored(field)


def test_fulfillment_without_order_id_is_refused(client, shop):
    response = deliver(
        client, shop, "fulfillments/create", without(fulfillment_payload(), "order_id")
    )

    assert response.status_code == 400
    assert response.json()["field"] == "order_id"
    assert_only_a_failed_delivery_was_stored("order_id")


def test_privacy_request_naming_another_shop_is_refused(client, shop):
    payload = {**fixture("customers_redact"), "shop_domain": "someone-else.myshopify.com"}

    response = deliver(client, shop, "customers/redact", payload)

    assert response.status_code == 400
    assert response.json()["field"] == "shop_domain"
    assert WebhookEvent.objects.get().status == WebhookStatus.FAILED


def test_redelivered_invalid_payload_is_not_stored_twice(client, shop):
    body = b"not json"
    deliver(client, shop, "orders/create", body, X_Shopify_Event_Id="e4")

    again = deliver(client, shop, "orders/create", body, X_Shopify_Event_Id="e4")

    assert again.status_code == 200
    assert WebhookEvent.objects.count() == 1


def test_only_post_is_allowed(client):
    assert client.get(URL).status_code == 405


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("orders/create", lambda shop: order_payload()),
        ("orders/updated", lambda shop: order_payload()),
        ("orders/paid", lambda shop: order_payload(financial_status="paid")),
        ("orders/cancelled", lambda shop: order_payload(cancelled_at="2022-01-01T11:00Z")),
        ("fulfillments/create", lambda shop: fulfillment_payload()),
        ("fulfillments/update", lambda shop: fulfillment_payload(shipment_status="in_transit")),
        ("customers/redact", lambda shop: privacy_payload("customers_redact", shop)),
        ("customers/data_request", lambda shop: privacy_payload("customers_data_request", shop)),
        ("shop/redact", lambda shop: privacy_payload("shop_redact", shop)),
    ],
)
def test_every_handled_topic_is_queued_after_commit_and_processed(
    client, shop, enqueued, django_capture_on_commit_callbacks, topic, payload
):
    if topic.startswith("fulfillments/"):
        apply(client, shop, "orders/create", order_payload())

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        event = receive(client, shop, topic, payload(shop))

    assert enqueued == []
    with django_capture_on_commit_callbacks(execute=True):  # the commit, as Django runs it
        for callback in callbacks:
            callback()
    assert enqueued == [event.pk]
    assert webhook_event_process_task(event.pk) == WebhookStatus.PROCESSED


# --- Orders ---------------------------------------------------------------------------------


def test_orders_create_makes_the_order_with_items_totals_and_address(client, shop):
    event = apply(client, shop, "orders/create", order_payload())

    assert event.status == WebhookStatus.PROCESSED
    order = Order.objects.get(shop=shop, external_id=ORDER_ID)
    assert (order.number, order.source, order.status, order.currency) == (
        "#9999",
        "shopify",
        OrderStatus.PLACED,
        "USD",
    )
    assert (order.subtotal, order.discount_total, order.shipping_total) == (
        Decimal("349.97"),
        Decimal("20.00"),
        Decimal("10.00"),
    )
    assert (order.tax_total, order.total) == (Decimal("0.00"), Decimal("359.97"))
    assert order.placed_at == datetime(2022, 1, 1, 0, 0, tzinfo=UTC)
    assert order.email == "jon@example.com"
    assert (order.shipping_name, order.shipping_address1, order.shipping_city) == (
        "Steve Shipper",
        "123 Shipping Street",
        "Shippington",
    )
    assert (order.shipping_postcode, order.shipping_country) == ("40003", "US")
    assert order.phone == ""  # "555-555-SHIP" is no phone number: dropped, not an error
    lines = {li.external_id: li for li in order.line_items.all()}
    assert lines["976318377106520349"].unit_price == Decimal("159.99")
    assert lines["976318377106520349"].discount_total == Decimal("20.00")
    assert lines["976318377106520349"].variant_title == "Walnut"
    assert lines["487817672276298554"].sku == "SKU2006-001"
    assert len(lines) == 3
    assert events_named(OrderEventName.ORDER_PLACED) == 1


def test_orders_create_records_the_customer_with_an_e164_phone(client, shop):
    apply(client, shop, "orders/create", order_payload())

    customer = Order.objects.get().customer
    assert (customer.external_id, customer.email) == (CUSTOMER_ID, "john@example.com")
    assert (customer.first_name, customer.last_name) == ("John", "Smith")
    assert customer.phone == "+16135550123"
    assert customer.locale == "en"


def test_invalid_customer_phone_is_dropped_not_an_error(client, shop):
    payload = order_payload()
    payload["customer"]["phone"] = "555-625-1199"

    event = apply(client, shop, "orders/create", payload)

    assert event.status == WebhookStatus.PROCESSED
    assert Customer.objects.get().phone == ""


def test_local_phone_is_read_in_the_shipping_country(client, shop):
    payload = order_payload(phone="(212) 555-0100")

    apply(client, shop, "orders/create", payload)

    assert Order.objects.get().phone == "+12125550100"


def test_marketing_consents_are_recorded_with_when_and_how(client, shop):
    apply(client, shop, "orders/create", order_payload())

    consents = {c.channel: c for c in Consent.objects.filter(customer__external_id=CUSTOMER_ID)}
    email, sms = consents[Channel.EMAIL], consents[Channel.SMS]
    assert (email.status, email.source) == (ConsentStatus.GRANTED, "shopify")
    assert email.changed_at == datetime(2021, 12, 30, 15, 15, tzinfo=UTC)
    assert email.detail == "single_opt_in"
    assert (sms.status, sms.source) == (ConsentStatus.REVOKED, "shopify")
    assert sms.detail == "single_opt_in from SHOPIFY"


def test_not_subscribed_keeps_consent_given_elsewhere(client, shop):
    apply(client, shop, "orders/create", order_payload())
    customer = Customer.objects.get()
    consent_record(
        customer=customer, data=ConsentData(channel=Channel.SMS, is_granted=True, source="page")
    )
    payload = order_payload(updated_at="2022-01-05T09:00:00-05:00")
    payload["customer"]["sms_marketing_consent"]["state"] = "not_subscribed"

    apply(client, shop, "orders/updated", payload)

    sms = Consent.objects.get(customer=customer, channel=Channel.SMS)
    assert (sms.status, sms.source) == (ConsentStatus.GRANTED, "page")


def test_guest_checkout_becomes_a_customer_by_email(client, shop):
    apply(client, shop, "orders/create", order_payload(customer=None))

    order = Order.objects.get()
    assert order.customer.email == "jon@example.com"
    assert order.customer.external_id == ""


def test_orders_updated_applies_a_newer_update(client, shop):
    apply(client, shop, "orders/create", order_payload())

    event = apply(
        client,
        shop,
        "orders/updated",
        order_payload(updated_at="2022-01-03T10:00:00-05:00", email="new@example.com"),
    )

    assert event.status == WebhookStatus.PROCESSED
    order = Order.objects.get()
    assert order.email == "new@example.com"
    assert order.source_updated_at == datetime(2022, 1, 3, 15, 0, tzinfo=UTC)


def test_orders_updated_older_than_the_applied_one_is_ignored(client, shop):
    apply(client, shop, "orders/create", order_payload())
    newer = order_payload(updated_at="2022-01-03T10:00:00-05:00", email="newer@example.com")
    older = order_payload(updated_at="2022-01-02T10:00:00-05:00", email="older@example.com")
    apply(client, shop, "orders/updated", newer)

    event = apply(client, shop, "orders/updated", older)

    assert event.status == WebhookStatus.IGNORED
    assert "newer" in event.error
    assert Order.objects.get().email == "newer@example.com"


def test_orders_paid_marks_the_order_paid_once(client, shop):
    apply(client, shop, "orders/create", order_payload())
    paid = order_payload(financial_status="paid", updated_at="2022-01-01T08:30:00-05:00")

    apply(client, shop, "orders/paid", paid)
    apply(client, shop, "orders/updated", {**paid, "updated_at": "2022-01-02T08:30:00-05:00"})

    order = Order.objects.get()
    assert order.financial_status == FinancialStatus.PAID
    assert order.paid_at == datetime(2022, 1, 1, 13, 30, tzinfo=UTC)
    assert events_named(OrderEventName.ORDER_PAID) == 1


def test_orders_cancelled_cancels_the_order(client, shop):
    apply(client, shop, "orders/create", order_payload())
    cancelled = order_payload(
        cancelled_at="2022-01-01T11:00:00-05:00",
        cancel_reason="customer",
        financial_status="voided",
        updated_at="2022-01-01T11:00:00-05:00",
    )

    event = apply(client, shop, "orders/cancelled", cancelled)

    assert event.status == WebhookStatus.PROCESSED
    order = Order.objects.get()
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == "customer"
    assert order.cancelled_at == datetime(2022, 1, 1, 16, 0, tzinfo=UTC)
    assert events_named(OrderEventName.ORDER_CANCELLED) == 1


def test_order_processing_is_queued_work_not_done_in_the_request(
    client, shop, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, shop, "orders/cancelled", order_payload(cancelled_at="2022-01-01T11:00Z"))

    assert not Order.objects.exists()
    webhook_event_process_task(*enqueued)
    assert Order.objects.get().status == OrderStatus.CANCELLED


# --- Payment state and refunds --------------------------------------------------------------


def payment_events(order) -> list[tuple[str, str, str]]:
    return list(
        order.events.filter(kind__in=[OrderEvent.Kind.PAID, OrderEvent.Kind.PAYMENT_STATUS])
        .order_by("pk")
        .values_list("kind", "from_status", "to_status")
    )


@pytest.mark.parametrize("status", FinancialStatus.values)
def test_every_shopify_payment_state_is_kept_as_reported(client, shop, status):
    apply(client, shop, "orders/updated", order_payload(financial_status=status))

    order = Order.objects.get()
    assert order.financial_status == status
    assert (order.paid_at is not None) == (status in PAID_FINANCIAL_STATUSES)


def test_a_partial_refund_keeps_the_state_and_puts_the_refund_on_the_timeline(client, shop):
    apply(client, shop, "orders/paid", order_payload(financial_status="paid"))

    event = apply(client, shop, "orders/updated", fixture("orders_updated_partially_refunded"))

    assert event.status == WebhookStatus.PROCESSED
    order = Order.objects.get()
    assert order.financial_status == FinancialStatus.PARTIALLY_REFUNDED
    assert order.paid_at is not None
    assert payment_events(order) == [
        ("paid", "pending", "paid"),
        ("payment_status", "paid", "partially_refunded"),
    ]
    refund = order.events.get(kind=OrderEvent.Kind.REFUNDED)
    assert refund.data == {
        "refund_id": "509562969",
        "amount": "89.99",
        "currency": "USD",
        "refunded_at": "2022-01-05T15:12:40+00:00",
    }
    assert refund.note == "Arrived scratched"
    titles = [entry.title for entry in order_timeline(order=order)]
    assert "Payment Paid → Partially refunded" in titles
    assert "Refund of 89.99 USD" in titles


def test_later_updates_repeating_a_refund_record_it_once(client, shop):
    refunded = fixture("orders_updated_partially_refunded")
    apply(client, shop, "orders/updated", refunded)

    later = {**refunded, "updated_at": "2022-01-06T09:00:00-05:00", "note": "Called the customer"}
    apply(client, shop, "orders/updated", later)

    order = Order.objects.get()
    assert order.events.filter(kind=OrderEvent.Kind.REFUNDED).count() == 1


def test_a_second_refund_to_nothing_left_makes_the_order_refunded(client, shop):
    first = fixture("orders_updated_partially_refunded")
    apply(client, shop, "orders/updated", first)
    rest = {
        **first["refunds"][0],
        "id": 509562970,
        "note": "",
        "transactions": [{**first["refunds"][0]["transactions"][0], "amount": "269.98"}],
    }
    refunded = {
        **first,
        "financial_status": "refunded",
        "updated_at": "2022-01-07T09:00:00-05:00",
        "refunds": [*first["refunds"], rest],
    }

    apply(client, shop, "orders/updated", refunded)

    order = Order.objects.get()
    assert order.financial_status == FinancialStatus.REFUNDED
    assert order.is_payment_reversed
    amounts = order.events.filter(kind=OrderEvent.Kind.REFUNDED).values_list("data__amount")
    assert sorted(amount for (amount,) in amounts) == ["269.98", "89.99"]
    assert events_named(OrderEventName.ORDER_PAID) == 1


def test_a_refund_without_a_successful_transaction_has_no_amount(client, shop):
    payload = fixture("orders_updated_partially_refunded")
    failed = {**payload["refunds"][0]["transactions"][0], "status": "failure"}
    payload["refunds"] = [{**payload["refunds"][0], "transactions": [failed]}]

    apply(client, shop, "orders/updated", payload)

    refund = OrderEvent.objects.get(kind=OrderEvent.Kind.REFUNDED)
    assert refund.data["amount"] is None
    titles = [entry.title for entry in order_timeline(order=refund.order)]
    assert "Refund (amount not given)" in titles


def test_a_voided_order_stays_voided_and_unpaid(client, shop):
    apply(client, shop, "orders/create", order_payload(financial_status="authorized"))
    voided = order_payload(financial_status="voided", updated_at="2022-01-01T11:00:00-05:00")

    apply(client, shop, "orders/updated", voided)

    order = Order.objects.get()
    assert order.financial_status == FinancialStatus.VOIDED
    assert order.paid_at is None
    assert order.is_payment_reversed
    assert payment_events(order) == [
        ("payment_status", "pending", "authorized"),
        ("payment_status", "authorized", "voided"),
    ]
    assert events_named(OrderEventName.ORDER_PAID) == 0


def test_a_payment_state_shopify_may_add_later_changes_nothing(client, shop):
    apply(client, shop, "orders/create", order_payload(financial_status="authorized"))
    unknown = order_payload(financial_status="expired", updated_at="2022-01-02T11:00:00-05:00")

    event = apply(client, shop, "orders/updated", unknown)

    assert event.status == WebhookStatus.PROCESSED
    assert Order.objects.get().financial_status == FinancialStatus.AUTHORIZED


# --- Fulfillments ---------------------------------------------------------------------------


def test_fulfillment_creates_the_shipment_and_ships_the_order(client, shop):
    apply(client, shop, "orders/create", order_payload())

    event = apply(client, shop, "fulfillments/create", fulfillment_payload())

    assert event.status == WebhookStatus.PROCESSED
    shipment = Shipment.objects.get()
    assert (shipment.external_id, shipment.carrier, shipment.tracking_number) == (
        "123456",
        "UPS",
        "1z827wk74630",
    )
    assert shipment.tracking_url.startswith("https://www.ups.com/WebTracking")
    assert shipment.status == ShipmentStatus.LABEL_CREATED
    assert shipment.shipped_at == datetime(2022, 1, 2, 15, 0, tzinfo=UTC)
    assert shipment.items.count() == 3
    assert Order.objects.get().status == OrderStatus.SHIPPED
    assert events_named(OrderEventName.SHIPMENT_CREATED) == 1


def test_tracking_number_and_url_fall_back_to_the_lists(client, shop):
    apply(client, shop, "orders/create", order_payload())
    payload = fulfillment_payload(
        tracking_number=None, tracking_url=None, tracking_numbers=["9400111899560"],
        tracking_urls=["https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899560"],
    )  # fmt: skip

    apply(client, shop, "fulfillments/create", payload)

    shipment = Shipment.objects.get()
    assert shipment.tracking_number == "9400111899560"
    assert shipment.tracking_url.endswith("tLabels=9400111899560")


def test_fulfillment_before_its_order_retries_then_succeeds(client, shop):
    fulfillment = receive(client, shop, "fulfillments/create", fulfillment_payload())

    with pytest.raises(shopify.OrderNotReceivedYet):
        webhook_event_process(event_id=fulfillment.pk)
    with pytest.raises(shopify.OrderNotReceivedYet):
        webhook_event_process_task(fulfillment.pk)  # what the worker runs, and retries
    fulfillment.refresh_from_db()
    assert fulfillment.status == WebhookStatus.RECEIVED
    assert not Shipment.objects.exists()

    apply(client, shop, "orders/create", order_payload())
    assert webhook_event_process(event_id=fulfillment.pk) == WebhookStatus.PROCESSED
    assert Shipment.objects.get().order.external_id == ORDER_ID


def test_fulfillment_delivered_delivers_the_order_and_publishes_once(client, shop):
    apply(client, shop, "orders/create", order_payload())
    apply(client, shop, "fulfillments/create", fulfillment_payload())
    delivered = fulfillment_payload(
        shipment_status="delivered", updated_at="2022-01-05T14:00:00-05:00"
    )

    apply(client, shop, "fulfillments/update", delivered)
    apply(client, shop, "fulfillments/update", delivered)  # sent again under a new event id

    order = Order.objects.get()
    assert order.status == OrderStatus.DELIVERED
    assert order.delivered_at == datetime(2022, 1, 5, 19, 0, tzinfo=UTC)
    assert Shipment.objects.get().status == ShipmentStatus.DELIVERED
    assert events_named(OrderEventName.ORDER_DELIVERED) == 1


def test_fulfillment_of_a_cancelled_order_fails(client, shop):
    apply(client, shop, "orders/create", order_payload(cancelled_at="2022-01-01T11:00Z"))

    event = apply(client, shop, "fulfillments/create", fulfillment_payload())

    assert event.status == WebhookStatus.FAILED
    assert "cancelled" in event.error
    assert not Shipment.objects.exists()


def test_cancelled_fulfillment_is_ignored(client, shop):
    apply(client, shop, "orders/create", order_payload())

    event = apply(client, shop, "fulfillments/create", fulfillment_payload(status="cancelled"))

    assert event.status == WebhookStatus.IGNORED
    assert not Shipment.objects.exists()


@pytest.mark.parametrize(
    ("shipment_status", "expected"),
    [
        ("label_printed", TrackingStatus.LABEL_CREATED),
        ("label_purchased", TrackingStatus.LABEL_CREATED),
        ("confirmed", TrackingStatus.LABEL_CREATED),
        ("in_transit", TrackingStatus.IN_TRANSIT),
        ("out_for_delivery", TrackingStatus.OUT_FOR_DELIVERY),
        ("attempted_delivery", TrackingStatus.IN_TRANSIT),
        ("ready_for_pickup", TrackingStatus.OUT_FOR_DELIVERY),
        ("delivered", TrackingStatus.DELIVERED),
        ("failure", TrackingStatus.EXCEPTION),
        (None, None),
        ("something_new", None),
    ],
)
def test_shipment_status_is_normalised(client, shop, shipment_status, expected):
    apply(client, shop, "orders/create", order_payload())

    apply(client, shop, "fulfillments/create", fulfillment_payload(shipment_status=shipment_status))

    shipment = Shipment.objects.get()
    assert [e.status for e in shipment.events.all()] == ([expected] if expected else [])
    assert shipment.status == (expected or ShipmentStatus.PENDING)


# --- Privacy topics -------------------------------------------------------------------------


def test_customers_redact_erases_the_customer_and_keeps_the_figures(client, shop):
    apply(client, shop, "orders/create", order_payload())

    event = apply(client, shop, "customers/redact", privacy_payload("customers_redact", shop))

    assert event.status == WebhookStatus.PROCESSED
    customer = Customer.objects.get()
    assert (customer.email, customer.phone, customer.first_name) == ("", "", "")
    assert customer.redacted_at is not None
    order = Order.objects.get()
    assert (order.email, order.shipping_name, order.shipping_postcode) == ("", "", "")
    assert (order.total, order.shipping_country) == (Decimal("359.97"), "US")
    assert events_named(OrderEventName.CUSTOMER_REDACTED) == 1


def test_update_after_redaction_does_not_bring_personal_data_back(client, shop):
    apply(client, shop, "orders/create", order_payload())
    apply(client, shop, "customers/redact", privacy_payload("customers_redact", shop))
    later = order_payload(
        updated_at="2022-02-01T10:00:00-05:00",
        cancelled_at="2022-02-01T10:00:00-05:00",
        cancel_reason="fraud",
    )

    apply(client, shop, "orders/cancelled", later)

    order = Order.objects.get()
    assert order.status == OrderStatus.CANCELLED
    assert (order.email, order.shipping_address1, order.shipping_city) == ("", "", "")
    assert Customer.objects.count() == 1
    assert Customer.objects.get().email == ""


def test_customers_data_request_produces_an_export(client, shop):
    apply(client, shop, "orders/create", order_payload())
    apply(client, shop, "fulfillments/create", fulfillment_payload())

    event = apply(
        client, shop, "customers/data_request", privacy_payload("customers_data_request", shop)
    )

    assert event.status == WebhookStatus.PROCESSED
    export = DataExport.objects.get(shop=shop)
    assert export.request_reference == "9999"
    assert export.customer_external_id == CUSTOMER_ID
    assert [c["email"] for c in export.data["customers"]] == ["john@example.com"]
    [order] = export.data["orders"]
    assert order["number"] == "#9999"
    assert order["shipments"][0]["tracking_number"] == "1z827wk74630"


def test_shop_redact_erases_every_customer_and_closes_the_door(
    client, shop, enqueued, django_capture_on_commit_callbacks
):
    apply(client, shop, "orders/create", order_payload())

    with django_capture_on_commit_callbacks(execute=True):
        event = apply(client, shop, "shop/redact", privacy_payload("shop_redact", shop))

    assert event.status == WebhookStatus.PROCESSED
    shop.refresh_from_db()
    assert not shop.is_active
    assert shop.redacted_at is not None
    assert Customer.objects.get().redacted_at is not None
    assert deliver(client, shop, "orders/create", order_payload()).status_code == 404


def test_orders_for_a_shop_deactivated_since_receipt_are_ignored(client, shop):
    event = receive(client, shop, "orders/create", order_payload())
    shop.is_active = False
    shop.save(update_fields=["is_active", "updated_at"])

    assert webhook_event_process(event_id=event.pk) == WebhookStatus.IGNORED
    assert not Order.objects.exists()
