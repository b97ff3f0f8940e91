"""Product reviews from verified buyers: the review, every earlier version of it, its photos, the
moderation history, the merchant's public reply (with its own history) and the shop's incentive.

The FTC rule on consumer reviews (16 CFR Part 465) shapes what is stored and what is not:
a review is held only for a content rule that applies to every rating alike (`ReviewRule`),
nothing here can hold a review for its rating, and an incentive is offered for any review and
recorded on each review it was offered for (`incentivized`), so storefronts can say so."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.models import Customer, LineItem, Order, Product, Shop
from postpurchase.models import TimeStampedModel
from postpurchase.tokens import new_public_token


class ReviewStatus(models.TextChoices):
    PUBLISHED = "published", _("Published")
    HELD = "held", _("Held for review")
    REJECTED = "rejected", _("Rejected")


# The chip tone of each status on the dashboard (postpurchase.status_tones): a held review
# waits for staff's decision.
REVIEW_STATUS_TONES: dict[str, str] = {
    ReviewStatus.PUBLISHED: "success",
    ReviewStatus.HELD: "attention",
    ReviewStatus.REJECTED: "critical",
}

# Held: a content rule matched, staff decide. Published → held: the author's edit (or a photo
# staff flagged) broke a rule. Rejected → published: staff change their mind.
REVIEW_TRANSITIONS: dict[str, set[str]] = {
    ReviewStatus.HELD: {ReviewStatus.PUBLISHED, ReviewStatus.REJECTED, ReviewStatus.HELD},
    ReviewStatus.PUBLISHED: {ReviewStatus.HELD, ReviewStatus.REJECTED, ReviewStatus.PUBLISHED},
    ReviewStatus.REJECTED: {ReviewStatus.PUBLISHED, ReviewStatus.HELD},
}


class ReviewRule(models.TextChoices):
    """The content rules, the same for every rating: why a review is held, and the reasons
    staff may give for rejecting one (never "negative" or "low rating")."""

    PROFANITY = "profanity", _("Profanity")
    PERSONAL_DATA = "personal_data", _("Personal data (email, phone, address)")
    SPAM = "spam", _("Spam (links, repeated characters)")
    OFF_TOPIC = "off_topic", _("Off-topic (too short or gibberish)")
    PHOTO_NOT_PRODUCT = "photo_not_product", _("A photo is not of the product")


class CollectionMethod(models.TextChoices):
    # In answer to our request after the order was fulfilled (the review link we send).
    POST_FULFILLMENT = "post_fulfillment", _("After fulfilment, on request")
    UNSOLICITED = "unsolicited", _("Unsolicited")


class IncentiveKind(models.TextChoices):
    NONE = "none", _("No incentive")
    DISCOUNT = "discount", _("A discount code")
    POINTS = "points", _("Loyalty points")


class ReviewIncentive(TimeStampedModel):
    """What a shop offers for writing a review: for any review, whatever its rating (no field
    here could make it depend on one)."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="review_incentive")
    kind = models.CharField(max_length=16, choices=IncentiveKind.choices, default="none")
    discount_text = models.CharField(
        max_length=200,
        blank=True,
        help_text="What the reviewer is given, e.g. 'THANKS10: 10% off your next order'.",
    )
    points = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="discount") | ~Q(discount_text=""),
                name="reviewincentive_discount_has_text",
            ),
            models.CheckConstraint(
                condition=~Q(kind="points") | Q(points__gt=0),
                name="reviewincentive_points_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shop}: {self.get_kind_display()}"

    @property
    def is_offered(self) -> bool:
        return self.kind != IncentiveKind.NONE


class Review(TimeStampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    # The review's name outside the dashboard (storefront anchors, the review feed's id).
    public_id = models.CharField(max_length=64, unique=True, default=new_public_token)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="reviews")
    line_item = models.ForeignKey(LineItem, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reviews")
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rating = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=150, blank=True)
    body = models.TextField(max_length=5000)
    # The name shown with the review: "Ada" when the author asked for their first name only,
    # else "Ada L."; "Verified buyer" when the order names nobody.
    author_name = models.CharField(max_length=120)
    first_name_only = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=ReviewStatus.choices)
    # The rules the current version breaks (ReviewRule values) and what matched, for the queue.
    held_rules = models.JSONField(default=list, blank=True)
    held_details = models.JSONField(default=list, blank=True)
    rejected_rule = models.CharField(max_length=32, choices=ReviewRule.choices, blank=True)
    # Set the first time it is published and kept: a review published once and taken down
    # later is announced as deleted in the review feed.
    published_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    collection_method = models.CharField(
        max_length=20, choices=CollectionMethod.choices, default=CollectionMethod.POST_FULFILLMENT
    )
    # What the shop offered when the review was written, for any rating; shown as such.
    incentivized = models.BooleanField(default=False)
    incentive_kind = models.CharField(
        max_length=16, choices=IncentiveKind.choices, default=IncentiveKind.NONE
    )
    incentive_points = models.PositiveIntegerField(default=0)
    incentive_discount_text = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            # One review per customer and product per order (an order has one customer).
            models.UniqueConstraint(fields=["order", "product"], name="uniq_review_order_product"),
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_to_5"
            ),
            models.CheckConstraint(
                condition=Q(incentivized=False) | ~Q(incentive_kind="none"),
                name="review_incentivized_has_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "status", "-submitted_at"]),
            models.Index(fields=["product", "status", "-submitted_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ review of {self.product_id} on {self.order_id}"

    @property
    def is_published(self) -> bool:
        return self.status == ReviewStatus.PUBLISHED

    @property
    def is_held(self) -> bool:
        return self.status == ReviewStatus.HELD

    @property
    def is_rejected(self) -> bool:
        return self.status == ReviewStatus.REJECTED

    @property
    def was_taken_down(self) -> bool:
        """Published once, not now: the feed lists it under deleted reviews."""
        return self.published_at is not None and not self.is_published

    @property
    def held_rule_labels(self) -> list[str]:
        return [str(ReviewRule(rule).label) for rule in self.held_rules if rule in ReviewRule]

    def record_transition(self, *, from_status: str, to_status: str, actor, note: str) -> None:
        ReviewEvent.objects.create(
            review=self,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            note=note,
            rules=list(self.held_rules) if to_status == ReviewStatus.HELD else [],
            rule=self.rejected_rule if to_status == ReviewStatus.REJECTED else "",
        )


class ReviewRevision(models.Model):
    """A version of a review the author replaced with an edit: written before the edit lands."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="revisions")
    rating = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=150, blank=True)
    body = models.TextField(max_length=5000)
    first_name_only = models.BooleanField(default=False)
    photo_count = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=ReviewStatus.choices)
    # When this version was written (the review's submission, or its previous edit).
    written_at = models.DateTimeField()
    replaced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["written_at", "id"]

    def __str__(self) -> str:
        return f"Version of review {self.review_id} written {self.written_at:%Y-%m-%d}"


class ReviewPhoto(TimeStampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="photos")
    # Re-encoded by us without metadata (orders.photos.photo_clean).
    data = models.BinaryField(editable=False)
    content_type = models.CharField(max_length=32)
    # The photo's public name on storefronts: unguessable, unrelated to any id.
    token = models.CharField(max_length=64, unique=True, default=new_public_token)
    position = models.PositiveSmallIntegerField(default=0)
    # Replaced by an edit that brought new photos: kept for the history, shown nowhere.
    is_current = models.BooleanField(default=True)
    # Staff said it does not show the product: never shown, and the review is held for it.
    flagged_not_product_at = models.DateTimeField(null=True, blank=True)
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"Photo {self.position + 1} of review {self.review_id}"

    @property
    def is_flagged(self) -> bool:
        return self.flagged_not_product_at is not None

    @property
    def is_shown(self) -> bool:
        return self.is_current and not self.is_flagged


class ReviewEvent(models.Model):
    """A review's moderation history: every decision, automatic or by staff, never overwritten."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The rules that held it, or the rule staff rejected it for.
    rules = models.JSONField(default=list, blank=True)
    rule = models.CharField(max_length=32, choices=ReviewRule.choices, blank=True)
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'}→{self.to_status}"


class ReviewReply(TimeStampedModel):
    """The shop's one public answer to a review, shown under it."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="reply")
    body = models.TextField(max_length=3000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "review replies"

    def __str__(self) -> str:
        return f"Reply to review {self.review_id}"


class ReviewReplyRevision(models.Model):
    """Every text a reply has had, who wrote it and when: the first and each edit."""

    reply = models.ForeignKey(ReviewReply, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField(max_length=3000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"Reply {self.reply_id} at {self.at:%Y-%m-%d %H:%M}"
