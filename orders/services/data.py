"""Plain, source-neutral descriptions of what a shop tells us. Every ingestion path (Shopify
webhooks, the REST API, CSV import, carrier updates) maps its own format to these, and one set of
services turns them into rows."""

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class AddressData:
    name: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    province: str = ""
    postcode: str = ""
    country: str = ""


@dataclass(frozen=True)
class ConsentData:
    channel: str
    is_granted: bool
    changed_at: datetime | None = None
    source: str = ""
    detail: str = ""
    # "marketing" unless said otherwise: what shops and Shopify report is marketing consent.
    purpose: str = "marketing"


@dataclass(frozen=True)
class CustomerData:
    external_id: str = ""
    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    birthday: date | None = None
    timezone: str = ""
    locale: str = ""
    consents: tuple[ConsentData, ...] = ()


@dataclass(frozen=True)
class LineItemData:
    external_id: str
    title: str
    quantity: int
    unit_price: Decimal
    sku: str = ""
    variant_title: str = ""
    discount_total: Decimal = Decimal("0.00")
    product_external_id: str = ""
    variant_external_id: str = ""
    requires_shipping: bool = True


@dataclass(frozen=True)
class RefundData:
    """Money the shop gave back on an order, as its platform recorded it."""

    external_id: str
    # None when the source does not say how much (no successful refund transaction listed).
    amount: Decimal | None = None
    currency: str = ""
    refunded_at: datetime | None = None
    note: str = ""


@dataclass(frozen=True)
class OrderData:
    external_id: str
    number: str
    placed_at: datetime
    currency: str
    total: Decimal
    line_items: tuple[LineItemData, ...]
    source: str
    subtotal: Decimal = Decimal("0.00")
    discount_total: Decimal = Decimal("0.00")
    shipping_total: Decimal = Decimal("0.00")
    tax_total: Decimal = Decimal("0.00")
    customer: CustomerData | None = None
    email: str = ""
    phone: str = ""
    shipping_address: AddressData = field(default_factory=AddressData)
    is_paid: bool = False
    paid_at: datetime | None = None
    # The payment state as the source reports it (a FinancialStatus value); "" when it does
    # not say, and then only `is_paid` counts.
    financial_status: str = ""
    refunds: tuple[RefundData, ...] = ()
    # The discount codes entered at checkout, as typed (a loyalty reward's code among them).
    discount_codes: tuple[str, ...] = ()
    cancelled_at: datetime | None = None
    cancel_reason: str = ""
    # When the source last changed the order; an older update than the one applied is ignored.
    source_updated_at: datetime | None = None

    def fingerprint(self) -> str:
        raw = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class TrackingEventData:
    status: str
    occurred_at: datetime
    description: str = ""
    location: str = ""
    source: str = ""
    # The provider's own id for the scan when it has one; otherwise derived from the content.
    external_id: str = ""

    def dedupe_key(self) -> str:
        if self.external_id:
            return self.external_id[:64]
        raw = f"{self.status}|{self.occurred_at.isoformat()}|{self.description}|{self.location}"
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class ShipmentItemData:
    line_item_external_id: str
    quantity: int


@dataclass(frozen=True)
class ShipmentData:
    external_id: str = ""
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    estimated_delivery_date: date | None = None
    shipped_at: datetime | None = None
    # The carrier's latest status as the source reports it, already normalised; None if unknown.
    status: str | None = None
    status_at: datetime | None = None
    items: tuple[ShipmentItemData, ...] = ()
    events: tuple[TrackingEventData, ...] = ()
