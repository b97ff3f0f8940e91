"""Returns and exchanges: each shop's policy and reasons, return requests (RMAs) with their
items and history, and the store-credit ledger."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from orders.models import Customer, LineItem, Order, Product, Shop, Variant
from postpurchase.models import TimeStampedModel
from postpurchase.states import can_reach, can_transition


def _money(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"), **kwargs)


class Resolution(models.TextChoices):
    """What the customer gets back for an item, in the order the portal offers them."""

    EXCHANGE = "exchange", _("Exchange for another variant")
    STORE_CREDIT = "store_credit", _("Store credit")
    REFUND = "refund", _("Refund to the original payment")


class ReturnMethod(models.TextChoices):
    DROP_OFF = "drop_off", _("Drop off at a carrier point")
    PICKUP = "pickup", _("Pickup from your address")
    KEEP_ITEM = "keep_item", _("Keep the item")


class ReturnPolicy(TimeStampedModel):
    """One per shop. The return window itself is `Shop.return_window_days` (the tracking page
    reads it too); everything else about returns is here."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="return_policy")
    non_returnable_products = models.ManyToManyField(Product, blank=True, related_name="+")
    non_returnable_variants = models.ManyToManyField(Variant, blank=True, related_name="+")
    offers_refund = models.BooleanField(default=True)
    offers_exchange = models.BooleanField(default=True)
    offers_store_credit = models.BooleanField(default=True)
    store_credit_bonus_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("10.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Extra credit on top of the item's value, e.g. 10 for 10%.",
    )
    methods = models.JSONField(
        default=list, help_text="Return methods offered, from ReturnMethod's values."
    )
    keep_item_max_value = _money(help_text="Items worth at most this may be kept (0: never).")
    auto_approve = models.BooleanField(default=True)
    auto_approve_max_total = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Approve at once only when the return is worth at most this (empty: any).",
    )
    # Reason codes approved at once; empty means any reason.
    auto_approve_reasons = models.JSONField(default=list, blank=True)
    return_address = models.TextField(blank=True, help_text="Printed on the return slip.")
    instructions = models.TextField(
        blank=True, help_text="Extra instructions shown with the slip, e.g. how to pack."
    )

    class Meta:
        verbose_name_plural = "return policies"

    def __str__(self) -> str:
        return f"Return policy of {self.shop}"


class ReturnReason(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="return_reasons")
    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=100)
    is_shop_fault = models.BooleanField(default=False)
    requires_photo = models.BooleanField(default=False)
    # Deducted from the refund or credit when this reason is given (return shipping).
    fee = _money(validators=[MinValueValidator(0)])
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "code"], name="uniq_returnreason_shop_code")
        ]

    def __str__(self) -> str:
        return self.label


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    IN_TRANSIT = "in_transit", _("On its way back")
    RECEIVED = "received", _("Received")
    INSPECTED = "inspected", _("Inspected")
    RESOLVED = "resolved", _("Resolved")
    CANCELLED = "cancelled", _("Cancelled")


# The chip tone of each status on the dashboard (postpurchase.status_tones): a request waits
# for the merchant's decision, a received parcel for its inspection.
RETURN_STATUS_TONES: dict[str, str] = {
    ReturnStatus.REQUESTED: "attention",
    ReturnStatus.APPROVED: "info",
    ReturnStatus.REJECTED: "critical",
    ReturnStatus.IN_TRANSIT: "info",
    ReturnStatus.RECEIVED: "attention",
    ReturnStatus.INSPECTED: "info",
    ReturnStatus.RESOLVED: "success",
    ReturnStatus.CANCELLED: "neutral",
}


_R = ReturnStatus
RETURN_TRANSITIONS: dict[str, set[str]] = {
    _R.REQUESTED: {_R.APPROVED, _R.REJECTED, _R.CANCELLED},
    # A kept item never travels: its return is resolved straight from approval.
    _R.APPROVED: {_R.IN_TRANSIT, _R.RECEIVED, _R.RESOLVED, _R.CANCELLED},
    _R.IN_TRANSIT: {_R.RECEIVED},
    _R.RECEIVED: {_R.INSPECTED},
    _R.INSPECTED: {_R.RESOLVED},
    _R.REJECTED: set(),
    _R.RESOLVED: set(),
    _R.CANCELLED: set(),
}
# A return in one of these still holds its items: they cannot be returned again.
HOLDING_STATUSES = (
    _R.REQUESTED,
    _R.APPROVED,
    _R.IN_TRANSIT,
    _R.RECEIVED,
    _R.INSPECTED,
    _R.RESOLVED,
)
# Open: the table still allows a move (requested, approved, in transit, received, inspected).
OPEN_STATUSES = tuple(status for status, moves in RETURN_TRANSITIONS.items() if moves)

# Where a refund asked of Shopify stands, in `refund_reference` (`shopify:<id>` once paid).
SHOPIFY_PENDING = "shopify:pending"  # to ask for
SHOPIFY_REQUESTING = "shopify:requesting"  # claimed: a run is asking Shopify now
SHOPIFY_REFUSED = "shopify:refused"  # Shopify said no: staff refund by hand
SHOPIFY_UNKNOWN = "shopify:unknown"  # may or may not be paid: staff check in Shopify


class ReturnRequest(TimeStampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    # A return goes with its order; RESTRICT elsewhere lets a whole shop be deleted at once.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="returns")
    customer = models.ForeignKey(
        Customer, on_delete=models.RESTRICT, null=True, blank=True, related_name="returns"
    )
    rma = models.CharField(max_length=24, help_text="What the customer and the slip show.")
    status = models.CharField(
        max_length=16, choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED
    )
    method = models.CharField(max_length=16, choices=ReturnMethod.choices)
    currency = models.CharField(max_length=3)
    # Worked out when the return is filed, so the customer sees exactly what they will get.
    refund_total = _money()
    credit_total = _money()
    fee_total = _money()
    status_reason = models.CharField(max_length=500, blank=True)
    # The replacement order an exchange created, and where a refund stands.
    exchange_order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    refund_reference = models.CharField(max_length=100, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # The portal's one-time form key: a double submit finds the first return.
    submission_key = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "rma"], name="uniq_return_shop_rma"),
        ]
        indexes = [
            models.Index(fields=["shop", "status", "-created_at"]),
            models.Index(fields=["order", "status"]),
            models.Index(fields=["customer", "status"]),
            # The queue's search matches an RMA in any case (`rma__iexact`, UPPER(rma) = …).
            models.Index(Upper("rma"), name="returnrequest_rma_upper_idx"),
        ]

    def __str__(self) -> str:
        return f"Return {self.rma}"

    # Questions about the return's state, answered from RETURN_TRANSITIONS: a change of the
    # table changes the answers (and what the pages offer) with it.

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_rejected(self) -> bool:
        return self.status == ReturnStatus.REJECTED

    @property
    def keeps_item(self) -> bool:
        return self.method == ReturnMethod.KEEP_ITEM

    @property
    def can_decide(self) -> bool:
        """Still to be approved or rejected."""
        return any(
            can_transition(self.status, to, RETURN_TRANSITIONS)
            for to in (ReturnStatus.APPROVED, ReturnStatus.REJECTED)
        )

    @property
    def can_cancel(self) -> bool:
        return can_transition(self.status, ReturnStatus.CANCELLED, RETURN_TRANSITIONS)

    @property
    def awaits_items(self) -> bool:
        """The shop is still to receive the items (the return slip is still of use)."""
        return can_reach(self.status, ReturnStatus.RECEIVED, RETURN_TRANSITIONS)

    @property
    def can_resolve(self) -> bool:
        """Resolved once its items are inspected; a kept item, straight from approval."""
        if not can_transition(self.status, ReturnStatus.RESOLVED, RETURN_TRANSITIONS):
            return False
        return self.status != ReturnStatus.APPROVED or self.keeps_item

    @property
    def refund_needs_staff(self) -> bool:
        """Shopify refused the refund, or may or may not have paid it: `status_reason` says
        which, and staff settle it by hand."""
        return self.refund_reference in (SHOPIFY_REFUSED, SHOPIFY_UNKNOWN)

    def record_transition(self, *, from_status: str, to_status: str, actor, note: str) -> None:
        ReturnEvent.objects.create(
            return_request=self,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            note=note,
        )


class ItemCondition(models.TextChoices):
    RESELLABLE = "resellable", "Resellable"
    DAMAGED = "damaged", "Damaged"
    MISSING_PARTS = "missing_parts", "Missing parts"


class ReturnItem(models.Model):
    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="items"
    )
    line_item = models.ForeignKey(LineItem, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    reason = models.ForeignKey(ReturnReason, on_delete=models.RESTRICT, related_name="+")
    comment = models.TextField(max_length=1000, blank=True)
    # Re-encoded by us without metadata, as on the tracking page's problem reports.
    photo = models.BinaryField(null=True, blank=True, editable=False)
    photo_content_type = models.CharField(max_length=32, blank=True)
    resolution = models.CharField(max_length=16, choices=Resolution.choices)
    exchange_variant = models.ForeignKey(
        Variant, on_delete=models.RESTRICT, null=True, blank=True, related_name="+"
    )
    # The item's value after the order's discounts, and what goes back for it.
    value = _money()
    amount = _money()
    condition = models.CharField(max_length=16, choices=ItemCondition.choices, blank=True)
    restock = models.BooleanField(default=False)
    inspection_note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="returnitem_quantity_positive"
            ),
            models.CheckConstraint(
                condition=~Q(resolution="exchange") | Q(exchange_variant__isnull=False),
                name="returnitem_exchange_has_variant",
            ),
        ]
        indexes = [models.Index(fields=["line_item"])]

    def __str__(self) -> str:
        return f"{self.quantity} × line {self.line_item_id}"


class ReturnEvent(models.Model):
    """A return's history: every transition, who made it and when, never overwritten."""

    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status}→{self.to_status}"

    @property
    def from_label(self) -> str:
        return _status_label(self.from_status)

    @property
    def to_label(self) -> str:
        return _status_label(self.to_status)


class StoreCreditEntry(models.Model):
    """The store-credit ledger: append-only, one row per change, each with a unique key so a
    repeat never pays twice. A customer's balance is the sum of their entries."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.RESTRICT, related_name="store_credit")
    amount = _money()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=200)
    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="credits"
    )
    dedupe_key = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "store credit entries"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["customer", "currency"])]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} for customer {self.customer_id}"


def _status_label(status: str) -> str:
    # A status no longer in the choices still reads as words, never as its stored name.
    if status in ReturnStatus.values:
        return str(ReturnStatus(status).label)
    return status.replace("_", " ").capitalize()
