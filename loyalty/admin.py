"""Ops' admin of loyalty. The ledger's part, read-only: entries, members' balances, expiry
lots and orders' earnings. Nothing here can be added, changed or deleted: points move only
through `loyalty.ledger.entry_book` (the database refuses to change an entry anyway). The
rewards' admin (the catalogue, and the codes issued) is in `loyalty.rewards.admin`."""

from django.contrib import admin
from django.utils.safestring import SafeString

from loyalty.models import LedgerCheck, LedgerEntry, Member, OrderEarning, PointLot
from loyalty.rewards import admin as rewards_admin  # noqa: F401
from postpurchase.admin import ReadOnlyAdmin, pretty_json

# --- The ledger ------------------------------------------------------------------------------


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "shop",
        "member",
        "kind",
        "available_delta",
        "pending_delta",
        "available_after",
        "subject",
        "idempotency_key",
    )
    list_filter = ("kind", "subject", "shop")
    search_fields = ("idempotency_key", "member__customer__email")
    list_select_related = ("shop", "member")
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(Member)
class MemberAdmin(ReadOnlyAdmin):
    list_display = (
        "customer",
        "shop",
        "available",
        "pending",
        "reserved",
        "tier",
        "lifetime_earned",
        "lifetime_redeemed",
        "lifetime_expired",
    )
    list_filter = ("shop", "tier")
    search_fields = ("customer__email", "referral_code")
    list_select_related = ("customer", "shop", "tier")


@admin.register(PointLot)
class PointLotAdmin(ReadOnlyAdmin):
    list_display = ("member", "shop", "points", "remaining", "available_at", "expires_at")
    list_filter = ("shop",)
    search_fields = ("member__customer__email",)
    list_select_related = ("member", "shop")
    date_hierarchy = "expires_at"


@admin.register(OrderEarning)
class OrderEarningAdmin(ReadOnlyAdmin):
    list_display = ("order", "member", "shop", "status", "confirm_at", "confirmed_at")
    list_filter = ("status", "shop")
    search_fields = ("order__number", "member__customer__email")
    list_select_related = ("order", "member", "shop")


@admin.register(LedgerCheck)
class LedgerCheckAdmin(ReadOnlyAdmin):
    """The nightly runs of the check that every balance is the sum of its entries."""

    list_display = ("ran_at", "members_checked", "drifted")
    readonly_fields = ("ran_at", "members_checked", "drift_shown")
    exclude = ("drift",)
    date_hierarchy = "ran_at"

    @admin.display(description="drifted members")
    def drifted(self, check: LedgerCheck) -> int:
        return len(check.drift)

    @admin.display(description="drift")
    def drift_shown(self, check: LedgerCheck) -> SafeString:
        return pretty_json(check.drift)


# --- end of the ledger ---
