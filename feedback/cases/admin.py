"""Ops' view of follow-up cases: each case with its thread, resolutions and history, the
resolutions on their own, and every shop's case policy.

A case is read-only here: it moves only through `feedback.cases.services` (from the dashboard,
the customer's replies and the follow-up), so admin never skips its clock, history or messages.
Policies are settings: editable."""

from datetime import datetime
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from feedback.cases.selectors import SLA_FILTERS, sla_filter
from feedback.models import Case, CaseEvent, CaseMessage, CasePolicy, CaseResolution
from postpurchase.admin import OpsAdmin, ReadOnlyAdmin, ReadOnlyInline


class SlaStateFilter(admin.SimpleListFilter):
    title = "SLA state"
    parameter_name = "sla"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(SLA_FILTERS)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        value = self.value()
        if not value:
            return queryset
        now: datetime = timezone.now()
        return queryset.filter(sla_filter(value, now))


class CaseMessageInline(ReadOnlyInline):
    model = CaseMessage
    fields = ("created_at", "direction", "channel", "author", "body", "message")
    readonly_fields = fields
    ordering = ("created_at", "id")


class CaseResolutionInline(ReadOnlyInline):
    model = CaseResolution
    fields = ("created_at", "kind", "amount", "currency", "actor", "note", "made_right")
    readonly_fields = fields


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ("at", "from_status", "to_status", "actor", "note")
    readonly_fields = fields
    ordering = ("at", "id")


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "summary",
        "shop",
        "source",
        "priority",
        "status",
        "assignee",
        "resolution_due_at",
        "created_at",
    )
    list_filter = ("shop", "status", "priority", "source", SlaStateFilter)
    search_fields = ("summary", "customer__email", "customer__last_name", "order__number")
    list_select_related = ("shop", "assignee")
    date_hierarchy = "created_at"
    inlines = (CaseMessageInline, CaseResolutionInline, CaseEventInline)


@admin.register(CaseMessage)
class CaseMessageAdmin(ReadOnlyAdmin):
    list_display = ("pk", "case", "direction", "channel", "author", "created_at")
    list_filter = ("direction", "channel", "case__shop")
    search_fields = ("body", "case__customer__email")
    list_select_related = ("case", "author")


@admin.register(CaseResolution)
class CaseResolutionAdmin(ReadOnlyAdmin):
    list_display = ("pk", "case", "kind", "amount", "currency", "actor", "made_right", "created_at")
    list_filter = ("kind", "made_right", "case__shop")
    search_fields = ("case__summary", "case__customer__email", "note")
    list_select_related = ("case", "actor")


@admin.register(CasePolicy)
class CasePolicyAdmin(OpsAdmin):
    list_display = ("shop", "updated_at")
    search_fields = ("shop__name",)
    list_select_related = ("shop",)
