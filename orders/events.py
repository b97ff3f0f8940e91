"""The domain events `orders` publishes, declared on the kernel's bus (`postpurchase.events`).

Services publish them with `postpurchase.events.publish(name=OrderEventName.…, shop_id=…,
**ids)`; other apps subscribe by name from their `ready()`. Payloads carry ids, never models.
"""

from django.db import models

from postpurchase import events


class OrderEventName(models.TextChoices):
    ORDER_PLACED = "order_placed"
    ORDER_PAID = "order_paid"
    ORDER_CANCELLED = "order_cancelled"
    SHIPMENT_CREATED = "shipment_created"
    SHIPMENT_STATUS_CHANGED = "shipment_status_changed"
    # Once every shipment of the order has arrived.
    ORDER_DELIVERED = "order_delivered"
    CUSTOMER_REDACTED = "customer_redacted"
    # A customer reported a problem from the tracking page (`problem_report_create`; payload:
    # ids and the kind).
    PROBLEM_REPORTED = "problem_reported"
    # A customer's birthday was entered or changed (`customer_upsert`): customer_id, birthday
    # (ISO date or None), changed_at (ISO 8601). Loyalty gives no birthday reward soon after.
    CUSTOMER_BIRTHDAY_CHANGED = "customer_birthday_changed"
    # Money went back on an order: a refund the platform listed for the first time, or its
    # payment state moved to partially refunded, refunded or voided (payload: order_id,
    # customer_id, financial_status, refunds_added). A voided or wholly refunded payment undoes
    # what the sale earned (loyalty's pending points).
    ORDER_REFUNDED = "order_refunded"


events.declare(OrderEventName.values, app="orders")
