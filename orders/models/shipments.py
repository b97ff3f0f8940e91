from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.models.orders import LineItem, Order, OrderEvent
from orders.models.tenancy import Shop
from postpurchase.models import TimeStampedModel


class TrackingStatus(models.TextChoices):
    """Carrier scans normalised to the stages a customer understands."""

    LABEL_CREATED = "label_created", _("Label created")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Exception")
    RETURNED_TO_SENDER = "returned_to_sender", _("Returned to sender")


class ShipmentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    LABEL_CREATED = "label_created", _("Label created")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Exception")
    RETURNED_TO_SENDER = "returned_to_sender", _("Returned to sender")


# The chip tone of each status on the dashboard (postpurchase.status_tones).
SHIPMENT_STATUS_TONES: dict[str, str] = {
    ShipmentStatus.PENDING: "neutral",
    ShipmentStatus.LABEL_CREATED: "neutral",
    ShipmentStatus.IN_TRANSIT: "info",
    ShipmentStatus.OUT_FOR_DELIVERY: "info",
    ShipmentStatus.DELIVERED: "success",
    ShipmentStatus.EXCEPTION: "attention",
    ShipmentStatus.RETURNED_TO_SENDER: "critical",
}


_S = ShipmentStatus
# Carriers skip scans, so forward jumps are allowed; a failed delivery attempt goes back from
# out_for_delivery to in_transit, and an exception can clear to any later stage.
SHIPMENT_TRANSITIONS: dict[str, set[str]] = {
    _S.PENDING: {
        _S.LABEL_CREATED,
        _S.IN_TRANSIT,
        _S.OUT_FOR_DELIVERY,
        _S.DELIVERED,
        _S.EXCEPTION,
    },
    _S.LABEL_CREATED: {_S.IN_TRANSIT, _S.OUT_FOR_DELIVERY, _S.DELIVERED, _S.EXCEPTION},
    _S.IN_TRANSIT: {_S.OUT_FOR_DELIVERY, _S.DELIVERED, _S.EXCEPTION, _S.RETURNED_TO_SENDER},
    _S.OUT_FOR_DELIVERY: {_S.IN_TRANSIT, _S.DELIVERED, _S.EXCEPTION, _S.RETURNED_TO_SENDER},
    _S.EXCEPTION: {_S.IN_TRANSIT, _S.OUT_FOR_DELIVERY, _S.DELIVERED, _S.RETURNED_TO_SENDER},
    _S.DELIVERED: set(),
    _S.RETURNED_TO_SENDER: set(),
}


class Shipment(TimeStampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    external_id = models.CharField(max_length=64, blank=True)
    carrier = models.CharField(max_length=64, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    tracking_url = models.URLField(max_length=500, blank=True)
    status = models.CharField(
        max_length=24, choices=ShipmentStatus.choices, default=ShipmentStatus.PENDING
    )
    # The carrier's latest estimate: it moves as the parcel does.
    estimated_delivery_date = models.DateField(null=True, blank=True)
    # The first estimate the shipment ever had, set once and never moved: what the customer was
    # promised, against which a delivery is late or on time (a carrier that pushes its
    # estimate back does not make a late parcel punctual).
    first_estimated_delivery_date = models.DateField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "external_id"],
                condition=~Q(external_id=""),
                name="uniq_shipment_shop_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["tracking_number"]),
            models.Index(fields=["shop", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}".strip() or f"Shipment {self.pk}"

    @property
    def is_delivered(self) -> bool:
        return self.status == ShipmentStatus.DELIVERED

    def record_transition(self, *, from_status: str, to_status: str, actor, note: str) -> None:
        OrderEvent.objects.create(
            shop_id=self.shop_id,
            order_id=self.order_id,
            kind=OrderEvent.Kind.SHIPMENT_STATUS,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            note=note,
            data={"shipment_id": self.pk, "tracking_number": self.tracking_number},
        )


class ShipmentItem(models.Model):
    """Which line items, and how many of each, travel in a shipment."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="items")
    line_item = models.ForeignKey(LineItem, on_delete=models.CASCADE, related_name="shipped")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "line_item"], name="uniq_shipmentitem_shipment_line"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shipmentitem_qty_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × line {self.line_item_id}"


class TrackingEvent(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=24, choices=TrackingStatus.choices)
    description = models.CharField(max_length=500, blank=True)
    location = models.CharField(max_length=255, blank=True)
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=32, blank=True)
    # Same scan reported twice (a webhook redelivered, a tracker re-sent) is stored once.
    dedupe_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "dedupe_key"], name="uniq_trackingevent_shipment_dedupe"
            ),
        ]
        indexes = [models.Index(fields=["shipment", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_status_display()} at {self.occurred_at:%Y-%m-%d %H:%M}"
