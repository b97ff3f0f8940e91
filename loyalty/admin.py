"""Ops' view of loyalty. The ledger is read-only: points move only through
`loyalty.ledger.entry_book`. Each part's own admin module registers on import."""

from django.contrib import admin
from django.utils.safestring import SafeString

from loyalty.models import LedgerCheck
from loyalty.rewards import admin as rewards_admin  # noqa: F401
from postpurchase.admin import ReadOnlyAdmin, pretty_json


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
