"""What the loyalty API answers and accepts. Points are whole numbers; times ISO 8601 in UTC."""

from rest_framework import serializers

from loyalty.api.services import REASON_MAX_LENGTH
from loyalty.models import LedgerEntry, Tier
from orders.models import ApiKey

POINTS_LIMIT = 10_000_000


class ApiKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix"]


class LedgerEntrySerializer(serializers.ModelSerializer):
    points = serializers.IntegerField(
        read_only=True, help_text="The change to available + pending points."
    )
    order = serializers.IntegerField(source="order_id", allow_null=True, read_only=True)
    api_key = ApiKeySerializer(
        read_only=True,
        allow_null=True,
        help_text="The API key that made an adjustment through the API; null for any other entry.",
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "kind",
            "points",
            "available_delta",
            "pending_delta",
            "available_after",
            "pending_after",
            "subject",
            "subject_id",
            "order",
            "reason",
            "api_key",
            "idempotency_key",
            "created_at",
        ]


class TierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tier
        fields = ["id", "name", "rank"]


class LedgerPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = LedgerEntrySerializer(many=True)


class LoyaltyAccountSerializer(serializers.Serializer):
    customer = serializers.IntegerField(help_text="The customer's id.")
    available = serializers.IntegerField(help_text="Confirmed points (may be negative).")
    pending = serializers.IntegerField(help_text="Points of orders still in their return window.")
    reserved = serializers.IntegerField(help_text="Points held for a code being created.")
    spendable = serializers.IntegerField(help_text="available - reserved, never below 0.")
    lifetime_earned = serializers.IntegerField()
    lifetime_redeemed = serializers.IntegerField()
    lifetime_expired = serializers.IntegerField()
    tier = TierSerializer(allow_null=True)
    tier_since = serializers.DateTimeField(allow_null=True)
    entries = LedgerPageSerializer(help_text="The ledger, newest first, one page of it.")


class AdjustmentInput(serializers.Serializer):
    points = serializers.IntegerField(
        min_value=-POINTS_LIMIT,
        max_value=POINTS_LIMIT,
        help_text="Points to add (positive) or take (negative); never 0.",
    )
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, help_text="Why (required).")

    def validate_points(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError("An adjustment must add or take points: not 0.")
        return value
