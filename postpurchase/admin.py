"""The house base for every app's admin, and ops' view of the kernel's own rows (domain events).

Apps build their admin classes on these: `OpsAdmin` (editable settings), `ReadOnlyAdmin` and
`ReadOnlyInline` (rows only the system writes: history, deliveries, facts), `ShopChildInline`
and `ShopScopedParentAdmin` (inline rows that carry their parent's shop), and `pretty_json`
to show a JSON value. Statuses and history are never edited here: objects move only through
their services, so admin can never skip a transition or its event.
"""

import json
from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from postpurchase.events import domain_event_redeliver
from postpurchase.models import DomainEvent

# Preformatted text that wraps (styled by css/admin.css: no inline style under the CSP).
PRE = '<pre class="ops-pre">{}</pre>'


def pretty_json(value: Any) -> SafeString:
    """A JSON value indented and escaped, as preformatted text."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html(PRE, text)


admin.site.site_header = "Postpurchase ops"
admin.site.site_title = "Postpurchase ops"
admin.site.index_title = "Shops, orders and ingestion"

# Links typed by ops without a scheme are https ones (also Django 6's default).
URL_FIELDS_ASSUME_HTTPS: "dict[type[models.Field[Any, Any]], dict[str, Any]]" = {
    models.URLField: {"assume_scheme": "https"}
}


class OpsAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS

    class Media:
        css = {"all": ("css/admin.css",)}


class OpsInline(admin.TabularInline):
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    extra = 0


class ReadOnlyAdmin(OpsAdmin):
    """Rows written only by the system: ops may look, never add, edit or delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(OpsInline):
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ShopChildInline(OpsInline):
    """An inline whose rows carry the parent's shop; it is filled in, never chosen."""

    exclude = ("shop",)


class ShopScopedParentAdmin(OpsAdmin):
    """Gives new inline rows the shop of the object they are added to."""

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for instance in instances:
            if hasattr(instance, "shop_id") and instance.shop_id is None:
                instance.shop_id = form.instance.shop_id
            instance.save()
        formset.save_m2m()


@admin.register(DomainEvent)
class DomainEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "name", "shop", "is_fully_delivered", "attempts")
    list_filter = ("name", "is_fully_delivered", "shop")
    search_fields = ("name", "last_error")
    list_select_related = ("shop",)
    date_hierarchy = "occurred_at"
    fields = (
        "shop",
        "name",
        "occurred_at",
        "is_fully_delivered",
        "delivered_to",
        "attempts",
        "last_error",
        "payload_pretty",
    )
    readonly_fields = fields
    actions = ("deliver_again",)

    def has_deliver_again_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("postpurchase.change_domainevent")

    @admin.display(description="Payload")
    def payload_pretty(self, obj: DomainEvent) -> str:
        return pretty_json(obj.payload)

    @admin.action(description="Deliver selected events again", permissions=["deliver_again"])
    def deliver_again(self, request: HttpRequest, queryset: QuerySet[DomainEvent]) -> None:
        ids = list(queryset.filter(is_fully_delivered=False).values_list("pk", flat=True))
        for event_id in ids:
            domain_event_redeliver(event_id=event_id)
        self.message_user(
            request, f"Queued {len(ids)} undelivered event(s) for delivery.", messages.SUCCESS
        )
