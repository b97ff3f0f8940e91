"""Rewards issued to members: a single-use discount code, bought with points or granted (a tier
perk, a birthday gift, a referred friend's introduction)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from loyalty.models.ledger import Member
from loyalty.models.programme import Reward
from orders.models import Customer, Order, Shop
from postpurchase.models import TimeStampedModel


class RedemptionStatus(models.TextChoices):
    # Points held (`Member.reserved`), the code being created.
    RESERVED = "reserved", _("Reserved")
    ISSUED = "issued", _("Code issued")
    FAILED = "failed", _("Could not be issued")
    USED = "used", _("Used")
    # Unused by its end date: its points went back to the member.
    EXPIRED = "expired", _("Expired")


class RedemptionSource(models.TextChoices):
    POINTS = "points", _("Bought with points")
    TIER_PERK = "tier_perk", _("Tier perk")
    BIRTHDAY = "birthday", _("Birthday gift")
    REFERRAL = "referral", _("Referral introduction")
    STAFF = "staff", _("Given by staff")


class Redemption(TimeStampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    # The customer the code is for; the member too when points paid for it (a referred friend
    # is not yet a member).
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="redemptions"
    )
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    source = models.CharField(max_length=16, choices=RedemptionSource.choices, default="points")
    points = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=RedemptionStatus.choices, default="reserved")
    code = models.CharField(max_length=40)
    # Shopify's discount node id when the shop is connected; empty: the shop enters the code in
    # its own checkout.
    platform_discount_id = models.CharField(max_length=100, blank=True)
    ends_at = models.DateTimeField()
    issued_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    used_order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    failure_reason = models.CharField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=200)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "code"], name="uniq_loyalty_redemption_code"),
            models.UniqueConstraint(
                fields=["shop", "idempotency_key"], name="uniq_loyalty_redemption_key"
            ),
        ]
        indexes = [
            models.Index(
                fields=["ends_at"], condition=Q(status="issued"), name="loyalty_code_open"
            ),
            models.Index(fields=["customer", "status"]),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_code_usable(self) -> bool:
        """The code exists and the customer may be shown it (used ones too, as a record)."""
        return self.status in (RedemptionStatus.ISSUED, RedemptionStatus.USED)

    @property
    def is_being_issued(self) -> bool:
        return self.status == RedemptionStatus.RESERVED
