"""Validated API input to the source-neutral dataclasses the services take, and a stored order
back to API input so that a partial update can be merged over it."""

from typing import Any

from rest_framework.exceptions import ValidationError

from orders.models import PAID_FINANCIAL_STATUSES, Customer, Order
from orders.models import OrderSource as Source
from orders.models.customers import CUSTOMER_PROFILE_FIELDS
from orders.services.data import (
    AddressData,
    ConsentData,
    CustomerData,
    LineItemData,
    OrderData,
    ShipmentData,
    ShipmentItemData,
    TrackingEventData,
)

Values = dict[str, Any]
_ADDRESS_FIELDS = ("name", "address1", "address2", "city", "province", "postcode", "country")
_LINE_FIELDS = (
    "external_id",
    "title",
    "quantity",
    "unit_price",
    "discount_total",
    "sku",
    "variant_title",
    "product_external_id",
    "variant_external_id",
    "requires_shipping",
)
_TOTALS = ("subtotal", "discount_total", "shipping_total", "tax_total", "total")
_REQUIRED_NEW_LINE = ("title", "quantity", "unit_price")
REQUIRED = "This field is required."


def _present(values: Values, names: tuple[str, ...]) -> Values:
    return {name: values[name] for name in names if values.get(name) is not None}


def customer_data(values: Values) -> CustomerData:
    consents = tuple(
        ConsentData(
            channel=consent["channel"],
            is_granted=consent["is_granted"],
            changed_at=consent.get("changed_at"),
            source=Source.API,
        )
        for consent in values.get("consents", ())
    )
    return CustomerData(**_present(values, CUSTOMER_PROFILE_FIELDS), consents=consents)


def order_data(values: Values) -> OrderData:
    """The OrderData for a complete, validated order body."""
    customer = customer_data(values["customer"]) if values.get("customer") else None
    if customer is None and values.get("email"):
        # An order names its buyer by its email alone: they are the shop's customer of that
        # address (found, else created), as a Shopify order's buyer is.
        customer = CustomerData(email=values["email"], phone=values.get("phone") or "")
    financial_status = values.get("financial_status", "")
    return OrderData(
        external_id=values["external_id"],
        number=values["number"],
        placed_at=values["placed_at"],
        currency=values["currency"],
        line_items=tuple(
            LineItemData(**_present(item, _LINE_FIELDS)) for item in values["line_items"]
        ),
        source=Source.API,
        # The order's own contact defaults to its customer's, which the tracking page matches on.
        email=values.get("email") or (customer.email if customer else ""),
        phone=values.get("phone") or (customer.phone if customer else ""),
        customer=customer,
        shipping_address=AddressData(
            **_present(values.get("shipping_address", {}), _ADDRESS_FIELDS)
        ),
        is_paid=bool(values.get("is_paid"))
        or values.get("paid_at") is not None
        or financial_status in PAID_FINANCIAL_STATUSES,
        paid_at=values.get("paid_at"),
        financial_status=financial_status,
        source_updated_at=values.get("source_updated_at"),
        discount_codes=tuple(values.get("discount_codes") or ()),
        **_present(values, _TOTALS),
    )


def _customer_values(customer: Customer) -> Values:
    return {name: getattr(customer, name) for name in CUSTOMER_PROFILE_FIELDS}


def order_values(order: Order) -> Values:
    """A stored order in the shape of a validated order body (with its line items prefetched)."""
    values: Values = {name: getattr(order, name) for name in ("external_id", "number", "placed_at")}
    values.update({name: getattr(order, name) for name in (*_TOTALS, "currency", "email", "phone")})
    values["shipping_address"] = {
        name: getattr(order, f"shipping_{name}") for name in _ADDRESS_FIELDS
    }
    values["line_items"] = [
        {
            **{name: getattr(line, name) for name in _LINE_FIELDS if hasattr(line, name)},
            "product_external_id": line.product.external_id if line.product else "",
            "variant_external_id": line.variant.external_id if line.variant else "",
        }
        for line in order.line_items.all()
    ]
    values["is_paid"] = order.paid_at is not None
    values["paid_at"] = order.paid_at
    values["source_updated_at"] = order.source_updated_at
    values["discount_codes"] = list(order.discount_codes)
    if order.customer is not None:
        values["customer"] = _customer_values(order.customer)
    return values


def _line_items_merged(stored: list[Values], patch: list[Values]) -> list[Values]:
    """Line items matched by external id: a known one takes the fields given, a new one must
    be complete. Items left out of the patch stay as they are."""
    by_id = {item["external_id"]: item for item in stored}
    errors: dict[int, Values] = {}
    for index, item in enumerate(patch):
        external_id = item.get("external_id")
        if not external_id:
            errors[index] = {"external_id": [REQUIRED]}
        elif external_id in by_id:
            by_id[external_id] = {**by_id[external_id], **item}
        elif missing := [name for name in _REQUIRED_NEW_LINE if name not in item]:
            errors[index] = {name: [f"{REQUIRED} (for a new line item)"] for name in missing}
        else:
            by_id[external_id] = item
    if errors:
        # Errors by index: DRF's own form for a list's; its stubs know only str keys.
        raise ValidationError({"line_items": errors})  # type: ignore[dict-item]
    return list(by_id.values())


def order_values_merged(order: Order, patch: Values) -> Values:
    """The stored order with a validated partial body laid over it. Nested objects merge field
    by field; the customer is only touched when the patch names it."""
    if "external_id" in patch and patch["external_id"] != order.external_id:
        raise ValidationError({"external_id": ["An order's external id cannot change."]})
    stored = order_values(order)
    merged = {**stored, **patch}
    merged["shipping_address"] = {**stored["shipping_address"], **patch.get("shipping_address", {})}
    if "line_items" in patch:
        merged["line_items"] = _line_items_merged(stored["line_items"], patch["line_items"])
    if patch.get("customer"):
        merged["customer"] = {**stored.get("customer", {}), **patch["customer"]}
    else:
        merged.pop("customer", None)
    return merged


def shipment_data(values: Values) -> ShipmentData:
    simple = ("external_id", "carrier", "tracking_number", "tracking_url")
    return ShipmentData(
        **_present(values, simple),
        estimated_delivery_date=values.get("estimated_delivery_date"),
        shipped_at=values.get("shipped_at"),
        items=tuple(
            ShipmentItemData(
                line_item_external_id=item["line_item"].external_id, quantity=item["quantity"]
            )
            for item in values.get("items", ())
        ),
    )


def tracking_event_data(values: Values) -> TrackingEventData:
    return TrackingEventData(
        status=values["status"],
        occurred_at=values["occurred_at"],
        description=values.get("description", ""),
        location=values.get("location", ""),
        external_id=values.get("external_id", ""),
        source=Source.API,
    )
