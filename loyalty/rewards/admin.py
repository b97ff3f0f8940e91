"""Ops' view of the reward catalogue (editable, under the catalogue's rules) and of the codes
issued (read-only: a redemption moves only through its services, with its points)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from loyalty.models import Redemption, Reward
from loyalty.rewards.catalogue import reward_validate
from postpurchase.admin import OpsAdmin, ReadOnlyAdmin


class RewardForm(forms.ModelForm):
    class Meta:
        model = Reward
        fields = (
            "shop",
            "name",
            "kind",
            "value",
            "product",
            "points_price",
            "valid_days",
            "is_active",
            "position",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        reward = Reward(**{name: cleaned.get(name) for name in self.Meta.fields})
        try:
            # A price of 0 is a reward only granted (a birthday gift), never sold for points.
            reward_validate(reward, for_points=reward.points_price > 0)
        except ValidationError as error:
            self.add_error(None, error)
        return cleaned


@admin.register(Reward)
class RewardAdmin(OpsAdmin):
    form = RewardForm
    list_display = ("name", "shop", "kind", "value", "points_price", "valid_days", "is_active")
    list_filter = ("kind", "is_active", "shop")
    search_fields = ("name",)
    list_select_related = ("shop",)
    autocomplete_fields = ("product",)


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = (
        "code",
        "shop",
        "reward",
        "source",
        "points",
        "status",
        "created_at",
        "ends_at",
        "used_at",
    )
    list_filter = ("status", "source", "shop")
    search_fields = ("=code", "customer__email", "platform_discount_id")
    list_select_related = ("shop", "reward")
    date_hierarchy = "created_at"
    fields = (
        "shop",
        "customer",
        "member",
        "reward",
        "source",
        "points",
        "status",
        "code",
        "platform_discount_id",
        "ends_at",
        "issued_at",
        "used_at",
        "used_order",
        "failure_reason",
        "idempotency_key",
        "created_at",
    )
    readonly_fields = fields
