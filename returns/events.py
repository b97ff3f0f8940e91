"""The domain events `returns` publishes, one per transition of a return, declared on the
kernel's bus (`postpurchase.events`). Each carries the return's, order's and customer's ids, its
new status and when it moved (`returns.services.requests.return_event_publish`):
shop_id, return_id, order_id, customer_id, status, at (ISO 8601).

`return_resolved` also carries `items`: [{"return_item_id", "line_item_id", "quantity",
"resolution"}], one per item of the return, `resolution` a `returns.models.Resolution` value
("refund", "exchange" or "store_credit"): what a subscriber needs to take back what the
returned quantity earned (loyalty's points) without reading returns' tables."""

from django.db import models

from postpurchase import events


class ReturnEventName(models.TextChoices):
    REQUESTED = "return_requested"
    APPROVED = "return_approved"
    REJECTED = "return_rejected"
    IN_TRANSIT = "return_in_transit"
    RECEIVED = "return_received"
    INSPECTED = "return_inspected"
    RESOLVED = "return_resolved"
    CANCELLED = "return_cancelled"


events.declare(ReturnEventName.values, app="returns")
