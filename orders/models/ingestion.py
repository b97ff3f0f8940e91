from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.models.tenancy import Shop
from postpurchase.models import TimeStampedModel


class WebhookProvider(models.TextChoices):
    SHOPIFY = "shopify", "Shopify"
    EASYPOST = "easypost", "EasyPost"


class WebhookStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")


class WebhookEvent(TimeStampedModel):
    """Every webhook delivery we accepted or refused for its content, kept as it arrived.

    Keyed by the provider's own event id so that a redelivery is recognised and skipped."""

    provider = models.CharField(max_length=16, choices=WebhookProvider.choices)
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="webhook_events", null=True, blank=True
    )
    event_id = models.CharField(max_length=128)
    topic = models.CharField(max_length=64)
    headers = models.JSONField(default=dict)
    body = models.TextField()
    status = models.CharField(
        max_length=16, choices=WebhookStatus.choices, default=WebhookStatus.RECEIVED
    )
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # When a processing task was last enqueued for it; empty until a dispatch round claims it.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="uniq_webhookevent_provider_event"
            )
        ]
        indexes = [
            models.Index(fields=["shop", "-created_at"]),
            models.Index(
                fields=["created_at"],
                condition=Q(status="received"),
                name="webhookevent_received_idx",
            ),
            # What a dispatch round claims: stays small however long the processing backlog.
            models.Index(
                fields=["created_at"],
                condition=Q(status="received", dispatched_at__isnull=True),
                name="webhookevent_undispatched_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.topic} {self.event_id}"

    @property
    def is_ignored(self) -> bool:
        """Stored, but of no use here (a topic we do not handle): never processed."""
        return self.status == WebhookStatus.IGNORED


class WebhookRefusal(models.Model):
    """The last delivery refused for its signature, per shop and provider: what the settings
    area shows beside the last verified one (the inbox keeps only those). One row each, only
    ever overwritten, so a stream of forged deliveries cannot grow the table; the body of a
    delivery nobody signed is never kept."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=16, choices=WebhookProvider.choices)
    topic = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=100)
    refused_at = models.DateTimeField()
    # Refusals since the row was first written.
    count = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "provider"], name="uniq_webhookrefusal_shop_provider"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} refused for {self.shop_id}: {self.reason}"


class ApiKey(TimeStampedModel):
    """A shop's REST API key. Only its SHA-256 is stored; the prefix identifies it to staff."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The first response to a POST that carried an Idempotency-Key, replayed on retries."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "key"], name="uniq_idempotency_shop_key")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class CarrierAccount(TimeStampedModel):
    """A shop's account with a tracking provider, holding the secret that signs its webhooks."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="carrier_accounts")
    provider = models.CharField(max_length=16, choices=WebhookProvider.choices)
    webhook_secret = models.CharField(max_length=255)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "provider"], name="uniq_carrier_shop_provider")
        ]

    def __str__(self) -> str:
        return f"{self.shop} – {self.get_provider_display()}"


class DataExport(TimeStampedModel):
    """Everything held on one customer, produced for a privacy data request."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer_external_id = models.CharField(max_length=64, blank=True)
    customer_email = models.EmailField(blank=True)
    request_reference = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"Data export {self.request_reference or self.pk}"
