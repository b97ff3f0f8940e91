"""Shopify webhooks: signature check, payload models, the mapping to the source-neutral
dataclasses, and the processor that runs each stored delivery (registered on import).

The models follow Shopify's documented payloads and ignore every field we do not use. Money
arrives as strings and becomes Decimal; ids arrive as numbers and become strings.
"""

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Annotated, Any

from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from orders.ingest.errors import PayloadError
from orders.ingest.webhooks import WebhookIgnored, register_processor, webhook_event_store
from orders.models import (
    PAID_FINANCIAL_STATUSES,
    Channel,
    FinancialStatus,
    Order,
    OrderSource,
    Shop,
    TrackingStatus,
    WebhookEvent,
    WebhookProvider,
    WebhookStatus,
)
from orders.services import order_ingest, phone_to_e164, shipment_ingest
from orders.services.data import (
    AddressData,
    ConsentData,
    CustomerData,
    LineItemData,
    OrderData,
    RefundData,
    ShipmentData,
    ShipmentItemData,
)
from orders.services.privacy import (
    customer_data_export,
    customer_redact,
    order_data_anonymise,
    order_is_redacted,
    shop_redact,
)
from postpurchase.exceptions import DomainError

# --- Shops and signatures -----------------------------------------------------------------

# Per process and short-lived: the webhook view is hot, and a rotated secret or a deactivated
# shop may take this long to be noticed by other processes.
_shops = LocMemCache("shopify-webhook-shops", {"TIMEOUT": 30, "OPTIONS": {"MAX_ENTRIES": 1000}})


def _shop_key(domain: str) -> str:
    return hashlib.sha256(domain.encode()).hexdigest()


def shop_for_webhook(domain: str) -> Shop | None:
    """The active shop with this platform domain, or None."""
    domain = domain.strip().lower()
    if not domain or len(domain) > 255:
        return None
    shop = _shops.get(_shop_key(domain))
    if shop is None:
        try:
            shop = Shop.objects.only("pk", "domain", "shopify_webhook_secret", "is_active").get(
                domain=domain, is_active=True
            )
        except Shop.DoesNotExist:
            return None
        _shops.set(_shop_key(domain), shop)
    return shop


def shop_cache_forget(domain: str | None) -> None:
    if domain:
        _shops.delete(_shop_key(domain.strip().lower()))


@receiver([post_save, post_delete], sender=Shop, dispatch_uid="shopify-webhook-shop-cache")
def _shop_changed(sender: type[Shop], instance: Shop, **kwargs: Any) -> None:
    # Cache upkeep only, no workflow: this process sees a changed secret or status at once.
    shop_cache_forget(instance.domain)


def signature_is_valid(*, secret: str, body: bytes, signature: str) -> bool:
    """Shopify signs the raw body: base64(HMAC-SHA256(app secret, body))."""
    if not secret or not signature:
        return False
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest), signature.encode())


# --- Payload models -----------------------------------------------------------------------


def _blank_if_none(value: object) -> object:
    return "" if value is None else value


def _zero_if_none(value: object) -> object:
    return "0" if value is None else value


def _cents(value: Decimal) -> Decimal:
    # Some currencies carry three decimals; we store two and round once, here.
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


Text = Annotated[str, BeforeValidator(_blank_if_none)]
Email = Annotated[str, BeforeValidator(_blank_if_none), StringConstraints(max_length=254)]
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
OptionalId = Annotated[str, BeforeValidator(_blank_if_none), StringConstraints(max_length=64)]
Money = Annotated[Decimal, Field(ge=0, lt=10**10), AfterValidator(_cents)]
MoneyOrZero = Annotated[Money, BeforeValidator(_zero_if_none)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Quantity = Annotated[int, Field(gt=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, frozen=True)


class ShopMoney(_Model):
    amount: Money


class MoneySet(_Model):
    shop_money: ShopMoney


class MarketingConsent(_Model):
    state: Text = ""
    opt_in_level: Text = ""
    consent_updated_at: AwareDatetime | None = None
    consent_collected_from: Text = ""


class CustomerPayload(_Model):
    id: Id
    email: Email = ""
    phone: Text = ""
    first_name: Text = ""
    last_name: Text = ""
    email_marketing_consent: MarketingConsent | None = None
    sms_marketing_consent: MarketingConsent | None = None


class AddressPayload(_Model):
    name: Text = ""
    first_name: Text = ""
    last_name: Text = ""
    address1: Text = ""
    address2: Text = ""
    city: Text = ""
    province: Text = ""
    zip: Text = ""
    country_code: Text = ""
    phone: Text = ""


class LineItemPayload(_Model):
    id: Id
    title: Text
    quantity: Quantity
    price: Money
    variant_title: Text = ""
    sku: Text = ""
    total_discount: MoneyOrZero = Decimal("0.00")
    product_id: OptionalId = ""
    variant_id: OptionalId = ""
    requires_shipping: bool = True


class TransactionPayload(_Model):
    amount: Money
    kind: Text = ""
    status: Text = ""
    currency: Text = ""


class RefundPayload(_Model):
    id: Id
    created_at: AwareDatetime | None = None
    processed_at: AwareDatetime | None = None
    note: Text = ""
    transactions: list[TransactionPayload] = []


class DiscountCodePayload(_Model):
    code: Text
    amount: MoneyOrZero = Decimal("0.00")
    type: Text = ""


class OrderPayload(_Model):
    id: Id
    name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    created_at: AwareDatetime
    currency: Currency
    total_price: Money
    line_items: list[LineItemPayload]
    processed_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    cancelled_at: AwareDatetime | None = None
    cancel_reason: Text = ""
    financial_status: Text = ""
    subtotal_price: MoneyOrZero = Decimal("0.00")
    total_discounts: MoneyOrZero = Decimal("0.00")
    total_tax: MoneyOrZero = Decimal("0.00")
    total_shipping_price_set: MoneySet | None = None
    email: Email = ""
    contact_email: Email = ""
    phone: Text = ""
    customer_locale: Text = ""
    customer: CustomerPayload | None = None
    shipping_address: AddressPayload | None = None
    refunds: list[RefundPayload] = []
    discount_codes: list[DiscountCodePayload] = []


class FulfillmentLinePayload(_Model):
    id: Id
    quantity: Quantity


class FulfillmentPayload(_Model):
    id: Id
    order_id: Id
    created_at: AwareDatetime
    updated_at: AwareDatetime | None = None
    status: Text = ""
    shipment_status: Text = ""
    tracking_company: Text = ""
    tracking_number: Text = ""
    tracking_numbers: list[Text] | None = None
    tracking_url: Text = ""
    tracking_urls: list[Text] | None = None
    line_items: list[FulfillmentLinePayload] = []


class PrivacyCustomer(_Model):
    id: OptionalId = ""
    email: Email = ""
    phone: Text = ""


class DataRequest(_Model):
    id: OptionalId = ""


class ShopRedactPayload(_Model):
    shop_domain: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class CustomersRedactPayload(ShopRedactPayload):
    customer: PrivacyCustomer
    orders_to_redact: list[Id] = []


class CustomersDataRequestPayload(ShopRedactPayload):
    customer: PrivacyCustomer
    orders_requested: list[Id] = []
    data_request: DataRequest | None = None


_MODELS: dict[str, type[_Model]] = {
    "orders/create": OrderPayload,
    "orders/updated": OrderPayload,
    "orders/paid": OrderPayload,
    "orders/cancelled": OrderPayload,
    "fulfillments/create": FulfillmentPayload,
    "fulfillments/update": FulfillmentPayload,
    "customers/redact": CustomersRedactPayload,
    "customers/data_request": CustomersDataRequestPayload,
    "shop/redact": ShopRedactPayload,
}
HANDLED_TOPICS = frozenset(_MODELS)


def _payload_error(exc: ValidationError) -> PayloadError:
    first = exc.errors(include_url=False)[0]
    if first["type"] == "json_invalid":
        return PayloadError("body", f"not valid JSON ({first['ctx']['error']})")
    field = ".".join(str(part) for part in first["loc"])
    return PayloadError(field or "body", first["msg"])


def payload_parse(*, topic: str, body: bytes | str, shop: Shop) -> _Model:
    """Parse and validate a delivery of a handled topic in one pass; raises PayloadError with
    the first field at fault."""
    try:
        payload = _MODELS[topic].model_validate_json(body)
    except ValidationError as exc:
        raise _payload_error(exc) from None
    domain = (shop.domain or "").lower()
    if isinstance(payload, ShopRedactPayload) and payload.shop_domain.lower() != domain:
        # Headers are not signed, so a privacy request must name the shop it is for itself.
        raise PayloadError("shop_domain", "does not match the X-Shopify-Shop-Domain header")
    return payload


# --- Receiving ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    status: str
    error: PayloadError | None = None


def delivery_receive(
    *, shop: Shop, event_id: str, topic: str, headers: dict[str, str], body: bytes
) -> Receipt:
    """Store a signed delivery once: received (and queued) when valid, ignored when the topic
    is not one we handle, failed with the field at fault when the payload is unusable."""
    status, error, reason = WebhookStatus.RECEIVED, None, ""
    if topic not in HANDLED_TOPICS:
        status, reason = WebhookStatus.IGNORED, "topic not handled"
    else:
        try:
            payload_parse(topic=topic, body=body, shop=shop)
        except PayloadError as exc:
            status, error, reason = WebhookStatus.FAILED, exc, str(exc)
    # Postgres text cannot hold NUL; only a body that is not JSON can contain one.
    text = body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    _, created = webhook_event_store(
        provider=WebhookProvider.SHOPIFY,
        event_id=event_id,
        topic=topic,
        headers=headers,
        body=text,
        shop=shop,
        status=status,
        error=reason,
    )
    if not created:
        return Receipt(status="duplicate")
    return Receipt(status=status, error=error)


# --- Mapping to the source-neutral dataclasses --------------------------------------------

# Only an explicit answer is recorded: "not_subscribed" or "pending" in an order payload must
# not overwrite consent the customer gave elsewhere, e.g. on our preferences page.
_CONSENT_STATES = {"subscribed": True, "unsubscribed": False}


def _consent(channel: str, consent: MarketingConsent | None) -> ConsentData | None:
    if consent is None or consent.state not in _CONSENT_STATES:
        return None
    detail = consent.opt_in_level
    if consent.consent_collected_from:
        detail = f"{detail} from {consent.consent_collected_from}".strip()
    return ConsentData(
        channel=channel,
        is_granted=_CONSENT_STATES[consent.state],
        changed_at=consent.consent_updated_at,
        source="shopify",
        detail=detail[:255],
    )


def _customer_data(payload: OrderPayload, region: str | None) -> CustomerData | None:
    email = payload.email or payload.contact_email
    customer = payload.customer
    if customer is None:
        # A guest checkout: the contact on the order is the customer.
        phone = phone_to_e164(payload.phone, default_region=region)
        return CustomerData(email=email, phone=phone) if email or phone else None
    consents = (
        _consent(Channel.EMAIL, customer.email_marketing_consent),
        _consent(Channel.SMS, customer.sms_marketing_consent),
    )
    return CustomerData(
        external_id=customer.id,
        email=customer.email or email,
        phone=phone_to_e164(customer.phone, default_region=region),
        first_name=customer.first_name[:100],
        last_name=customer.last_name[:100],
        locale=payload.customer_locale[:16],
        consents=tuple(c for c in consents if c is not None),
    )


def _address_data(address: AddressPayload) -> AddressData:
    name = address.name or f"{address.first_name} {address.last_name}".strip()
    country = address.country_code.upper()
    return AddressData(
        name=name[:200],
        address1=address.address1[:255],
        address2=address.address2[:255],
        city=address.city[:120],
        province=address.province[:120],
        postcode=address.zip[:32],
        country=country if len(country) == 2 else "",
    )


def _line_item_data(item: LineItemPayload) -> LineItemData:
    return LineItemData(
        external_id=item.id,
        title=item.title[:255],
        variant_title=item.variant_title[:255],
        sku=item.sku[:100],
        quantity=item.quantity,
        unit_price=item.price,
        discount_total=item.total_discount,
        product_external_id=item.product_id,
        variant_external_id=item.variant_id,
        requires_shipping=item.requires_shipping,
    )


def _refund_data(refund: RefundPayload, currency: str) -> RefundData:
    """What went back: the refund's successful refund transactions (none listed: unknown)."""
    money = [t for t in refund.transactions if t.kind == "refund" and t.status == "success"]
    return RefundData(
        external_id=refund.id,
        amount=sum((t.amount for t in money), Decimal("0.00")) if money else None,
        currency=(money[0].currency if money else "") or currency,
        refunded_at=refund.processed_at or refund.created_at,
        note=refund.note[:255],
    )


def order_data(payload: OrderPayload) -> OrderData:
    address = payload.shipping_address or AddressPayload()
    region = address.country_code.upper() or None
    shipping = payload.total_shipping_price_set
    # Kept as Shopify says it; a state it may add one day is not guessed at.
    known = payload.financial_status in FinancialStatus.values
    financial_status = payload.financial_status if known else ""
    is_paid = financial_status in PAID_FINANCIAL_STATUSES
    return OrderData(
        external_id=payload.id,
        number=payload.name,
        placed_at=payload.processed_at or payload.created_at,
        currency=payload.currency,
        total=payload.total_price,
        subtotal=payload.subtotal_price,
        discount_total=payload.total_discounts,
        shipping_total=shipping.shop_money.amount if shipping else Decimal("0.00"),
        tax_total=payload.total_tax,
        line_items=tuple(_line_item_data(item) for item in payload.line_items),
        source=OrderSource.SHOPIFY,
        customer=_customer_data(payload, region),
        email=payload.email or payload.contact_email,
        phone=phone_to_e164(payload.phone or address.phone, default_region=region),
        shipping_address=_address_data(address),
        is_paid=is_paid,
        # Shopify does not say when the payment landed; the update that reports it is closest.
        paid_at=(payload.updated_at or payload.created_at) if is_paid else None,
        financial_status=financial_status,
        refunds=tuple(_refund_data(refund, payload.currency) for refund in payload.refunds),
        discount_codes=tuple(d.code[:100] for d in payload.discount_codes if d.code),
        cancelled_at=payload.cancelled_at,
        cancel_reason=payload.cancel_reason,
        source_updated_at=payload.updated_at,
    )


_S = TrackingStatus
_SHIPMENT_STATUSES = {
    "label_printed": _S.LABEL_CREATED,
    "label_purchased": _S.LABEL_CREATED,
    # The carrier knows of the parcel but does not have it yet.
    "confirmed": _S.LABEL_CREATED,
    "in_transit": _S.IN_TRANSIT,
    "out_for_delivery": _S.OUT_FOR_DELIVERY,
    # A missed delivery goes back on the road; our shipment states model it that way.
    "attempted_delivery": _S.IN_TRANSIT,
    # Waiting at a pickup point is the last step before the customer has it.
    "ready_for_pickup": _S.OUT_FOR_DELIVERY,
    "delivered": _S.DELIVERED,
    "failure": _S.EXCEPTION,
}


def shipment_data(payload: FulfillmentPayload) -> ShipmentData:
    number = payload.tracking_number or next(iter(payload.tracking_numbers or []), "")
    url = payload.tracking_url or next(iter(payload.tracking_urls or []), "")
    return ShipmentData(
        external_id=payload.id,
        carrier=payload.tracking_company[:64],
        tracking_number=number[:64],
        # A cut link is a broken link: better none.
        tracking_url=url if len(url) <= 500 else "",
        shipped_at=payload.created_at,
        status=_SHIPMENT_STATUSES.get(payload.shipment_status),
        status_at=payload.updated_at or payload.created_at,
        items=tuple(
            ShipmentItemData(line_item_external_id=line.id, quantity=line.quantity)
            for line in payload.line_items
        ),
    )


# --- Processing ---------------------------------------------------------------------------


class OrderNotReceivedYet(Exception):
    """A fulfillment arrived before its order. Not a DomainError: the task retries later."""


def _order_apply(shop: Shop, payload: OrderPayload) -> str:
    data = order_data(payload)
    if order_is_redacted(shop=shop, external_id=data.external_id):
        data = order_data_anonymise(data)
    if not order_ingest(shop=shop, data=data).changed:
        raise WebhookIgnored("the order already has this update or a newer one")
    return WebhookStatus.PROCESSED


_FULFILLMENT_VOID = frozenset({"cancelled", "error", "failure"})


def _fulfillment_apply(shop: Shop, payload: FulfillmentPayload) -> str:
    if payload.status in _FULFILLMENT_VOID:
        raise WebhookIgnored(f"the fulfillment is {payload.status}")
    order = Order.objects.filter(shop=shop, external_id=payload.order_id).first()
    if order is None:
        raise OrderNotReceivedYet(f"order {payload.order_id} of fulfillment {payload.id}")
    shipment_ingest(order=order, data=shipment_data(payload))
    return WebhookStatus.PROCESSED


def _customer_redact(shop: Shop, payload: CustomersRedactPayload) -> str:
    customer_redact(
        shop=shop,
        customer_external_id=payload.customer.id,
        email=payload.customer.email,
        order_external_ids=payload.orders_to_redact,
    )
    return WebhookStatus.PROCESSED


def _data_request(shop: Shop, payload: CustomersDataRequestPayload) -> str:
    customer_data_export(
        shop=shop,
        customer_external_id=payload.customer.id,
        email=payload.customer.email,
        order_external_ids=payload.orders_requested,
        request_reference=payload.data_request.id if payload.data_request else "",
    )
    return WebhookStatus.PROCESSED


def _shop_redact(shop: Shop, payload: ShopRedactPayload) -> str:
    shop_redact(shop=shop)
    transaction.on_commit(partial(shop_cache_forget, shop.domain))
    return WebhookStatus.PROCESSED


_HANDLERS: dict[str, Callable[[Shop, Any], str]] = {
    "orders/create": _order_apply,
    "orders/updated": _order_apply,
    "orders/paid": _order_apply,
    "orders/cancelled": _order_apply,
    "fulfillments/create": _fulfillment_apply,
    "fulfillments/update": _fulfillment_apply,
    "customers/redact": _customer_redact,
    "customers/data_request": _data_request,
    "shop/redact": _shop_redact,
}
_PRIVACY_TOPICS = frozenset({"customers/redact", "customers/data_request", "shop/redact"})


def process(event: WebhookEvent) -> str:
    """Apply one stored delivery. Returns processed, or raises WebhookIgnored, PayloadError or
    DomainError (permanent) or any other exception (transient: the task retries)."""
    handler = _HANDLERS.get(event.topic)
    if handler is None:
        raise WebhookIgnored(f"topic '{event.topic}' is not handled")
    shop = event.shop
    if shop is None:
        raise DomainError("the delivery has no shop")
    if not shop.is_active and event.topic not in _PRIVACY_TOPICS:
        raise WebhookIgnored("the shop is no longer active")
    return handler(shop, payload_parse(topic=event.topic, body=event.body, shop=shop))


register_processor(WebhookProvider.SHOPIFY, process)
