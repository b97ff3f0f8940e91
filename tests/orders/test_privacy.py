"""Privacy requests: erasing a customer, exporting what we hold on them, erasing a shop."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.events import OrderEventName
from orders.models import (
    Channel,
    Consent,
    Customer,
    DataExport,
    Order,
    OrderEvent,
    ShipmentItem,
    WebhookEvent,
    WebhookStatus,
)
from orders.services import consent_record
from orders.services.data import AddressData, ConsentData, CustomerData, OrderData
from orders.services.privacy import (
    customer_data_export,
    customer_redact,
    order_data_anonymise,
    order_is_redacted,
    shop_redact,
)
from postpurchase.models import DomainEvent
from tests.factories import (
    CustomerFactory,
    LineItemFactory,
    OrderFactory,
    ShipmentFactory,
    TrackingEventFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(shop):
    customer = CustomerFactory(
        shop=shop,
        external_id="115310627314723954",
        email="john@example.com",
        phone="+16135550123",
        first_name="John",
        last_name="Smith",
        birthday=date(1990, 4, 1),
        timezone="America/Toronto",
        locale="en",
    )
    consent_record(
        customer=customer,
        data=ConsentData(channel=Channel.EMAIL, is_granted=True, source="shopify"),
    )
    return customer


@pytest.fixture
def order(customer):
    order = OrderFactory(
        shop=customer.shop,
        customer=customer,
        external_id="820982911946154508",
        number="#9999",
        total=Decimal("359.97"),
        subtotal=Decimal("349.97"),
        email="john@example.com",
        phone="+16135550123",
        shipping_name="John Smith",
        shipping_address1="123 Elm St.",
        shipping_address2="Apt 4",
        shipping_city="Ottawa",
        shipping_province="Ontario",
        shipping_postcode="K2H 7A8",
        shipping_country="CA",
    )
    line = LineItemFactory(order=order, external_id="487817672276298554", title="Sunglasses")
    shipment = ShipmentFactory(order=order, tracking_number="1z827wk74630")
    ShipmentItem.objects.create(shipment=shipment, line_item=line, quantity=1)
    TrackingEventFactory(shipment=shipment, status="in_transit", location="Ottawa, ON")
    return order


def redact(shop, **kwargs):
    params = {"customer_external_id": "115310627314723954", "email": "john@example.com"}
    return customer_redact(shop=shop, **{**params, **kwargs})


def stored_delivery(shop, body: str, status: str = WebhookStatus.PROCESSED) -> WebhookEvent:
    return WebhookEvent.objects.create(
        provider="shopify",
        shop=shop,
        event_id=f"evt-{WebhookEvent.objects.count()}",
        topic="orders/create",
        body=body,
        status=status,
    )


# --- customer_redact ------------------------------------------------------------------------


def test_redact_erases_the_customer_profile(shop, customer):
    redact(shop)

    customer.refresh_from_db()
    assert (customer.email, customer.phone, customer.first_name, customer.last_name) == (
        "",
        "",
        "",
        "",
    )
    assert (customer.birthday, customer.timezone, customer.external_id) == (None, "", "")
    assert customer.redacted_at is not None


def test_redact_removes_the_customers_consents(shop, customer):
    redact(shop)

    assert not Consent.objects.filter(customer=customer).exists()


def test_redact_erases_contact_and_address_on_orders_but_keeps_the_figures(shop, order):
    redact(shop)

    order.refresh_from_db()
    assert (order.email, order.phone, order.shipping_name) == ("", "", "")
    assert (order.shipping_address1, order.shipping_address2) == ("", "")
    assert (order.shipping_city, order.shipping_postcode) == ("", "")
    assert (order.shipping_country, order.shipping_province) == ("CA", "Ontario")
    assert (order.total, order.subtotal, order.number) == (
        Decimal("359.97"),
        Decimal("349.97"),
        "#9999",
    )
    assert order.line_items.get().title == "Sunglasses"
    assert order.shipments.get().events.count() == 1


def test_redact_records_it_on_the_order_and_publishes_once(shop, customer, order):
    erased = redact(shop)

    assert erased.customer_ids == (customer.pk,)
    assert erased.order_ids == (order.pk,)
    assert OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.REDACTED).count() == 1
    assert order_is_redacted(shop=shop, external_id=order.external_id)
    [event] = DomainEvent.objects.filter(name=OrderEventName.CUSTOMER_REDACTED)
    assert event.payload == {"customer_id": customer.pk}


def test_redact_twice_changes_nothing(shop, customer, order):
    redact(shop)
    customer.refresh_from_db()
    order.refresh_from_db()
    events_before = (OrderEvent.objects.count(), DomainEvent.objects.count())

    erased = redact(shop)

    assert (erased.customer_ids, erased.order_ids) == ((), ())
    assert (OrderEvent.objects.count(), DomainEvent.objects.count()) == events_before
    assert Customer.objects.get(pk=customer.pk).updated_at == customer.updated_at
    assert Order.objects.get(pk=order.pk).updated_at == order.updated_at


def test_redact_by_email_alone_finds_the_customer(shop, customer):
    customer_redact(shop=shop, email="JOHN@example.com")

    customer.refresh_from_db()
    assert customer.redacted_at is not None


def test_redact_covers_listed_orders_and_guest_orders_with_the_email(shop, customer):
    listed = OrderFactory(shop=shop, customer=None, external_id="299938", email="x@example.org")
    guest = OrderFactory(shop=shop, customer=None, external_id="280263", email="John@Example.com")

    erased = redact(shop, order_external_ids=["299938"])

    assert set(erased.order_ids) == {listed.pk, guest.pk}
    assert Order.objects.filter(pk__in=[listed.pk, guest.pk], email="").count() == 2


def test_redact_leaves_everyone_else_alone(shop, other_shop, customer, order):
    namesake = CustomerFactory(shop=shop, external_id="42", email="john@example.com")
    elsewhere = CustomerFactory(
        shop=other_shop, external_id="115310627314723954", email="john@example.com"
    )
    their_order = OrderFactory(shop=shop, customer=namesake, email="john@example.com")

    redact(shop)

    for untouched in (namesake, elsewhere):
        untouched.refresh_from_db()
        assert untouched.email == "john@example.com"
        assert untouched.redacted_at is None
    their_order.refresh_from_db()
    assert their_order.email == "john@example.com"


def test_redact_erases_raw_copies_that_mention_the_customer(shop, order):
    by_email = stored_delivery(shop, '{"email": "john@example.com"}')
    by_order_id = stored_delivery(shop, '{"id":820982911946154508,"email":null}')
    pending = stored_delivery(shop, '{"id": 820982911946154508}', status=WebhookStatus.RECEIVED)
    unrelated = stored_delivery(shop, '{"id": 1820982911946154508}')
    DataExport.objects.create(shop=shop, customer_email="john@example.com", data={"a": 1})

    redact(shop)

    for event in (by_email, by_order_id, pending, unrelated):
        event.refresh_from_db()
    assert (by_email.body, by_order_id.body) == ("", "")
    assert pending.body == '{"id": 820982911946154508}'  # still to be processed
    assert unrelated.body == '{"id": 1820982911946154508}'
    assert not DataExport.objects.filter(shop=shop).exists()


def test_redact_of_an_unknown_customer_changes_nothing(shop, order):
    erased = customer_redact(shop=shop, customer_external_id="1", email="who@example.org")

    assert (erased.customer_ids, erased.order_ids) == ((), ())
    order.refresh_from_db()
    assert order.email == "john@example.com"
    assert not DomainEvent.objects.exists()


def test_anonymised_order_data_keeps_figures_and_drops_the_person():
    data = OrderData(
        external_id="1",
        number="#1001",
        placed_at=timezone.now(),
        currency="USD",
        total=Decimal("10.00"),
        line_items=(),
        source="shopify",
        customer=CustomerData(email="a@example.org"),
        email="a@example.org",
        phone="+16135550123",
        shipping_address=AddressData(
            name="A", address1="1 Road", city="Ottawa", province="ON", postcode="K1", country="CA"
        ),
    )

    anonymous = order_data_anonymise(data)

    assert (anonymous.customer, anonymous.email, anonymous.phone) == (None, "", "")
    assert anonymous.shipping_address == AddressData(province="ON", country="CA")
    assert (anonymous.total, anonymous.number) == (Decimal("10.00"), "#1001")


# --- customer_data_export -------------------------------------------------------------------


def test_export_holds_the_profile_and_consents(shop, customer, order):
    export = customer_data_export(
        shop=shop,
        customer_external_id="115310627314723954",
        email="john@example.com",
        order_external_ids=["820982911946154508"],
        request_reference="9999",
    )

    export.refresh_from_db()
    assert (export.request_reference, export.customer_email) == ("9999", "john@example.com")
    [profile] = export.data["customers"]
    assert profile["email"] == "john@example.com"
    assert profile["phone"] == "+16135550123"
    assert (profile["first_name"], profile["last_name"]) == ("John", "Smith")
    assert profile["birthday"] == "1990-04-01"
    assert [(c["channel"], c["status"]) for c in profile["consents"]] == [("email", "granted")]


def test_export_holds_orders_with_items_shipments_and_tracking(shop, customer, order):
    export = customer_data_export(shop=shop, customer_external_id="115310627314723954")

    [held] = export.data["orders"]
    assert held["number"] == "#9999"
    assert held["total"] == "359.97"
    assert (held["shipping_address1"], held["shipping_postcode"]) == ("123 Elm St.", "K2H 7A8")
    assert [li["external_id"] for li in held["line_items"]] == ["487817672276298554"]
    [shipment] = held["shipments"]
    assert shipment["tracking_number"] == "1z827wk74630"
    assert shipment["items"] == [{"line_item": "487817672276298554", "quantity": 1}]
    assert [(e["status"], e["location"]) for e in shipment["tracking_events"]] == [
        ("in_transit", "Ottawa, ON")
    ]


def test_export_includes_listed_orders_without_a_customer(shop, customer):
    OrderFactory(shop=shop, customer=None, external_id="299938", email="guest@example.org")
    OrderFactory(shop=shop, customer=None, external_id="5", email="other@example.org")

    export = customer_data_export(shop=shop, email="nobody@x.org", order_external_ids=["299938"])

    assert [o["external_id"] for o in export.data["orders"]] == ["299938"]
    assert export.data["customers"] == []


def test_export_leaves_out_other_shops(shop, other_shop, customer, order):
    CustomerFactory(shop=other_shop, external_id="115310627314723954", email="john@example.com")
    OrderFactory(shop=other_shop, external_id="820982911946154508")

    export = customer_data_export(
        shop=shop, customer_external_id="115310627314723954", email="john@example.com"
    )

    assert len(export.data["customers"]) == 1
    assert len(export.data["orders"]) == 1


def test_export_repeated_for_the_same_request_is_one_export(shop, customer):
    customer_data_export(shop=shop, email="john@example.com", request_reference="9999")

    customer_data_export(shop=shop, email="john@example.com", request_reference="9999")

    assert DataExport.objects.filter(shop=shop, request_reference="9999").count() == 1


# --- shop_redact ----------------------------------------------------------------------------


def test_shop_redact_erases_every_customer_and_order(shop, customer, order):
    second = CustomerFactory(shop=shop, email="jane@example.org")
    guest_order = OrderFactory(shop=shop, customer=None, email="guest@example.org")

    erased = shop_redact(shop=shop)

    assert set(erased.customer_ids) == {customer.pk, second.pk}
    assert not Customer.objects.filter(shop=shop).exclude(email="").exists()
    assert set(Order.objects.filter(shop=shop).values_list("email", flat=True)) == {""}
    assert guest_order.pk in erased.order_ids
    assert DomainEvent.objects.filter(name=OrderEventName.CUSTOMER_REDACTED).count() == 2
    assert not Consent.objects.filter(customer__shop=shop).exists()


def test_shop_redact_deactivates_the_shop_and_erases_raw_copies(shop, customer):
    delivered = stored_delivery(shop, '{"email": "jane@example.org"}')
    DataExport.objects.create(shop=shop, customer_email="jane@example.org", data={"a": 1})

    shop_redact(shop=shop)

    shop.refresh_from_db()
    assert not shop.is_active
    assert shop.redacted_at is not None
    delivered.refresh_from_db()
    assert delivered.body == ""
    assert not DataExport.objects.filter(shop=shop).exists()


def test_shop_redact_leaves_other_shops_alone(shop, other_shop, customer):
    neighbour = CustomerFactory(shop=other_shop, email="john@example.com")

    shop_redact(shop=shop)

    neighbour.refresh_from_db()
    other_shop.refresh_from_db()
    assert (neighbour.email, neighbour.redacted_at) == ("john@example.com", None)
    assert other_shop.is_active


def test_shop_redact_twice_changes_nothing(shop, customer, order):
    shop_redact(shop=shop)
    shop.refresh_from_db()
    before = (shop.redacted_at, OrderEvent.objects.count(), DomainEvent.objects.count())

    erased = shop_redact(shop=shop)

    shop.refresh_from_db()
    assert (erased.customer_ids, erased.order_ids) == ((), ())
    assert (shop.redacted_at, OrderEvent.objects.count(), DomainEvent.objects.count()) == before
