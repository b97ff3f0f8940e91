"""Realistic `orders/create` deliveries for the demo shop, built from its own data: one signed
body for the intake load, and a flash sale of distinct orders for the processing measurement."""

import base64
import hashlib
import hmac
import json
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ORDER_ID_BASE = 5_990_000_000_000


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _money_set(value: Decimal) -> dict:
    amount = {"amount": _money(value), "currency_code": "USD"}
    return {"shop_money": amount, "presentment_money": amount}


def sign(secret: str, body: bytes) -> str:
    """Shopify's signature: base64(HMAC-SHA256(app secret, raw body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _line_item(number: int, n: int, variant: Mapping[str, Any]) -> dict:
    price = Decimal(variant["price"])
    # Shopify's line item ids are unique across the shop, not only within the order.
    item_id = 14_100_000_000_000 + number * 10 + n
    return {
        "id": item_id,
        "admin_graphql_api_id": f"gid://shopify/LineItem/{item_id}",
        "fulfillable_quantity": 1,
        "fulfillment_service": "manual",
        "fulfillment_status": None,
        "gift_card": False,
        "grams": 450,
        "name": f"{variant['product_title']} - {variant['title']}",
        "price": _money(price),
        "price_set": _money_set(price),
        "product_exists": True,
        "product_id": int(variant["product_external_id"]),
        "properties": [],
        "quantity": 1,
        "requires_shipping": True,
        "sku": variant["sku"],
        "taxable": True,
        "title": variant["product_title"],
        "total_discount": "0.00",
        "total_discount_set": _money_set(Decimal(0)),
        "variant_id": int(variant["external_id"]),
        "variant_inventory_management": "shopify",
        "variant_title": variant["title"],
        "vendor": "Northwind Goods",
        "tax_lines": [],
        "discount_allocations": [],
    }


def _address(customer: Mapping[str, Any]) -> dict:
    return {
        "first_name": customer["first_name"],
        "last_name": customer["last_name"],
        "name": f"{customer['first_name']} {customer['last_name']}",
        "address1": "1200 Maple Ave",
        "address2": "Apt 4B",
        "city": "Columbus",
        "province": "Ohio",
        "province_code": "OH",
        "zip": "43215",
        "country": "United States",
        "country_code": "US",
        "phone": customer["phone"] or None,
        "company": None,
        "latitude": None,
        "longitude": None,
    }


def _customer(customer: Mapping[str, Any], at: str) -> dict:
    return {
        "id": int(customer["external_id"]),
        "admin_graphql_api_id": f"gid://shopify/Customer/{customer['external_id']}",
        "email": customer["email"],
        "phone": customer["phone"] or None,
        "first_name": customer["first_name"],
        "last_name": customer["last_name"],
        "state": "enabled",
        "verified_email": True,
        "currency": "USD",
        "tags": "",
        "note": None,
        "created_at": at,
        "updated_at": at,
        "email_marketing_consent": {
            "state": "subscribed",
            "opt_in_level": "single_opt_in",
            "consent_updated_at": at,
        },
        "sms_marketing_consent": None,
    }


def orders_create_body(
    *, customer: Mapping[str, Any], variants: Sequence[Mapping[str, Any]], number: int
) -> bytes:
    """The JSON Shopify posts for a new paid order (fields as in its documented example)."""
    at = datetime.now(tz=UTC).replace(microsecond=0).isoformat()
    order_id = ORDER_ID_BASE + number
    token = hashlib.sha256(f"order-{number}".encode()).hexdigest()
    subtotal = sum((Decimal(v["price"]) for v in variants), Decimal(0))
    shipping = Decimal("0.00") if subtotal >= 75 else Decimal("5.95")
    tax = (subtotal * Decimal("0.075")).quantize(CENT, rounding=ROUND_HALF_UP)
    total = subtotal + shipping + tax
    payload = {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{number}",
        "number": number - 1000,
        "order_number": number,
        "confirmation_number": token[:9].upper(),
        "token": token[:32],
        "email": customer["email"],
        "contact_email": customer["email"],
        "phone": None,
        "created_at": at,
        "processed_at": at,
        "updated_at": at,
        "currency": "USD",
        "presentment_currency": "USD",
        "customer_locale": "en-US",
        "financial_status": "paid",
        "fulfillment_status": None,
        "confirmed": True,
        "test": False,
        "taxes_included": False,
        "estimated_taxes": False,
        "buyer_accepts_marketing": True,
        "source_name": "web",
        "tags": "",
        "note": None,
        "note_attributes": [],
        "payment_gateway_names": ["shopify_payments"],
        "subtotal_price": _money(subtotal),
        "subtotal_price_set": _money_set(subtotal),
        "total_line_items_price": _money(subtotal),
        "total_line_items_price_set": _money_set(subtotal),
        "total_discounts": "0.00",
        "total_discounts_set": _money_set(Decimal(0)),
        "total_shipping_price_set": _money_set(shipping),
        "total_tax": _money(tax),
        "total_tax_set": _money_set(tax),
        "total_price": _money(total),
        "total_price_set": _money_set(total),
        "total_outstanding": "0.00",
        "total_weight": 450 * len(variants),
        "discount_codes": [],
        "tax_lines": [
            {
                "price": _money(tax),
                "rate": 0.075,
                "title": "OH State Tax",
                "price_set": _money_set(tax),
            }
        ],
        "shipping_lines": [
            {
                "id": 4_400_000_000_000 + number,
                "code": "Standard",
                "title": "Standard Shipping",
                "source": "shopify",
                "price": _money(shipping),
                "price_set": _money_set(shipping),
                "discounted_price": _money(shipping),
                "tax_lines": [],
            }
        ],
        "billing_address": _address(customer),
        "shipping_address": _address(customer),
        "customer": _customer(customer, at),
        "line_items": [_line_item(number, n, v) for n, v in enumerate(variants, start=1)],
        "fulfillments": [],
        "refunds": [],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


_FIRST_NAMES = ("Ava", "Liam", "Maya", "Noah", "Zoe", "Omar", "Ines", "Kenji", "Lena", "Diego")
_LAST_NAMES = ("Park", "Okafor", "Novak", "Reyes", "Schmidt", "Tanaka", "Byrne", "Haddad")


@dataclass(frozen=True)
class FlashOrder:
    external_id: str
    body: bytes
    line_items: int


def flash_sale_orders(
    *,
    count: int,
    first_number: int,
    variants: Sequence[Mapping[str, Any]],
    returning: Sequence[Mapping[str, Any]],
    seed: int = 7,
) -> Iterator[FlashOrder]:
    """`count` distinct orders/create bodies: each its own order id, name and customer, with one
    to three line items from the shop's catalogue. The first customers are the `returning`
    ones (existing customers, so that path is exercised too), the rest are new."""
    rng = random.Random(seed)
    for i in range(count):
        number = first_number + i
        if i < len(returning):
            customer = returning[i]
        else:
            first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
            customer = {
                "external_id": str(7_770_000_000_000 + number),
                "email": f"{first}.{last}.{number}@example.com".lower(),
                # 555-0100 to 555-0199 is the North American range reserved for fiction.
                "phone": f"+1614555{rng.randrange(100, 200):04d}" if rng.random() < 0.6 else "",
                "first_name": first,
                "last_name": last,
            }
        chosen = rng.sample(variants, k=rng.choice((1, 1, 2, 2, 3)))
        body = orders_create_body(customer=customer, variants=chosen, number=number)
        yield FlashOrder(str(ORDER_ID_BASE + number), body, len(chosen))
