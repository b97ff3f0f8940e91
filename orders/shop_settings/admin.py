"""The settings area's rows in admin: the record of changes, read-only (it is the history),
and invitations. Registered when `orders.admin` is loaded."""

from django.contrib import admin
from django.utils.safestring import SafeString

from orders.models import SettingsChange, StaffInvitation
from postpurchase.admin import ReadOnlyAdmin, pretty_json


@admin.register(SettingsChange)
class SettingsChangeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "shop", "actor_label", "action", "subject")
    list_filter = ("shop", "area", "action")
    search_fields = ("subject", "actor_label", "action", "shop__name")
    list_select_related = ("shop",)
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "shop",
        "actor",
        "actor_label",
        "area",
        "action",
        "subject",
        "changes_pretty",
    )
    readonly_fields = fields

    @admin.display(description="Changes (before, after)")
    def changes_pretty(self, obj: SettingsChange) -> SafeString:
        return pretty_json(obj.changes)


@admin.register(StaffInvitation)
class StaffInvitationAdmin(ReadOnlyAdmin):
    list_display = ("email", "shop", "role", "created_at", "expires_at", "accepted_at")
    list_filter = ("shop", "role")
    search_fields = ("email", "shop__name")
    list_select_related = ("shop",)
