"""Privacy requests: erase one customer's personal data, export everything held on them, and
erase a whole shop's customers. Shopify's mandatory compliance webhooks call these; any other
source may too.

Erasure blanks personal fields in place instead of deleting rows, so that anonymous figures
(order totals, items, dates, countries, delivery times) survive for the merchant's reports.
A redacted customer also loses its external id: it is a stable key back to the person in the
shop's own records, and `customer_upsert` never matches a redacted customer anyway, so keeping
it would only make the person's next order collide with the (shop, external_id) constraint.
A repeated request therefore finds nothing left to erase, which is what makes it idempotent.
"""

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import reduce
from operator import or_
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from orders.events import OrderEventName
from orders.models import (
    Consent,
    Customer,
    DataExport,
    Order,
    OrderEvent,
    Shipment,
    Shop,
    WebhookEvent,
    WebhookStatus,
)
from orders.services.data import AddressData, OrderData
from orders.tracking.cache import tracking_page_forget
from postpurchase import events

_CUSTOMER_ERASED: dict[str, Any] = {
    "external_id": "",
    "email": "",
    "phone": "",
    "first_name": "",
    "last_name": "",
    "birthday": None,
    "timezone": "",
    "locale": "",
}
# Country and province stay: they are coarse enough to be anonymous and feed regional figures.
_ORDER_ERASED: dict[str, Any] = {
    "email": "",
    "phone": "",
    "shipping_name": "",
    "shipping_address1": "",
    "shipping_address2": "",
    "shipping_city": "",
    "shipping_postcode": "",
}


@dataclass(frozen=True)
class Erased:
    customer_ids: tuple[int, ...]
    order_ids: tuple[int, ...]


def _any(conditions: Iterable[Q]) -> Q:
    # An empty OR matches nothing, never everything.
    return reduce(or_, conditions, Q(pk__in=[]))


def _customers_of(shop: Shop, external_id: str, email: str) -> QuerySet[Customer]:
    by_email = Q(email__iexact=email) if email else Q(pk__in=[])
    if external_id:
        # Someone known by another external id who shares the address is another person.
        by_email &= Q(external_id="")
    by_id = Q(external_id=external_id) if external_id else Q(pk__in=[])
    return Customer.objects.filter(shop=shop).filter(by_id | by_email)


def _orders_of(
    shop: Shop, customer_ids: Sequence[int], email: str, order_external_ids: Sequence[str]
) -> QuerySet[Order]:
    match = Q(customer_id__in=customer_ids) | Q(external_id__in=order_external_ids)
    if email:
        # Guest checkouts carry the address on the order only.
        match |= Q(customer__isnull=True, email__iexact=email)
    return Order.objects.filter(shop=shop).filter(match)


def _erase(shop: Shop, customers: Sequence[Customer], orders: QuerySet[Order]) -> Erased:
    now = timezone.now()
    customer_ids = tuple(c.pk for c in customers)
    order_ids = tuple(
        orders.exclude(events__kind=OrderEvent.Kind.REDACTED).values_list("pk", flat=True)
    )
    Customer.objects.filter(pk__in=customer_ids).update(
        **_CUSTOMER_ERASED, redacted_at=now, updated_at=now
    )
    Consent.objects.filter(customer_id__in=customer_ids).delete()
    Order.objects.filter(pk__in=order_ids).update(**_ORDER_ERASED, updated_at=now)
    tracking_page_forget(order_ids)  # `update()` sends no signal: no cached page may keep them
    OrderEvent.objects.bulk_create(
        OrderEvent(shop=shop, order_id=pk, kind=OrderEvent.Kind.REDACTED, note="on request")
        for pk in order_ids
    )
    for customer_id in customer_ids:
        events.publish(
            name=OrderEventName.CUSTOMER_REDACTED, shop_id=shop.pk, customer_id=customer_id
        )
    return Erased(customer_ids=customer_ids, order_ids=order_ids)


def _copies_erase(shop: Shop, *, emails: set[str], ids: set[str]) -> None:
    """Raw copies hold the same personal data: webhook bodies as they arrived and earlier
    exports. Deliveries still waiting to be processed keep their body; they need it."""
    DataExport.objects.filter(shop=shop).filter(
        Q(customer_external_id__in=ids) | _any(Q(customer_email__iexact=e) for e in emails)
    ).delete()
    # An id must stand alone: order "1001" is not mentioned by a body that holds "31001".
    mentions = _any(
        [
            *(Q(body__icontains=e) for e in emails),
            *(Q(body__regex=rf"(^|[^0-9A-Za-z]){re.escape(i)}([^0-9A-Za-z]|$)") for i in ids),
        ]
    )
    # A substring scan of the shop's deliveries: slow, but privacy requests are rare.
    WebhookEvent.objects.filter(shop=shop).exclude(status=WebhookStatus.RECEIVED).exclude(
        body=""
    ).filter(mentions).update(body="", updated_at=timezone.now())


@transaction.atomic
def customer_redact(
    *,
    shop: Shop,
    customer_external_id: str = "",
    email: str = "",
    order_external_ids: Sequence[str] = (),
) -> Erased:
    """Erase a customer's personal data, their consents, and the contact and address on their
    orders and on the orders listed; keep the figures. Publishes `customer_redacted` once per
    customer so that other apps erase what they hold. A repeat changes nothing."""
    customers = list(
        _customers_of(shop, customer_external_id, email)
        .filter(redacted_at__isnull=True)
        .select_for_update()
    )
    orders = _orders_of(shop, [c.pk for c in customers], email, order_external_ids)
    erased = _erase(shop, customers, orders)
    # The instances still hold the values the update just blanked in the database.
    emails = {e.lower() for e in [email, *(c.email for c in customers)] if e}
    ids = {i for i in [customer_external_id, *(c.external_id for c in customers)] if i}
    order_refs = Order.objects.filter(pk__in=erased.order_ids).values_list("external_id", flat=True)
    _copies_erase(shop, emails=emails, ids=ids | set(order_refs))
    return erased


@transaction.atomic
def shop_redact(*, shop: Shop) -> Erased:
    """Erase every customer of the shop and every order's contact and address, then
    deactivate the shop so that its webhooks are no longer accepted."""
    shop = Shop.objects.select_for_update().get(pk=shop.pk)
    customers = list(Customer.objects.filter(shop=shop, redacted_at__isnull=True))
    erased = _erase(shop, customers, Order.objects.filter(shop=shop))
    DataExport.objects.filter(shop=shop).delete()
    WebhookEvent.objects.filter(shop=shop).exclude(status=WebhookStatus.RECEIVED).exclude(
        body=""
    ).update(body="", updated_at=timezone.now())
    if shop.is_active or shop.redacted_at is None:
        shop.is_active = False
        shop.redacted_at = shop.redacted_at or timezone.now()
        shop.save(update_fields=["is_active", "redacted_at", "updated_at"])
    return erased


def order_is_redacted(*, shop: Shop, external_id: str) -> bool:
    return OrderEvent.objects.filter(
        shop=shop, order__external_id=external_id, kind=OrderEvent.Kind.REDACTED
    ).exists()


def order_data_anonymise(data: OrderData) -> OrderData:
    """The order without who placed it or where it went, for an update that the shop sends
    after the order was erased: its status and figures still apply, its contact must not."""
    address = data.shipping_address
    return replace(
        data,
        customer=None,
        email="",
        phone="",
        shipping_address=AddressData(province=address.province, country=address.country),
    )


def _values(obj: object, names: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


def _customer_export(customer: Customer) -> dict[str, Any]:
    profile = _values(
        customer,
        ("external_id", "email", "phone", "first_name", "last_name", "birthday", "timezone"),
    )
    return {
        **profile,
        **_values(customer, ("locale", "created_at", "redacted_at")),
        "consents": [
            _values(c, ("channel", "status", "changed_at", "source", "detail"))
            for c in customer.consents.all()
        ],
    }


def _shipment_export(shipment: Shipment) -> dict[str, Any]:
    return {
        **_values(
            shipment,
            ("external_id", "carrier", "tracking_number", "tracking_url", "status"),
        ),
        **_values(shipment, ("estimated_delivery_date", "shipped_at", "delivered_at")),
        "items": [
            {"line_item": item.line_item.external_id, "quantity": item.quantity}
            for item in shipment.items.all()
        ],
        "tracking_events": [
            _values(e, ("status", "description", "location", "occurred_at", "source"))
            for e in shipment.events.all()
        ],
    }


_ORDER_EXPORT_FIELDS = (
    "external_id",
    "number",
    "status",
    "financial_status",
    "currency",
    "subtotal",
    "discount_total",
    "shipping_total",
    "tax_total",
    "total",
    "placed_at",
    "paid_at",
    "cancelled_at",
    "cancel_reason",
    "delivered_at",
    "email",
    "phone",
    "shipping_name",
    "shipping_address1",
    "shipping_address2",
    "shipping_city",
    "shipping_province",
    "shipping_postcode",
    "shipping_country",
)
_LINE_EXPORT_FIELDS = (
    "external_id",
    "title",
    "variant_title",
    "sku",
    "quantity",
    "unit_price",
    "discount_total",
)


def _order_export(order: Order) -> dict[str, Any]:
    return {
        **_values(order, _ORDER_EXPORT_FIELDS),
        "line_items": [_values(li, _LINE_EXPORT_FIELDS) for li in order.line_items.all()],
        "shipments": [_shipment_export(s) for s in order.shipments.all()],
        "timeline": [
            _values(e, ("kind", "from_status", "to_status", "note", "at"))
            for e in order.events.all()
        ],
    }


@transaction.atomic
def customer_data_export(
    *,
    shop: Shop,
    customer_external_id: str = "",
    email: str = "",
    order_external_ids: Sequence[str] = (),
    request_reference: str = "",
) -> DataExport:
    """Write down everything held on a customer (profile, consents, orders with their items,
    shipments, tracking and timeline) as one JSON document. A repeat of the same request
    reference rewrites the same export."""
    customers = list(_customers_of(shop, customer_external_id, email).prefetch_related("consents"))
    orders = (
        _orders_of(shop, [c.pk for c in customers], email, order_external_ids)
        .order_by("placed_at", "pk")
        .prefetch_related(
            "line_items", "shipments__items__line_item", "shipments__events", "events"
        )
    )
    document = {
        "generated_at": timezone.now(),
        "shop": {"name": shop.name, "domain": shop.domain},
        "request": {
            "reference": request_reference,
            "customer_external_id": customer_external_id,
            "email": email,
            "order_external_ids": list(order_external_ids),
        },
        "customers": [_customer_export(c) for c in customers],
        "orders": [_order_export(o) for o in orders],
    }
    values = {
        "customer_external_id": customer_external_id[:64],
        "customer_email": email,
        # Through the encoder once, so that decimals and dates are stored as plain strings.
        "data": json.loads(json.dumps(document, cls=DjangoJSONEncoder)),
    }
    if request_reference:
        export, _ = DataExport.objects.update_or_create(
            shop=shop, request_reference=request_reference[:64], defaults=values
        )
        return export
    return DataExport.objects.create(shop=shop, **values)
