from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from orders.models import (
    Customer,
    LineItem,
    Order,
    OrderSource,
    Product,
    ProductAffinity,
    Shipment,
    Shop,
    StaffMembership,
    StaffRole,
    TrackingEvent,
    Variant,
)


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop

    name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")
    domain = factory.Sequence(lambda n: f"shop-{n}.myshopify.com")
    currency = "USD"
    timezone = "America/New_York"
    support_email = factory.Sequence(lambda n: f"help@shop-{n}.test")
    shopify_webhook_secret = factory.Sequence(lambda n: f"shpss_secret_{n:04d}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StaffMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMembership

    user = factory.SubFactory(UserFactory)
    shop = factory.SubFactory(ShopFactory)
    role = StaffRole.MANAGER


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    shop = factory.SubFactory(ShopFactory)
    external_id = factory.Sequence(lambda n: str(7000000 + n))
    email = factory.Sequence(lambda n: f"customer{n}@example.org")
    first_name = "Ada"
    last_name = factory.Sequence(lambda n: f"Customer{n}")
    timezone = "Europe/London"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    shop = factory.SubFactory(ShopFactory)
    external_id = factory.Sequence(lambda n: str(8000000 + n))
    title = factory.Sequence(lambda n: f"Product {n}")


class ProductAffinityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductAffinity

    product = factory.SubFactory(ProductFactory)
    shop = factory.SelfAttribute("product.shop")
    related = factory.SubFactory(ProductFactory, shop=factory.SelfAttribute("..shop"))
    orders_together = 3
    lift = 2.5
    computed_at = factory.LazyFunction(timezone.now)


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    shop = factory.SelfAttribute("product.shop")
    external_id = factory.Sequence(lambda n: str(9000000 + n))
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    title = "Default"
    price = Decimal("25.00")
    currency = "USD"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    shop = factory.SubFactory(ShopFactory)
    customer = factory.SubFactory(CustomerFactory, shop=factory.SelfAttribute("..shop"))
    external_id = factory.Sequence(lambda n: str(5000000 + n))
    number = factory.Sequence(lambda n: f"#{1001 + n}")
    source = OrderSource.API
    currency = "USD"
    subtotal = Decimal("50.00")
    total = Decimal("55.00")
    shipping_total = Decimal("5.00")
    placed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=3))
    email = factory.SelfAttribute("customer.email")
    shipping_postcode = "SW1A 1AA"


class LineItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LineItem

    order = factory.SubFactory(OrderFactory)
    shop = factory.SelfAttribute("order.shop")
    external_id = factory.Sequence(lambda n: str(6000000 + n))
    title = "Product"
    quantity = 1
    unit_price = Decimal("25.00")


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory)
    shop = factory.SelfAttribute("order.shop")
    external_id = factory.Sequence(lambda n: str(4000000 + n))
    carrier = "USPS"
    tracking_number = factory.Sequence(lambda n: f"9400111899560{n:09d}")
    shipped_at = factory.LazyFunction(timezone.now)


class TrackingEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackingEvent

    shipment = factory.SubFactory(ShipmentFactory)
    shop = factory.SelfAttribute("shipment.shop")
    status = "in_transit"
    occurred_at = factory.LazyFunction(timezone.now)
    dedupe_key = factory.Sequence(lambda n: f"evt-{n}")


class ProblemReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.ProblemReport"

    order = factory.SubFactory(OrderFactory)
    shop = factory.SelfAttribute("order.shop")
    kind = "damaged"
    description = "The lid arrived cracked."
    submission_key = factory.Sequence(lambda n: f"problem-{n}")


class TrackingPageViewsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.TrackingPageViews"

    order = factory.SubFactory(OrderFactory)
    shop = factory.SelfAttribute("order.shop")
    first_viewed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))
    last_viewed_at = factory.LazyFunction(timezone.now)
    view_count = 3


class OrderEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.OrderEvent"
        skip_postgeneration_save = True

    order = factory.SubFactory(OrderFactory)
    shop = factory.SelfAttribute("order.shop")
    kind = "note"
    note = "Customer asked to leave the parcel with a neighbour."

    @factory.post_generation
    def at(obj, create, extracted, **kwargs):
        # `at` is stamped on insert (auto_now_add); a test that needs another time passes at=...
        if create and extracted is not None:
            type(obj).objects.filter(pk=obj.pk).update(at=extracted)
            obj.at = extracted


class ShipmentItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.ShipmentItem"

    shipment = factory.SubFactory(ShipmentFactory)
    line_item = factory.SubFactory(LineItemFactory, order=factory.SelfAttribute("..shipment.order"))
    quantity = 1


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Consent"

    customer = factory.SubFactory(CustomerFactory)
    shop = factory.SelfAttribute("customer.shop")
    channel = "email"
    status = "granted"
    changed_at = factory.LazyFunction(timezone.now)
    source = "shopify checkout"


class CarrierAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.CarrierAccount"

    shop = factory.SubFactory(ShopFactory)
    provider = "easypost"
    webhook_secret = factory.Sequence(lambda n: f"carrier-secret-{n:04d}")


class ApiKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.ApiKey"

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"Key {n}")
    prefix = factory.Sequence(lambda n: f"{n:08x}")
    key_hash = factory.Sequence(lambda n: f"{n:064x}")


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.WebhookEvent"

    provider = "shopify"
    shop = factory.SubFactory(ShopFactory)
    event_id = factory.Sequence(lambda n: f"evt-{n:06d}")
    topic = "orders/create"
    headers = factory.LazyFunction(lambda: {"X-Shopify-Topic": "orders/create"})
    body = '{"id": 1}'
    status = "received"


class IdempotencyRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.IdempotencyRecord"

    shop = factory.SubFactory(ShopFactory)
    key = factory.Sequence(lambda n: f"idem-{n}")
    method = "POST"
    path = "/api/v1/orders/"
    request_hash = "0" * 64
    response_status = 201
    response_body = factory.LazyFunction(lambda: {"id": 1})


class DataExportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.DataExport"

    shop = factory.SubFactory(ShopFactory)
    customer_email = factory.Sequence(lambda n: f"export{n}@example.org")
    request_reference = factory.Sequence(lambda n: f"req-{n}")
    data = factory.LazyFunction(lambda: {"customer": {"email": "export@example.org"}, "orders": []})


class DomainEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "postpurchase.DomainEvent"

    shop = factory.SubFactory(ShopFactory)
    name = "order_placed"
    payload = factory.LazyFunction(lambda: {"order_id": 1})


class LineItemPayloadFactory(factory.DictFactory):
    """A line item as a REST API client sends it."""

    external_id = factory.Sequence(lambda n: f"li-{n}")
    title = "Earl Grey, 100 g"
    quantity = 2
    unit_price = "12.50"
    sku = factory.Sequence(lambda n: f"TEA-{n:04d}")


class OrderPayloadFactory(factory.DictFactory):
    """An order body for `POST /api/v1/orders/`, money as decimal strings."""

    external_id = factory.Sequence(lambda n: f"api-{n}")
    number = factory.Sequence(lambda n: f"#{2001 + n}")
    placed_at = "2025-03-01T09:30:00Z"
    currency = "USD"
    subtotal = "25.00"
    shipping_total = "4.95"
    total = "29.95"
    customer = factory.Dict(
        {
            "external_id": factory.Sequence(lambda n: f"cust-{n}"),
            "email": factory.Sequence(lambda n: f"buyer{n}@example.org"),
            "first_name": "Ada",
            "last_name": "Lovelace",
            "timezone": "Europe/London",
        }
    )
    shipping_address = factory.Dict(
        {
            "name": "Ada Lovelace",
            "address1": "12 St James's Square",
            "city": "London",
            "postcode": "SW1Y 4JH",
            "country": "GB",
        }
    )
    line_items = factory.List([factory.SubFactory(LineItemPayloadFactory)])
