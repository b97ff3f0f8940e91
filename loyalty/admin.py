"""Ops' admin of loyalty. The ledger's part is read-only: entries, members' balances, expiry
lots, orders' earnings and the nightly checks; nothing there can be added, changed or deleted:
points move only through `loyalty.ledger.entry_book` (the database refuses to change an entry
anyway). Tiers are edited here; tier changes and referrals are read, and referrals flagged for
review are cleared or refused. The rewards' admin (the catalogue,
and the codes issued) is in `loyalty.rewards.admin`."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from loyalty.models import (
    LedgerCheck,
    LedgerEntry,
    Member,
    OrderEarning,
    PointLot,
    Referral,
    ReferralStatus,
    Tier,
    TierChange,
)
from loyalty.referrals.services import referral_review_clear, referral_review_refuse
from loyalty.rewards import admin as rewards_admin  # noqa: F401
from postpurchase.admin import OpsAdmin, ReadOnlyAdmin, pretty_json
from postpurchase.exceptions import DomainError

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
        "made_by",
        "idempotency_key",
    )
    list_filter = ("kind", "subject", "shop")
    search_fields = ("idempotency_key", "member__customer__email")
    list_select_related = ("shop", "member", "actor", "api_key")
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="made by")
    def made_by(self, entry: LedgerEntry) -> str:
        """An adjustment's author: the staff member, or the API key (name and prefix)."""
        if entry.api_key_id:
            return f"API key {entry.api_key}"
        if entry.actor_id:
            return str(entry.actor)
        return ""


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


# --- Tiers and referrals -----------------------------------------------------------------


@admin.register(Tier)
class TierAdmin(OpsAdmin):
    list_display = (
        "name",
        "shop",
        "rank",
        "threshold",
        "earn_multiplier",
        "free_shipping_quarterly",
        "early_access_tag",
    )
    list_filter = ("shop", "free_shipping_quarterly")
    search_fields = ("name", "shop__name", "early_access_tag")
    ordering = ("shop", "rank")
    raw_id_fields = ("birthday_reward",)


@admin.register(TierChange)
class TierChangeAdmin(ReadOnlyAdmin):
    """Every move of every member: written only by the tier services, never edited."""

    list_display = ("at", "member", "from_tier", "to_tier", "reason", "qualifying_value", "shop")
    list_filter = ("reason", "shop", "to_tier")
    search_fields = ("member__customer__email", "member__referral_code")
    date_hierarchy = "at"
    list_select_related = ("member", "from_tier", "to_tier", "shop")


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    """Referrals with what was refused or flagged and why. A flagged (or refused) one is cleared
    or refused with the actions, through the services, never by editing its status."""

    list_display = (
        "created_at",
        "shop",
        "referrer",
        "friend",
        "status",
        "reason",
        "friend_order",
        "rewarded_at",
    )
    list_filter = ("status", "shop", "created_at")
    search_fields = (
        "reason",
        "referrer__customer__email",
        "friend__email",
        "referrer__referral_code",
    )
    date_hierarchy = "created_at"
    list_select_related = ("shop", "referrer", "friend", "friend_order")
    readonly_fields = ("device_fingerprint", "address_fingerprint")
    actions = ("clear_referrals", "refuse_referrals")

    def _each(self, request: HttpRequest, queryset: QuerySet[Referral], service: Any) -> None:
        done, refused = 0, []
        for referral in queryset:
            try:
                service(referral_id=referral.pk, actor=request.user)
                done += 1
            except DomainError as error:
                refused.append(f"{referral}: {error}")
        if done:
            self.message_user(request, f"{done} referral(s) updated.", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    @admin.action(description="Clear: let the referral go on (reviewed, not fraud)")
    def clear_referrals(self, request: HttpRequest, queryset: QuerySet[Referral]) -> None:
        self._each(request, queryset, referral_review_clear)

    @admin.action(description="Refuse: the referrer gets nothing for it")
    def refuse_referrals(self, request: HttpRequest, queryset: QuerySet[Referral]) -> None:
        self._each(
            request, queryset.exclude(status=ReferralStatus.REWARDED), referral_review_refuse
        )


# --- end of tiers and referrals ---
