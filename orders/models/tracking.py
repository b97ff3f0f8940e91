from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models.orders import Order
from orders.models.shipments import Shipment
from orders.models.tenancy import Shop
from postpurchase.models import TimeStampedModel


class TrackingPageViews(models.Model):
    """How often the customer looked at their tracking page. Views are counted in Redis as
    they happen and added here in batches, so a busy page never waits on a row lock."""

    order = models.OneToOneField(
        Order, on_delete=models.CASCADE, primary_key=True, related_name="tracking_views"
    )
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    first_viewed_at = models.DateTimeField()
    last_viewed_at = models.DateTimeField()
    view_count = models.PositiveIntegerField(default=0)

    class Meta:
        # One row holds all of an order's views: the name is plural already.
        verbose_name_plural = "tracking page views"

    def __str__(self) -> str:
        return f"{self.view_count} views of order {self.order_id}"


class ProblemKind(models.TextChoices):
    NOT_RECEIVED = "not_received", "Not received"
    DAMAGED = "damaged", "Damaged"
    WRONG_ITEM = "wrong_item", "Wrong item"


class ProblemStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class ProblemReport(TimeStampedModel):
    """A case the customer opened from the tracking page, with their words and a photo."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="problem_reports")
    shipment = models.ForeignKey(
        Shipment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=ProblemKind.choices)
    description = models.TextField(max_length=2000)
    # The photo as re-encoded by us (metadata such as GPS position stripped); kept in the
    # database so that web and worker need no shared file storage, and shown to staff only.
    photo = models.BinaryField(null=True, blank=True, editable=False)
    photo_content_type = models.CharField(max_length=32, blank=True)
    status = models.CharField(
        max_length=16, choices=ProblemStatus.choices, default=ProblemStatus.OPEN
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The form's one-time key: a double submit finds the first report instead of a second.
    submission_key = models.CharField(max_length=64, unique=True)
    shop_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["order", "-created_at"]),
            models.Index(fields=["shop", "status", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on order {self.order_id}"

    @property
    def is_open(self) -> bool:
        return self.status == ProblemStatus.OPEN

    @property
    def has_photo(self) -> bool:
        return bool(self.photo_content_type)
