"""The settings log's loyalty changes in words: each field by its label, each action as a
sentence, never the stored identifiers."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from orders.models import SettingsChange

ACTIONS = {
    "loyalty.started": _("Programme started"),
    "loyalty.rules_changed": _("Rules changed"),
    "loyalty.tier_added": _("Tier added"),
    "loyalty.tier_changed": _("Tier changed"),
    "loyalty.tier_removed": _("Tier removed"),
    "loyalty.reward_added": _("Reward added"),
    "loyalty.reward_changed": _("Reward changed"),
    "loyalty.reward_removed": _("Reward removed"),
}
FIELDS = {
    "is_active": _("running"),
    "name": _("name"),
    "points_per_unit": _("points per unit"),
    "earn_on_shipping": _("shipping earns"),
    "earn_on_tax": _("tax earns"),
    "debt_policy": _("points taken back after spending"),
    "point_value": _("point value"),
    "expiry_months": _("expiry (months)"),
    "expiry_reminder_days": _("reminder (days before)"),
    "review_points": _("review points"),
    "photo_review_points": _("photo points"),
    "birthday_points": _("birthday points"),
    "anniversary_points": _("anniversary points"),
    "referral_points": _("referral points"),
    "referral_friend_reward": _("friend's reward"),
    "referral_monthly_cap": _("referrals per month"),
    "tier_basis": _("tier basis"),
    "threshold": _("from"),
    "earn_multiplier": _("multiplier"),
    "free_shipping_quarterly": _("free shipping each quarter"),
    "early_access_tag": _("early-access tag"),
    "birthday_reward": _("birthday reward"),
    "kind": _("kind"),
    "value": _("value"),
    "product": _("product"),
    "points_price": _("points price"),
    "valid_days": _("valid days"),
}
VALUES = {
    "repay": _("negative balance, repaid"),
    "write_off": _("written off"),
    "spend": _("spend"),
    "points": _("points earned"),
    "amount_off": _("amount off"),
    "percent_off": _("percent off"),
    "free_shipping": _("free shipping"),
    "free_product": _("free product"),
}


@dataclass(frozen=True)
class ChangeRow:
    at: datetime
    who: str
    what: str
    subject: str
    details: str


def _shown(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, str) and value in VALUES:
        return str(VALUES[value])
    return str(value)


def change_rows(changes: list[SettingsChange]) -> list[ChangeRow]:
    rows = []
    for change in changes:
        details = "; ".join(
            f"{FIELDS.get(name, name)}: {_shown(values[0])} → {_shown(values[1])}"
            for name, values in change.changes.items()
        )
        rows.append(
            ChangeRow(
                at=change.created_at,
                who=change.actor_label,
                what=str(ACTIONS.get(change.action, change.action)),
                subject=change.subject,
                details=details,
            )
        )
    return rows
