"""The settings area's own rows: the record of every change made there, and staff invitations."""

from typing import Any

from django.conf import settings
from django.db import models

from orders.models.tenancy import Shop, StaffRole
from postpurchase.models import TimeStampedModel


class SettingsArea(models.TextChoices):
    STAFF = "staff", "Staff and roles"
    API_KEYS = "api_keys", "API keys"
    SENDER = "sender", "Sender identity"
    PROFILE = "profile", "Profile and branding"
    INTEGRATIONS = "integrations", "Integrations"
    # Surveys, the review incentive and the case policy, edited on the feedback pages.
    FEEDBACK = "feedback", "Feedback"


class SettingsChange(models.Model):
    """One change made in a shop's settings: who, when, what (each changed field's value
    before and after; a secret is named, never written). Append-only: written by the service
    that makes the change, in its transaction, and never edited or deleted by the app."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="settings_changes")
    # The person stays named even once their account is gone.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True)
    area = models.CharField(max_length=32, choices=SettingsArea.choices)
    # What happened, as a dotted verb: "staff.invited", "api_key.revoked".
    action = models.CharField(max_length=64)
    # What it happened to, as staff read it: "ana@example.com", "key 3f9a01bc (Warehouse)".
    subject = models.CharField(max_length=255)
    # {field: [before, after]}
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["shop", "area", "-created_at"], name="settings_change_area")
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.subject}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The record is the history: an edit would rewrite it.
        if not self._state.adding:
            raise ValueError("A settings change is recorded once and never edited.")
        super().save(*args, **kwargs)


class StaffInvitation(TimeStampedModel):
    """An invitation to join a shop's staff, sent by email as a signed link that expires and
    is used once (`accepted_at`)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="staff_invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=StaffRole.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.email} → {self.shop} ({self.role})"

    def is_open(self, now: Any) -> bool:
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at
