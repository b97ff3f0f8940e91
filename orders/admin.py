"""Ops' view of every `orders` model.

Statuses are read-only here: orders and shipments move only through their services (the state
machines), so an edit in admin can never skip a transition or its event. History rows (order
events, tracking scans, webhook deliveries) are facts and are never edited. The base classes
are the kernel's (`postpurchase.admin`).
"""

import json
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.html import format_html

from orders.ingest.webhooks import webhook_event_replay
from orders.models import (
    ApiKey,
    CarrierAccount,
    Consent,
    Customer,
    DataExport,
    IdempotencyRecord,
    LineItem,
    Order,
    OrderEvent,
    ProblemReport,
    Product,
    ProductAffinity,
    Shipment,
    ShipmentItem,
    Shop,
    StaffMembership,
    TrackingEvent,
    TrackingPageViews,
    Variant,
    WebhookEvent,
    WebhookRefusal,
)
from orders.models.customers import validate_e164
from orders.services.api_keys import api_key_create, api_key_revoke
from orders.shop_settings import admin as shop_settings_admin  # noqa: F401  (registers its admins)
from postpurchase.admin import (
    PRE,
    OpsAdmin,
    OpsInline,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ShopChildInline,
    ShopScopedParentAdmin,
    pretty_json,
)

# --- Tenancy ----------------------------------------------------------------------------------


class StaffMembershipInline(OpsInline):
    model = StaffMembership
    autocomplete_fields = ("user",)


class CarrierAccountInline(OpsInline):
    model = CarrierAccount


class ShopAdminForm(ModelForm):
    # The admin builds the form's fields from the fieldsets below.
    def clean_sms_number(self) -> str:
        # Texts go out from this number and replies to it reach this shop: only a valid E.164
        # number will do.
        number = self.cleaned_data["sms_number"].strip()
        if not number:
            return number
        validate_e164(number)
        if Shop.objects.filter(sms_number=number).exclude(pk=self.instance.pk).exists():
            raise ValidationError(f"Another shop already sends from {number}.")
        return number


@admin.register(Shop)
class ShopAdmin(OpsAdmin):
    form = ShopAdminForm
    # The webhook secrets are editable on the form, but never listed.
    list_display = ("name", "slug", "domain", "currency", "timezone", "is_active", "created_at")
    list_filter = ("is_active", "currency")
    search_fields = ("name", "slug", "domain", "support_email")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at", "redacted_at")
    inlines = (StaffMembershipInline, CarrierAccountInline)
    fieldsets = (
        (None, {"fields": ("name", "slug", "domain", "website_url", "is_active")}),
        ("Locale", {"fields": ("currency", "timezone", "locale")}),
        ("Texts", {"fields": ("sms_number",)}),
        (
            "Branding and support",
            {
                "fields": ("logo_url", "primary_colour", "support_email", "support_phone"),
            },
        ),
        (
            "Shopify",
            {
                "fields": ("shopify_webhook_secret", "shopify_access_token"),
                "classes": ("collapse",),
            },
        ),
        ("History", {"fields": ("created_at", "updated_at", "redacted_at")}),
    )


@admin.register(StaffMembership)
class StaffMembershipAdmin(OpsAdmin):
    list_display = ("user", "shop", "role", "created_at")
    list_filter = ("role", "shop")
    search_fields = ("user__username", "user__email", "shop__name")
    autocomplete_fields = ("user", "shop")
    list_select_related = ("user", "shop")

    def get_queryset(self, request: HttpRequest) -> QuerySet[StaffMembership]:
        return super().get_queryset(request).select_related("user", "shop")


# --- Ingestion --------------------------------------------------------------------------------


@admin.register(CarrierAccount)
class CarrierAccountAdmin(OpsAdmin):
    list_display = ("shop", "provider", "is_active", "updated_at")
    list_filter = ("provider", "is_active", "shop")
    search_fields = ("shop__name",)
    autocomplete_fields = ("shop",)
    list_select_related = ("shop",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[CarrierAccount]:
        return super().get_queryset(request).select_related("shop")


@admin.register(ApiKey)
class ApiKeyAdmin(OpsAdmin):
    list_display = ("name", "shop", "prefix", "is_active", "last_used_at", "created_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "shop")
    search_fields = ("name", "prefix", "shop__name")
    autocomplete_fields = ("shop",)
    list_select_related = ("shop",)
    actions = ("revoke",)

    @admin.display(boolean=True, description="Active")
    def is_active(self, obj: ApiKey) -> bool:
        return obj.is_active

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("shop", "name")
        return ("shop", "name", "prefix", "key_hash", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return []
        return ["shop", "prefix", "key_hash", "created_at", "last_used_at", "revoked_at"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # The service makes the secret; only its hash is stored, so this is its one showing.
        key, raw = api_key_create(shop=obj.shop, name=obj.name)
        obj.pk = key.pk
        obj.refresh_from_db()
        messages.success(
            request,
            format_html(
                "The API key for {} is <code>{}</code>. Copy it now: it is not stored and will "
                "not be shown again.",
                key.shop,
                raw,
            ),
        )

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        active = list(queryset.filter(revoked_at__isnull=True))
        for key in active:
            api_key_revoke(key=key)
        noun = "API key" if len(active) == 1 else "API keys"
        self.message_user(request, f"Revoked {len(active)} {noun}.", messages.SUCCESS)


@admin.register(WebhookRefusal)
class WebhookRefusalAdmin(ReadOnlyAdmin):
    """The last delivery refused for its signature, per shop and provider (no body is kept)."""

    list_display = ("refused_at", "provider", "shop", "topic", "reason", "count")
    list_filter = ("provider", "shop")
    search_fields = ("shop__name", "shop__domain", "topic")
    list_select_related = ("shop",)
    fields = ("provider", "shop", "topic", "reason", "refused_at", "count")
    readonly_fields = fields


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "provider", "topic", "shop", "status", "attempts", "event_id")
    list_filter = ("provider", "status", "topic", "shop")
    search_fields = ("event_id", "topic", "shop__name", "shop__domain")
    list_select_related = ("shop",)
    date_hierarchy = "created_at"
    actions = ("replay",)
    fields = (
        "provider",
        "shop",
        "event_id",
        "topic",
        "status",
        "error",
        "attempts",
        "processed_at",
        "created_at",
        "updated_at",
        "headers_pretty",
        "body_pretty",
    )
    readonly_fields = fields

    @admin.display(description="Headers")
    def headers_pretty(self, obj: WebhookEvent) -> str:
        return pretty_json(obj.headers)

    @admin.display(description="Body")
    def body_pretty(self, obj: WebhookEvent) -> str:
        try:
            return pretty_json(json.loads(obj.body))
        except ValueError:
            return format_html(PRE, obj.body)

    def has_replay_permission(self, request: HttpRequest) -> bool:
        # Replaying changes a row's status, so it takes the change permission even though
        # the admin never lets anyone edit the stored delivery itself.
        return request.user.has_perm("orders.change_webhookevent")

    @admin.action(description="Replay selected deliveries", permissions=["replay"])
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        for event_id in ids:
            webhook_event_replay(event_id=event_id)
        noun = "delivery" if len(ids) == 1 else "deliveries"
        self.message_user(
            request, f"Queued {len(ids)} webhook {noun} for processing.", messages.SUCCESS
        )


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(OpsAdmin):
    list_display = ("created_at", "shop", "method", "path", "key", "response_status")
    list_filter = ("method", "response_status", "shop")
    search_fields = ("key", "path")
    list_select_related = ("shop",)
    fields = (
        "shop",
        "key",
        "method",
        "path",
        "request_hash",
        "response_status",
        "response_pretty",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="Response body")
    def response_pretty(self, obj: IdempotencyRecord) -> str:
        return pretty_json(obj.response_body)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DataExport)
class DataExportAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "shop",
        "customer_email",
        "customer_external_id",
        "request_reference",
    )
    list_filter = ("shop",)
    search_fields = ("customer_email", "customer_external_id", "request_reference")
    list_select_related = ("shop",)
    fields = (
        "shop",
        "customer_email",
        "customer_external_id",
        "request_reference",
        "created_at",
        "data_pretty",
    )
    readonly_fields = fields

    @admin.display(description="Data")
    def data_pretty(self, obj: DataExport) -> str:
        return pretty_json(obj.data)


# --- Customers and catalogue ------------------------------------------------------------------


class ConsentInline(ShopChildInline):
    model = Consent


@admin.register(Customer)
class CustomerAdmin(ShopScopedParentAdmin):
    list_display = ("__str__", "email", "phone", "shop", "created_at", "redacted_at")
    list_filter = ("shop", ("redacted_at", admin.EmptyFieldListFilter))
    search_fields = ("email", "phone", "first_name", "last_name", "external_id")
    autocomplete_fields = ("shop",)
    list_select_related = ("shop",)
    readonly_fields = ("created_at", "updated_at", "redacted_at")
    inlines = (ConsentInline,)


@admin.register(Consent)
class ConsentAdmin(OpsAdmin):
    list_display = ("customer", "channel", "status", "changed_at", "source", "shop")
    list_filter = ("channel", "status", "shop")
    search_fields = ("customer__email", "customer__phone", "customer__last_name")
    autocomplete_fields = ("shop", "customer")
    list_select_related = ("customer", "shop")


class VariantInline(ShopChildInline):
    model = Variant


@admin.register(Product)
class ProductAdmin(ShopScopedParentAdmin):
    list_display = (
        "title",
        "shop",
        "external_id",
        "is_consumable",
        "days_of_use",
        "care_guide_languages",
    )
    list_filter = ("is_consumable", "shop")
    search_fields = ("title", "external_id")
    autocomplete_fields = ("shop",)
    list_select_related = ("shop",)
    inlines = (VariantInline,)

    @admin.display(description="Care guide")
    def care_guide_languages(self, product: Product) -> str:
        """Which language the guide is written in: customers read it as written, in any
        language, so staff see here which one it is."""
        if not product.care_guide.strip():
            return "—"
        if product.care_guide_language:
            return str(dict(settings.LANGUAGES)[product.care_guide_language])
        code = product.care_guide_language_code(product.shop.locale)
        name = dict(settings.LANGUAGES).get(code, code)
        return f"{name} (the shop’s)"


@admin.register(ProductAffinity)
class ProductAffinityAdmin(ReadOnlyAdmin):
    list_display = ("product", "related", "orders_together", "lift", "computed_at", "shop")
    list_filter = ("shop",)
    search_fields = ("product__title", "related__title")
    list_select_related = ("product", "related", "shop")


@admin.register(Variant)
class VariantAdmin(OpsAdmin):
    list_display = ("__str__", "sku", "price", "currency", "inventory_quantity", "shop")
    list_filter = ("currency", "shop")
    search_fields = ("sku", "title", "external_id", "product__title")
    autocomplete_fields = ("shop", "product")
    list_select_related = ("product", "shop")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Variant]:
        # Its name includes the product's title, also in autocomplete results.
        return super().get_queryset(request).select_related("product")


# --- Orders and shipments ---------------------------------------------------------------------


class LineItemInline(ShopChildInline):
    model = LineItem
    autocomplete_fields = ("product", "variant")
    fields = (
        "external_id",
        "title",
        "variant_title",
        "sku",
        "product",
        "variant",
        "quantity",
        "unit_price",
        "discount_total",
        "requires_shipping",
    )


class ShipmentInline(ShopChildInline):
    model = Shipment
    fields = (
        "external_id",
        "carrier",
        "tracking_number",
        "tracking_url",
        "status",
        "estimated_delivery_date",
        "shipped_at",
        "delivered_at",
    )
    readonly_fields = ("status", "delivered_at")
    show_change_link = True


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ("at", "kind", "from_status", "to_status", "actor", "note")
    readonly_fields = fields
    ordering = ("at", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderEvent]:
        return super().get_queryset(request).select_related("actor")


@admin.register(Order)
class OrderAdmin(ShopScopedParentAdmin):
    list_display = (
        "number",
        "shop",
        "customer",
        "status",
        "financial_status",
        "total",
        "currency",
        "placed_at",
    )
    list_filter = ("status", "financial_status", "source", "shop")
    search_fields = (
        "number",
        "external_id",
        "email",
        "customer__email",
        "customer__last_name",
        "shipping_name",
    )
    autocomplete_fields = ("shop", "customer")
    list_select_related = ("shop", "customer")
    date_hierarchy = "placed_at"
    ordering = ("-placed_at",)
    inlines = (LineItemInline, ShipmentInline, OrderEventInline)
    fieldsets = (
        (None, {"fields": ("shop", "customer", "number", "external_id", "source")}),
        (
            "Status",
            {
                "fields": (
                    "status",
                    "financial_status",
                    "placed_at",
                    "paid_at",
                    "delivered_at",
                    "cancelled_at",
                    "cancel_reason",
                )
            },
        ),
        (
            "Money",
            {
                "fields": (
                    "currency",
                    "subtotal",
                    "discount_total",
                    "shipping_total",
                    "tax_total",
                    "total",
                )
            },
        ),
        (
            "Contact and shipping address",
            {
                "fields": (
                    "email",
                    "phone",
                    "shipping_name",
                    "shipping_address1",
                    "shipping_address2",
                    "shipping_city",
                    "shipping_province",
                    "shipping_postcode",
                    "shipping_country",
                )
            },
        ),
        (
            "Ingestion",
            {
                "fields": ("source_fingerprint", "source_updated_at", "created_at", "updated_at"),
                "classes": ("collapse",),
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Order | None = None) -> list[str]:
        base = ["created_at", "updated_at", "source_fingerprint", "source_updated_at"]
        if obj is None:
            return base
        return [*base, "status", "financial_status", "cancelled_at", "delivered_at", "paid_at"]


@admin.register(LineItem)
class LineItemAdmin(OpsAdmin):
    list_display = ("__str__", "order", "sku", "unit_price", "shop")
    list_filter = ("requires_shipping", "shop")
    search_fields = ("title", "sku", "external_id", "order__number")
    autocomplete_fields = ("shop", "order", "product", "variant")
    list_select_related = ("order", "shop")

    def get_queryset(self, request: HttpRequest) -> QuerySet[LineItem]:
        return super().get_queryset(request).select_related("order")


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "order", "kind", "from_status", "to_status", "actor", "shop")
    list_filter = ("kind", "shop")
    search_fields = ("order__number", "note")
    list_select_related = ("order", "actor", "shop")
    date_hierarchy = "at"


class ShipmentItemInline(OpsInline):
    model = ShipmentItem
    autocomplete_fields = ("line_item",)


class TrackingEventInline(ReadOnlyInline):
    model = TrackingEvent
    fields = ("occurred_at", "status", "description", "location", "source")
    readonly_fields = fields
    ordering = ("occurred_at", "id")


@admin.register(Shipment)
class ShipmentAdmin(OpsAdmin):
    list_display = (
        "__str__",
        "order",
        "status",
        "estimated_delivery_date",
        "shipped_at",
        "last_event_at",
        "shop",
    )
    list_filter = ("status", "carrier", "shop")
    search_fields = ("tracking_number", "external_id", "order__number")
    autocomplete_fields = ("shop", "order")
    list_select_related = ("order", "shop")
    inlines = (ShipmentItemInline, TrackingEventInline)

    def get_readonly_fields(self, request: HttpRequest, obj: Shipment | None = None) -> list[str]:
        if obj is None:
            return []
        return ["status", "delivered_at", "last_event_at"]


@admin.register(ShipmentItem)
class ShipmentItemAdmin(OpsAdmin):
    list_display = ("__str__", "shipment", "line_item", "quantity")
    search_fields = ("shipment__tracking_number", "line_item__title", "line_item__sku")
    autocomplete_fields = ("shipment", "line_item")
    list_select_related = ("shipment", "line_item")


@admin.register(TrackingEvent)
class TrackingEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "shipment", "status", "location", "source", "shop")
    list_filter = ("status", "source", "shop")
    search_fields = ("shipment__tracking_number", "description", "location")
    list_select_related = ("shipment", "shop")
    date_hierarchy = "occurred_at"


@admin.register(TrackingPageViews)
class TrackingPageViewsAdmin(ReadOnlyAdmin):
    list_display = ("order", "view_count", "first_viewed_at", "last_viewed_at", "shop")
    list_filter = ("shop",)
    search_fields = ("order__number",)
    list_select_related = ("order", "shop")
    date_hierarchy = "last_viewed_at"


@admin.register(ProblemReport)
class ProblemReportAdmin(OpsAdmin):
    """Cases customers opened from the tracking page. Ops may close one; what the customer
    wrote stays as they wrote it."""

    list_display = ("created_at", "order", "kind", "status", "has_photo", "shop")
    list_filter = ("status", "kind", "shop")
    search_fields = ("order__number", "description", "order__email")
    list_select_related = ("order", "shop")
    date_hierarchy = "created_at"
    readonly_fields = (
        "shop",
        "order",
        "shipment",
        "kind",
        "description",
        "photo_content_type",
        "submission_key",
        "shop_notified_at",
        "resolved_at",
        "resolved_by",
        "created_at",
    )

    @admin.display(boolean=True, description="Photo")
    def has_photo(self, obj: ProblemReport) -> bool:
        return obj.has_photo

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
