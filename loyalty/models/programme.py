"""A shop's loyalty programme: how points are earned and what they are worth, its tiers and the
rewards points buy. Settings only; the points themselves are in the ledger (`ledger.py`)."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.models import Product, Shop
from postpurchase.models import TimeStampedModel


class DebtPolicy(models.TextChoices):
    # A clawback of points already spent leaves a negative balance, and the next earnings pay
    # it back first: nobody keeps points for goods they returned.
    REPAY = "repay", _("Negative balance, repaid from the next earnings")
    # The clawback takes what is left and the rest is written off (recorded on the entry).
    WRITE_OFF = "write_off", _("Take back what is left, write off the rest")


class TierBasis(models.TextChoices):
    SPEND = "spend", _("Spend in the last 12 months")
    POINTS = "points", _("Points earned in the last 12 months")


class Programme(TimeStampedModel):
    """One per shop. A shop without one runs no loyalty programme: nothing is earned."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="loyalty_programme")
    is_active = models.BooleanField(default=True)
    name = models.CharField(max_length=100, default="Rewards")
    # Points per currency unit paid for a line, after its discounts; shipping and tax are
    # never on a line, so they earn nothing unless the flags below say so.
    points_per_unit = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal("1.00"), validators=[MinValueValidator(0)]
    )
    earn_on_shipping = models.BooleanField(default=False)
    earn_on_tax = models.BooleanField(default=False)
    # Months after confirmation that a lot of points expires; empty: never.
    expiry_months = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    expiry_reminder_days = models.PositiveSmallIntegerField(default=30)
    debt_policy = models.CharField(max_length=16, choices=DebtPolicy.choices, default="repay")
    # What one point is worth to the shop, in its currency: the liability of points not yet
    # spent is outstanding points x this.
    point_value = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        default=Decimal("0.0100"),
        validators=[MinValueValidator(0)],
    )
    # Bonus actions, booked confirmed at once.
    review_points = models.PositiveIntegerField(default=50)
    photo_review_points = models.PositiveIntegerField(default=50)
    birthday_points = models.PositiveIntegerField(default=100)
    anniversary_points = models.PositiveIntegerField(default=100)
    referral_points = models.PositiveIntegerField(default=500)
    # The friend's introductory reward (a code issued without points).
    referral_friend_reward = models.ForeignKey(
        "loyalty.Reward", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    referral_monthly_cap = models.PositiveSmallIntegerField(default=5)
    tier_basis = models.CharField(max_length=8, choices=TierBasis.choices, default="spend")

    def __str__(self) -> str:
        return f"{self.name} ({self.shop})"


class Tier(TimeStampedModel):
    """A level reached by trailing-12-month spend (or points earned), with perks that are
    applied, not only listed. The lowest tier has threshold 0."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="loyalty_tiers")
    name = models.CharField(max_length=60)
    rank = models.PositiveSmallIntegerField(help_text="0 is the lowest tier.")
    threshold = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    earn_multiplier = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("1.00")), MaxValueValidator(Decimal("10.00"))],
    )
    free_shipping_quarterly = models.BooleanField(default=False)
    # A customer tag pushed to Shopify (`tagsAdd`) so the storefront can gate a collection.
    early_access_tag = models.CharField(max_length=60, blank=True)
    birthday_reward = models.ForeignKey(
        "loyalty.Reward", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["shop", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "rank"], name="uniq_loyalty_tier_rank"),
            models.UniqueConstraint(fields=["shop", "name"], name="uniq_loyalty_tier_name"),
        ]

    def __str__(self) -> str:
        return self.name


class RewardKind(models.TextChoices):
    AMOUNT_OFF = "amount_off", _("Amount off")
    PERCENT_OFF = "percent_off", _("Percent off")
    FREE_SHIPPING = "free_shipping", _("Free shipping")
    FREE_PRODUCT = "free_product", _("Free product")


class Reward(TimeStampedModel):
    """What points buy: redeeming one issues a single-use code for that customer."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="loyalty_rewards")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=RewardKind.choices)
    # The amount (shop currency) or the percentage; unused for free shipping and products.
    value = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    points_price = models.PositiveIntegerField()
    valid_days = models.PositiveSmallIntegerField(default=90)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["shop", "position", "points_price"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="free_product") | Q(product__isnull=False),
                name="loyalty_reward_free_product_has_product",
            ),
            models.CheckConstraint(
                condition=~Q(kind="percent_off") | Q(value__gt=0, value__lte=100),
                name="loyalty_reward_percent_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name
