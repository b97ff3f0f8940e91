"""Ops' view of the loyalty programme. Each part keeps its admin classes in a block of its own."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from loyalty.models import Referral, ReferralStatus, Tier, TierChange
from loyalty.referrals.services import referral_review_clear, referral_review_refuse
from postpurchase.admin import OpsAdmin, ReadOnlyAdmin
from postpurchase.exceptions import DomainError

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
