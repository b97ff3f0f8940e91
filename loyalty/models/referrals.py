"""Referrals: a friend arriving through a member's link, and what came of it."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from loyalty.models.ledger import Member
from orders.models import Customer, Order, Shop
from postpurchase.models import TimeStampedModel


class ReferralStatus(models.TextChoices):
    # The friend has their introductory code; no confirmed first order yet.
    INVITED = "invited", _("Invited")
    # The friend ordered; waiting for the order to pass its return window.
    ORDERED = "ordered", _("Ordered")
    REWARDED = "rewarded", _("Referrer rewarded")
    REFUSED = "refused", _("Refused")
    # Allowed, but the same address or device is behind several referrals: staff decide.
    FLAGGED = "flagged", _("Flagged for review")


# Staff may clear a flagged or refused referral (back to where the friend is) or refuse one; a
# friend's first order cancelled before it was confirmed leaves them invited: the next counts.
REFERRAL_TRANSITIONS: dict[str, set[str]] = {
    ReferralStatus.INVITED: {
        ReferralStatus.ORDERED,
        ReferralStatus.REFUSED,
        ReferralStatus.FLAGGED,
    },
    ReferralStatus.ORDERED: {
        ReferralStatus.REWARDED,
        ReferralStatus.REFUSED,
        ReferralStatus.FLAGGED,
        ReferralStatus.INVITED,
    },
    ReferralStatus.FLAGGED: {
        ReferralStatus.INVITED,
        ReferralStatus.ORDERED,
        ReferralStatus.REFUSED,
    },
    ReferralStatus.REFUSED: {ReferralStatus.INVITED, ReferralStatus.ORDERED},
    ReferralStatus.REWARDED: set(),
}

# The chip tone of each status on the staff pages (`postpurchase.status_tones`, "referral").
REFERRAL_STATUS_TONES: dict[str, str] = {
    ReferralStatus.INVITED: "info",
    ReferralStatus.ORDERED: "info",
    ReferralStatus.REWARDED: "success",
    ReferralStatus.REFUSED: "critical",
    ReferralStatus.FLAGGED: "attention",
}


class Referral(TimeStampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    referrer = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="referrals")
    friend = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    friend_order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=16, choices=ReferralStatus.choices, default="invited")
    # Why it was refused or flagged, in words staff read.
    reason = models.CharField(max_length=300, blank=True)
    # A hash of the friend's device (the referral page's client hints and address), never the
    # raw values.
    device_fingerprint = models.CharField(max_length=64, blank=True)
    # A hash of the friend's first order's shipping address, normalised: one address behind
    # several referrals is flagged.
    address_fingerprint = models.CharField(max_length=64, blank=True)
    rewarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "friend"], name="uniq_loyalty_referral_friend")
        ]
        indexes = [
            models.Index(fields=["referrer", "status", "rewarded_at"]),
            models.Index(
                fields=["shop", "device_fingerprint"],
                condition=~models.Q(device_fingerprint=""),
                name="loyalty_referral_device",
            ),
            models.Index(
                fields=["shop", "address_fingerprint"],
                condition=~models.Q(address_fingerprint=""),
                name="loyalty_referral_address",
            ),
            models.Index(fields=["shop", "status", "-created_at"]),
            # The dashboard's referrals made in a range.
            models.Index(fields=["shop", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"referral {self.pk}: {self.get_status_display()}"

    @property
    def is_refused(self) -> bool:
        return self.status == ReferralStatus.REFUSED
