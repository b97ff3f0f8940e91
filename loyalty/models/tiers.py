"""The history of every member's tier: the tier a perk read is always on record."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from loyalty.models.ledger import Member
from loyalty.models.programme import Tier
from orders.models import Shop


class TierChangeReason(models.TextChoices):
    JOINED = "joined", _("Joined")
    QUALIFIED = "qualified", _("Qualified for a higher tier")
    REVIEW = "review", _("Yearly review")
    STAFF = "staff", _("Changed by staff")
    PROGRAMME = "programme", _("Programme's tiers changed")


class TierChange(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="tier_changes")
    from_tier = models.ForeignKey(
        Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=16, choices=TierChangeReason.choices)
    # The trailing-12-month spend or points the decision read.
    qualifying_value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["member", "-at"]), models.Index(fields=["shop", "at"])]

    def __str__(self) -> str:
        return f"{self.from_tier or '-'} -> {self.to_tier} ({self.reason})"
