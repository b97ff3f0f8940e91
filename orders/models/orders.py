from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from orders.models.catalog import Product, Variant
from orders.models.customers import Customer
from orders.models.tenancy import Shop
from postpurchase.models import TimeStampedModel
from postpurchase.tokens import new_public_token


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


# The chip tone of each status on the dashboard (postpurchase.status_tones, registered in
# OrdersConfig.ready()).
ORDER_STATUS_TONES: dict[str, str] = {
    OrderStatus.PLACED: "info",
    OrderStatus.SHIPPED: "info",
    OrderStatus.DELIVERED: "success",
    OrderStatus.CLOSED: "neutral",
    OrderStatus.CANCELLED: "critical",
}


ORDER_TRANSITIONS: dict[str, set[str]] = {
    OrderStatus.PLACED: {OrderStatus.SHIPPED, OrderStatus.CANCELLED, OrderStatus.CLOSED},
    OrderStatus.SHIPPED: {OrderStatus.DELIVERED, OrderStatus.CLOSED},
    OrderStatus.DELIVERED: {OrderStatus.CLOSED},
    OrderStatus.CLOSED: set(),
    OrderStatus.CANCELLED: set(),
}
DELIVERED_STATUSES = (OrderStatus.DELIVERED, OrderStatus.CLOSED)


class FinancialStatus(models.TextChoices):
    """The payment state as the shop's platform reports it (Shopify's `financial_status`)."""

    PENDING = "pending", _("Pending")
    AUTHORIZED = "authorized", _("Authorized")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")
    VOIDED = "voided", _("Voided")


# Money was taken, whatever went back since: the order was paid.
PAID_FINANCIAL_STATUSES = frozenset(
    {FinancialStatus.PAID, FinancialStatus.PARTIALLY_REFUNDED, FinancialStatus.REFUNDED}
)
# The shop kept none of the customer's money: the payment was voided or all of it went back.
REVERSED_FINANCIAL_STATUSES = frozenset({FinancialStatus.VOIDED, FinancialStatus.REFUNDED})
# Some or all of the money went back (or the payment was voided): `order_refunded` is published
# when an order moves into one of these.
MONEY_BACK_FINANCIAL_STATUSES = frozenset(
    {FinancialStatus.PARTIALLY_REFUNDED, FinancialStatus.REFUNDED, FinancialStatus.VOIDED}
)

# The payment's chip on the order page (`postpurchase.status_tones`, kind "payment").
FINANCIAL_STATUS_TONES: dict[str, str] = {
    FinancialStatus.PENDING: "attention",
    FinancialStatus.AUTHORIZED: "info",
    FinancialStatus.PARTIALLY_PAID: "attention",
    FinancialStatus.PAID: "success",
    FinancialStatus.PARTIALLY_REFUNDED: "neutral",
    FinancialStatus.REFUNDED: "neutral",
    FinancialStatus.VOIDED: "critical",
}


class OrderSource(models.TextChoices):
    SHOPIFY = "shopify", "Shopify"
    API = "api", "REST API"
    IMPORT = "import", "CSV import"
    DEMO = "demo", "Demo data"
    EXCHANGE = "exchange", "Exchange of a return"


def _money() -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))


class Order(TimeStampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="orders")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", null=True, blank=True
    )
    external_id = models.CharField(max_length=64)
    number = models.CharField(max_length=64, help_text="What the customer sees, e.g. #1001.")
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default="placed")
    financial_status = models.CharField(
        max_length=24, choices=FinancialStatus.choices, default=FinancialStatus.PENDING
    )
    source = models.CharField(max_length=16, choices=OrderSource.choices)
    currency = models.CharField(max_length=3)
    subtotal = _money()
    discount_total = _money()
    shipping_total = _money()
    tax_total = _money()
    total = _money()
    placed_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=255, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The discount codes entered at checkout, as the platform lists them (["SUMMER10", …]).
    discount_codes = models.JSONField(default=list, blank=True)
    # Contact and shipping address as given with this order (a snapshot, not the customer's).
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True)
    shipping_name = models.CharField(max_length=200, blank=True)
    shipping_address1 = models.CharField(max_length=255, blank=True)
    shipping_address2 = models.CharField(max_length=255, blank=True)
    shipping_city = models.CharField(max_length=120, blank=True)
    shipping_province = models.CharField(max_length=120, blank=True)
    shipping_postcode = models.CharField(max_length=32, blank=True)
    shipping_country = models.CharField(max_length=2, blank=True)
    # Hash of the last ingested payload, so an identical update is recognised and skipped.
    source_fingerprint = models.CharField(max_length=64, blank=True)
    source_updated_at = models.DateTimeField(null=True, blank=True)
    # The key to the customer's tracking page (`/track/<token>/`): unguessable, and replaced
    # when staff revoke a link that went astray.
    tracking_token = models.CharField(max_length=64, unique=True, default=new_public_token)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "external_id"], name="uniq_order_shop_external_id"
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
        ]
        indexes = [
            models.Index(fields=["shop", "-placed_at"]),
            models.Index(fields=["shop", "number"]),
            models.Index(fields=["shop", "status", "-placed_at"]),
            models.Index(fields=["shop", "email"]),
            # The customer's lookup by order number, typed in any case, across shops.
            models.Index(Upper("number"), name="order_number_upper_idx"),
        ]

    def __str__(self) -> str:
        return f"Order {self.number}"

    @property
    def is_cancelled(self) -> bool:
        return self.status == OrderStatus.CANCELLED

    @property
    def is_delivered(self) -> bool:
        """Delivered, or closed: nothing of it is on its way any more."""
        return self.status in DELIVERED_STATUSES

    def can_open_return(self, now: datetime) -> bool:
        """Whether the customer may still start a return: delivered, and within the shop's
        window counted from delivery."""
        if self.status != OrderStatus.DELIVERED or self.delivered_at is None:
            return False
        return now <= self.delivered_at + timedelta(days=self.shop.return_window_days)

    @property
    def is_payment_reversed(self) -> bool:
        """Voided or fully refunded: no sale to ask a review of or to sell on from."""
        return self.financial_status in REVERSED_FINANCIAL_STATUSES

    def record_transition(self, *, from_status: str, to_status: str, actor, note: str) -> None:
        OrderEvent.objects.create(
            shop_id=self.shop_id,
            order=self,
            kind=OrderEvent.Kind.STATUS_CHANGED,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            note=note,
        )


class LineItem(TimeStampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="line_items")
    external_id = models.CharField(max_length=64)
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    variant = models.ForeignKey(
        Variant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sku = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=255)
    variant_title = models.CharField(max_length=255, blank=True)
    quantity = models.PositiveIntegerField()
    unit_price = _money()
    discount_total = _money()
    requires_shipping = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order", "external_id"], name="uniq_lineitem_order_external_id"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="lineitem_quantity_positive"),
        ]
        indexes = [models.Index(fields=["shop", "product"])]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.title}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity - self.discount_total


class OrderEvent(models.Model):
    """The order's timeline: every status change and notable fact, never overwritten."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        STATUS_CHANGED = "status_changed", "Status changed"
        PAID = "paid", "Paid"
        PAYMENT_STATUS = "payment_status", "Payment status"
        REFUNDED = "refunded", "Refunded"
        SHIPMENT_CREATED = "shipment_created", "Shipment created"
        SHIPMENT_STATUS = "shipment_status", "Shipment status"
        REDACTED = "redacted", "Personal data erased"
        NOTE = "note", "Note"
        PROBLEM_REPORTED = "problem_reported", "Problem reported"
        TRACKING_LINK_RENEWED = "tracking_link_renewed", "Tracking link renewed"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["order", "at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.from_status}→{self.to_status}".strip()
