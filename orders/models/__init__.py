from orders.models.catalog import Product, ProductAffinity, Variant
from orders.models.customers import Channel, Consent, ConsentStatus, Customer, Purpose
from orders.models.events import DomainEvent, EventName
from orders.models.ingestion import (
    ApiKey,
    CarrierAccount,
    DataExport,
    IdempotencyRecord,
    WebhookEvent,
    WebhookProvider,
    WebhookStatus,
)
from orders.models.orders import (
    ORDER_TRANSITIONS,
    FinancialStatus,
    LineItem,
    Order,
    OrderEvent,
    OrderSource,
    OrderStatus,
)
from orders.models.shipments import (
    SHIPMENT_TRANSITIONS,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
    TrackingEvent,
    TrackingStatus,
)
from orders.models.tenancy import Shop, StaffMembership, StaffRole
from orders.models.tracking import ProblemKind, ProblemReport, ProblemStatus, TrackingPageViews

__all__ = [
    "ORDER_TRANSITIONS",
    "SHIPMENT_TRANSITIONS",
    "ApiKey",
    "CarrierAccount",
    "Channel",
    "Consent",
    "ConsentStatus",
    "Customer",
    "DataExport",
    "DomainEvent",
    "EventName",
    "FinancialStatus",
    "IdempotencyRecord",
    "LineItem",
    "Order",
    "OrderEvent",
    "OrderSource",
    "OrderStatus",
    "ProblemKind",
    "ProblemReport",
    "ProblemStatus",
    "Product",
    "ProductAffinity",
    "Purpose",
    "Shipment",
    "ShipmentItem",
    "ShipmentStatus",
    "Shop",
    "StaffMembership",
    "StaffRole",
    "TrackingEvent",
    "TrackingPageViews",
    "TrackingStatus",
    "Variant",
    "WebhookEvent",
    "WebhookProvider",
    "WebhookStatus",
]
