"""Ops' view of returns: each return with its items and history, every shop's policy and
reasons, and the store-credit ledger.

A return is read-only here: it moves only through the `returns.services` transitions (from
the dashboard), so admin can never skip a step, its event or its message. The history and the
credit ledger are facts and are never edited. Policies and reasons are settings: editable.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from postpurchase.admin import OpsAdmin, ReadOnlyAdmin, ReadOnlyInline
from returns.models import (
    ReturnEvent,
    ReturnItem,
    ReturnPolicy,
    ReturnReason,
    ReturnRequest,
    StoreCreditEntry,
)


class ReturnItemInline(ReadOnlyInline):
    model = ReturnItem
    # The photo's bytes stay out of the page: staff see it on the dashboard's return page.
    fields = (
        "line_item",
        "quantity",
        "reason",
        "comment",
        "resolution",
        "exchange_variant",
        "value",
        "amount",
        "condition",
        "restock",
        "inspection_note",
    )
    readonly_fields = fields


class ReturnEventInline(ReadOnlyInline):
    model = ReturnEvent
    fields = ("at", "from_status", "to_status", "actor", "note")
    readonly_fields = fields
    ordering = ("at", "id")


@admin.register(ReturnRequest)
class ReturnRequestAdmin(ReadOnlyAdmin):
    list_display = ("rma", "shop", "order", "status", "method", "refund_total", "created_at")
    list_filter = ("status", "method", "shop")
    search_fields = ("rma", "order__number")
    list_select_related = ("shop", "order")
    date_hierarchy = "created_at"
    inlines = (ReturnItemInline, ReturnEventInline)
    fields = (
        "shop",
        "order",
        "customer",
        "rma",
        "status",
        "status_reason",
        "method",
        "currency",
        "refund_total",
        "credit_total",
        "fee_total",
        "refund_reference",
        "exchange_order",
        "resolved_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(OpsAdmin):
    list_display = ("shop", "offers_exchange", "offers_store_credit", "offers_refund")
    list_select_related = ("shop",)
    search_fields = ("shop__name",)
    raw_id_fields = ("non_returnable_products", "non_returnable_variants")
    readonly_fields = ("created_at", "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # One policy per shop, for good: the shop is chosen when it is added.
        base = tuple(super().get_readonly_fields(request, obj))
        return (*base, "shop") if obj else base


@admin.register(ReturnReason)
class ReturnReasonAdmin(OpsAdmin):
    list_display = ("label", "code", "shop", "is_shop_fault", "requires_photo", "fee", "is_active")
    list_filter = ("is_active", "is_shop_fault", "shop")
    search_fields = ("label", "code", "shop__name")
    list_select_related = ("shop",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Returns keep their reason (PROTECT): retire one by unticking "is active".
        return False


@admin.register(StoreCreditEntry)
class StoreCreditEntryAdmin(ReadOnlyAdmin):
    list_display = ("customer", "shop", "amount", "currency", "reason", "created_at")
    list_filter = ("currency", "shop")
    search_fields = ("customer__email", "reason", "return_request__rma", "dedupe_key")
    list_select_related = ("customer", "shop")
