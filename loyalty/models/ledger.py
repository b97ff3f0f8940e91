"""The points ledger: an append-only table of entries and, per member, the balance kept in the
same transaction as each entry (`loyalty.ledger.entry_book` is the only writer of both).

An entry moves points between two buckets: `pending` (earned on a paid order, not yet past its
return window) and `available` (confirmed, spendable). Earning books pending +n; confirming
books pending -n and available +n in one entry; a clawback takes from whichever bucket the
points are in. Every available credit opens a lot that expires on its own date; debits use the
soonest-expiring lots first."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from loyalty.models.programme import Tier
from orders.models import ApiKey, Customer, Order, Shop
from postpurchase.models import TimeStampedModel


class Member(TimeStampedModel):
    """A customer in the programme, and their balance: the sum of their entries, kept here so a
    balance is one row to read and to lock (`SELECT … FOR UPDATE` serialises every booking)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.OneToOneField(
        Customer, on_delete=models.PROTECT, related_name="loyalty_member"
    )
    available = models.IntegerField(default=0)
    pending = models.IntegerField(default=0)
    # Held for redemptions whose code is being created; spendable = available - reserved.
    reserved = models.PositiveIntegerField(default=0)
    lifetime_earned = models.PositiveIntegerField(default=0)
    lifetime_redeemed = models.PositiveIntegerField(default=0)
    lifetime_expired = models.PositiveIntegerField(default=0)
    tier = models.ForeignKey(
        Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    tier_since = models.DateTimeField(null=True, blank=True)
    # Members move down only at the yearly review: the earliest date the tier may drop.
    tier_review_on = models.DateField(null=True, blank=True)
    referral_code = models.CharField(max_length=16)
    # The customer's birthday as last entered, and when: no birthday reward within 30 days of a
    # change (so the date cannot be moved to today for a gift).
    birthday_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "referral_code"], name="uniq_loyalty_member_referral_code"
            ),
            models.CheckConstraint(
                condition=Q(reserved__lte=models.F("available")) | Q(reserved=0),
                name="loyalty_member_reserved_within_available",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "tier"]),
            models.Index(fields=["shop", "available"]),
            # The dashboard's members joined in a range.
            models.Index(fields=["shop", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"member {self.pk} of {self.shop_id}"

    @property
    def spendable(self) -> int:
        return max(self.available - self.reserved, 0)


class EntryKind(models.TextChoices):
    EARN = "earn", _("Earned")
    CONFIRM = "confirm", _("Confirmed")
    REDEEM = "redeem", _("Redeemed")
    EXPIRE = "expire", _("Expired")
    ADJUST = "adjust", _("Adjusted")
    CLAWBACK = "clawback", _("Taken back")
    TRANSFER = "transfer", _("Transferred")
    # A reward's code went unused by its end date (or could not be created): its points return.
    RETURN = "return", _("Returned")


# What a points-based tier counts: points earned, less those taken back (a staff adjustment, a
# redemption or an expiry moves no tier).
TIER_POINTS_KINDS = (EntryKind.EARN, EntryKind.CLAWBACK)


class Subject(models.TextChoices):
    """What an entry is about."""

    ORDER = "order", _("Order")
    ORDER_LINE = "order_line", _("Order line")
    RETURN_ITEM = "return_item", _("Returned item")
    REVIEW = "review", pgettext_lazy("a product review", "Review")
    REFERRAL = "referral", _("Referral")
    BIRTHDAY = "birthday", _("Birthday")
    ANNIVERSARY = "anniversary", _("First-order anniversary")
    STAFF = "staff", _("Staff adjustment")
    REDEMPTION = "redemption", _("Reward")
    LOT = "lot", _("Expiring points")
    MEMBER = "member", _("Member")


class LedgerEntry(models.Model):
    """One booking. Never updated or deleted: the database refuses it (the trigger below), so a
    correction is a new entry. `idempotency_key` is unique per shop: a webhook delivered twice
    or a task run twice books once."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    available_delta = models.IntegerField(default=0)
    pending_delta = models.IntegerField(default=0)
    # The member's balances right after this entry: the history reads without a running sum.
    available_after = models.IntegerField()
    pending_after = models.IntegerField()
    subject = models.CharField(max_length=16, choices=Subject.choices)
    subject_id = models.BigIntegerField(null=True, blank=True)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    # Points a clawback could not take (the write-off policy), recorded for the bookkeeper.
    written_off = models.PositiveIntegerField(default=0)
    # The tier and multiplier in force when the points were earned.
    tier_name = models.CharField(max_length=60, blank=True)
    multiplier = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # An adjustment made through the API: the key that made it (an API key has no person).
    api_key = models.ForeignKey(
        ApiKey, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    idempotency_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name_plural = "ledger entries"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "idempotency_key"], name="uniq_loyalty_entry_idempotency_key"
            ),
            models.CheckConstraint(
                condition=~Q(available_delta=0, pending_delta=0), name="loyalty_entry_moves_points"
            ),
        ]
        indexes = [
            models.Index(fields=["member", "-created_at"]),
            models.Index(fields=["shop", "kind", "created_at"]),
            models.Index(fields=["member", "subject", "subject_id"]),
        ]
        triggers = [
            pgtrigger.Protect(
                name="loyalty_entry_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.available_delta:+}/{self.pending_delta:+} ({self.idempotency_key})"
        )

    @property
    def points(self) -> int:
        """The change to the member's total (available + pending): what the history shows."""
        return self.available_delta + self.pending_delta


class PointLot(models.Model):
    """Points made available together, which expire together. `remaining` falls as debits use
    the lot (soonest-expiring first); the sum of a member's remaining lots equals their
    available balance whenever it is positive."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="lots")
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="lot")
    points = models.PositiveIntegerField()
    remaining = models.PositiveIntegerField()
    available_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__lte=models.F("points")),
                name="loyalty_lot_remaining_le_points",
            )
        ]
        indexes = [
            models.Index(
                fields=["member", "expires_at"],
                condition=Q(remaining__gt=0),
                name="loyalty_lot_open_by_expiry",
            ),
            models.Index(
                fields=["expires_at"], condition=Q(remaining__gt=0), name="loyalty_lot_open_expiry"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.remaining}/{self.points} points until {self.expires_at or 'never'}"


class EarningStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    CONFIRMED = "confirmed", _("Confirmed")
    VOIDED = "voided", _("Voided")


class OrderEarning(TimeStampedModel):
    """An order's earned points on their way from pending to confirmed: the work list of the
    confirmation sweep (the ledger holds the points; this row says when they are due)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="earnings")
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="loyalty_earning")
    status = models.CharField(max_length=16, choices=EarningStatus.choices, default="pending")
    # Delivery + the shop's return window; empty until the order is delivered.
    confirm_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["confirm_at"], condition=Q(status="pending"), name="loyalty_earning_due"
            )
        ]


class LedgerCheck(models.Model):
    """One run of the nightly check that every balance equals the sum of its entries."""

    ran_at = models.DateTimeField(auto_now_add=True)
    members_checked = models.PositiveIntegerField()
    # [{"member_id", "shop_id", "stored": {...}, "summed": {...}}], empty when all add up.
    drift = models.JSONField(default=list)

    class Meta:
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"ledger check {self.ran_at:%Y-%m-%d %H:%M}: {len(self.drift)} drifted"
