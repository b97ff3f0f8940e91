"""What the settings pages show, scoped to the shop."""

from django.db.models import QuerySet
from django.utils import timezone

from orders.models import ApiKey, SettingsChange, Shop, StaffInvitation, StaffMembership
from orders.tenancy import scoped


def staff_list_for_shop(*, shop: Shop) -> QuerySet[StaffMembership]:
    return scoped(StaffMembership, shop).select_related("user").order_by("user__email", "pk")


def staff_invitations_open_for_shop(*, shop: Shop) -> QuerySet[StaffInvitation]:
    return scoped(StaffInvitation, shop).filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def api_keys_for_shop(*, shop: Shop) -> QuerySet[ApiKey]:
    return scoped(ApiKey, shop).order_by("revoked_at", "-created_at")


def settings_changes_for_shop(*, shop: Shop, area: str = "") -> QuerySet[SettingsChange]:
    """Latest first; one area's, or every area's."""
    rows = scoped(SettingsChange, shop)
    return rows.filter(area=area) if area else rows
