from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import translation

from orders.models.tenancy import Shop
from postpurchase.models import TimeStampedModel


class Product(TimeStampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="products")
    external_id = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=255)
    # Shopify's `vendor`: the brand review feeds (Google's) name the product by.
    brand = models.CharField(max_length=120, blank=True)
    url = models.URLField(blank=True, help_text="The product's page on the storefront.")
    image_url = models.URLField(blank=True)
    is_consumable = models.BooleanField(default=False)
    days_of_use = models.PositiveIntegerField(
        null=True, blank=True, help_text="How long one unit typically lasts (consumables)."
    )
    care_guide = models.TextField(blank=True, help_text="Care and usage guide sent after delivery.")
    care_guide_language = models.CharField(
        max_length=16,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=(
            "The language the care guide is written in (blank: the shop's). Customers read it "
            "as written, whatever their own language, marked as this language."
        ),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "external_id"],
                condition=~models.Q(external_id=""),
                name="uniq_product_shop_external_id",
            ),
            models.CheckConstraint(
                condition=models.Q(is_consumable=False) | models.Q(days_of_use__gt=0),
                name="consumable_has_days_of_use",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def care_guide_language_code(self, shop_locale: str) -> str:
        """The language code the guide is written in: its own, else the shop's."""
        return (
            self.care_guide_language or translation.to_language(shop_locale or "en").split("-")[0]
        )


class Variant(TimeStampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    external_id = models.CharField(max_length=64, blank=True)
    sku = models.CharField(max_length=100, blank=True)
    # The barcode (GTIN: UPC, EAN, ISBN) where the shop gives one (Shopify's `barcode`).
    gtin = models.CharField(max_length=14, blank=True)
    title = models.CharField(max_length=255, blank=True)
    price = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(0)], default=0
    )
    currency = models.CharField(max_length=3)
    image_url = models.URLField(blank=True)
    inventory_quantity = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "external_id"],
                condition=~models.Q(external_id=""),
                name="uniq_variant_shop_external_id",
            ),
        ]
        # Shops do reuse SKUs, so a SKU is looked up, never relied on as unique.
        indexes = [models.Index(fields=["shop", "sku"])]

    def __str__(self) -> str:
        return f"{self.product.title} – {self.title}" if self.title else self.product.title


class ProductAffinity(models.Model):
    """How much more often `related` is bought with `product` than on its own, from the shop's
    own orders: recomputed nightly, read by messages and the tracking page."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="affinities")
    related = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    # Orders holding both products, and lift = P(both) / (P(product) * P(related)).
    orders_together = models.PositiveIntegerField()
    lift = models.FloatField()
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "product affinities"
        constraints = [
            models.UniqueConstraint(fields=["product", "related"], name="uniq_affinity_pair"),
        ]
        indexes = [models.Index(fields=["product", "-lift"])]

    def __str__(self) -> str:
        return f"{self.product_id} → {self.related_id} (lift {self.lift:.2f})"
