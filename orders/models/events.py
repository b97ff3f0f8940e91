from django.db import models

from orders.models.tenancy import Shop


class EventName(models.TextChoices):
    ORDER_PLACED = "order_placed"
    ORDER_PAID = "order_paid"
    ORDER_CANCELLED = "order_cancelled"
    SHIPMENT_CREATED = "shipment_created"
    SHIPMENT_STATUS_CHANGED = "shipment_status_changed"
    ORDER_DELIVERED = "order_delivered"
    CUSTOMER_REDACTED = "customer_redacted"
    # Published by the returns app, one per transition of a return.
    RETURN_REQUESTED = "return_requested"
    RETURN_APPROVED = "return_approved"
    RETURN_REJECTED = "return_rejected"
    RETURN_IN_TRANSIT = "return_in_transit"
    RETURN_RECEIVED = "return_received"
    RETURN_INSPECTED = "return_inspected"
    RETURN_RESOLVED = "return_resolved"
    RETURN_CANCELLED = "return_cancelled"


class DomainEvent(models.Model):
    """A published domain event: written in the publisher's transaction (an outbox), delivered
    to each subscriber by Celery after commit, and re-delivered by beat if a task was lost."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=48, choices=EventName.choices)
    payload = models.JSONField(default=dict)
    occurred_at = models.DateTimeField(auto_now_add=True)
    # Subscribers that have handled this event; the rest are still owed it.
    delivered_to = models.JSONField(default=list, blank=True)
    is_fully_delivered = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(
                fields=["occurred_at"],
                condition=models.Q(is_fully_delivered=False),
                name="domainevent_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.payload}"
