"""The merchant's changes to the loyalty programme and to a member's points.

Each checks the actor against the staff policy itself (not only the view), changes its rows in
one transaction and records what changed in the shop's settings log (`SettingsChange`, area
"loyalty") in that same transaction: a change refused or rolled back leaves no record and no
half-saved programme. A staff adjustment is a ledger entry booked through `loyalty.ledger`
(the one writer of points), with its actor and reason on the entry."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from loyalty.ledger import Booked, Booking, NotEnoughPoints, entry_book
from loyalty.models import (
    EntryKind,
    Member,
    Programme,
    Redemption,
    Reward,
    Subject,
    Tier,
    TierChange,
)
from loyalty.programme.defaults import programme_rows_create
from loyalty.rewards.catalogue import reward_validate
from orders.models import SettingsArea, Shop
from orders.shop_settings.audit import settings_change_record
from orders.tenancy import AnyUser, staff_permission_require
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.locks import row_lock

# The programme's fields the settings form edits, in the order the log lists them.
PROGRAMME_FIELDS = (
    "is_active",
    "name",
    "points_per_unit",
    "earn_on_shipping",
    "earn_on_tax",
    "debt_policy",
    "point_value",
    "expiry_months",
    "expiry_reminder_days",
    "review_points",
    "photo_review_points",
    "birthday_points",
    "anniversary_points",
    "referral_points",
    "referral_friend_reward",
    "referral_monthly_cap",
    "tier_basis",
)
TIER_FIELDS = (
    "name",
    "threshold",
    "earn_multiplier",
    "free_shipping_quarterly",
    "early_access_tag",
    "birthday_reward",
)
REWARD_FIELDS = ("name", "kind", "value", "product", "points_price", "valid_days", "is_active")
ADJUST_REASON_MAX = 300

_Row = TypeVar("_Row", Tier, Reward)


def _logged(value: Any) -> Any:
    """A value as the log keeps it (JSON): a row by its name, a number as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value.to_integral() else str(value)
    return str(value)


def _clean(row: Programme | Tier | Reward) -> None:
    """The model's own rules (a reward's catalogue rules too: a price when it is offered for
    points), as a refusal staff read (the forms check them first)."""
    try:
        row.full_clean(exclude=["shop"])
        if isinstance(row, Reward):
            reward_validate(row, for_points=row.is_active)
    except ValidationError as invalid:
        raise DomainError(" ".join(invalid.messages)) from None


def _record(shop_id: int, actor: AnyUser | None, action: str, subject: str, changes: dict) -> None:
    settings_change_record(
        shop_id=shop_id,
        actor=actor,
        area=SettingsArea.LOYALTY,
        action=action,
        subject=subject,
        changes={name: (_logged(a), _logged(b)) for name, (a, b) in changes.items()},
    )


# Starting a programme -------------------------------------------------------------------------


def programme_start(*, shop_id: int, actor: AnyUser | None) -> Programme:
    """Start the shop's programme with sensible defaults: 1 point per unit spent, worth 0.01,
    three tiers on 12-month spend (Bronze from 0, Silver from 250 at 1.25x, Gold from 1,000 at
    1.5x with free shipping each quarter and early access), and a few rewards. Starting twice
    returns the programme started the first time."""
    with transaction.atomic():
        staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.LOYALTY_SETTINGS)
        shop = row_lock(Shop.objects.get(pk=shop_id))
        existing = Programme.objects.filter(shop=shop).first()
        if existing is not None:
            return existing
        programme = programme_rows_create(shop=shop, expiry_months=12).programme
        _record(shop_id, actor, "loyalty.started", programme.name, {})
    return programme


# The programme's rules ------------------------------------------------------------------------


def programme_update(*, shop_id: int, actor: AnyUser | None, values: dict[str, Any]) -> Programme:
    """Save the programme's rules (`values`: the fields of PROGRAMME_FIELDS, as the form
    cleaned them); each changed field is logged with its value before and after."""
    unknown = set(values) - set(PROGRAMME_FIELDS)
    if unknown:
        raise ValueError(f"not a programme setting: {sorted(unknown)}")
    staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.LOYALTY_SETTINGS)
    friend_reward = values.get("referral_friend_reward")
    if friend_reward is not None and friend_reward.shop_id != shop_id:
        raise DomainError(_("Choose one of the shop's own rewards for the friend."))
    with transaction.atomic():
        programme = Programme.objects.filter(shop_id=shop_id).first()
        if programme is None:
            raise DomainError(_("Start the programme first."))
        programme = row_lock(programme)
        changes = {
            name: (getattr(programme, name), value)
            for name, value in values.items()
            if getattr(programme, name) != value
        }
        if not changes:
            return programme
        for name, (_before, after) in changes.items():
            setattr(programme, name, after)
        _clean(programme)
        programme.save(update_fields=[*changes, "updated_at"])
        _record(shop_id, actor, "loyalty.rules_changed", programme.name, changes)
    return programme


# Tiers and rewards ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RowEdit:
    """One row of the tiers' editor: `id` None for a new row; `values` the model's fields the
    editor sets."""

    id: int | None
    values: dict[str, Any]
    remove: bool = False


def tiers_save(*, shop_id: int, actor: AnyUser | None, rows: list[RowEdit]) -> list[Tier]:
    """Save the tiers as edited: ranks follow the thresholds (0 the lowest); the lowest must
    start at 0, names and thresholds are unique, and a tier that members hold or held (its
    history) cannot be removed."""
    staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.LOYALTY_SETTINGS)
    kept = [row for row in rows if not row.remove]
    if not kept:
        raise DomainError(_("Keep at least one tier."))
    thresholds = sorted(Decimal(row.values["threshold"]) for row in kept)
    if thresholds[0] != 0:
        raise DomainError(_("The lowest tier starts at 0, so every member has a tier."))
    if len(set(thresholds)) != len(thresholds):
        raise DomainError(_("Two tiers have the same threshold."))
    names = [row.values["name"].strip().lower() for row in kept]
    if len(set(names)) != len(names):
        raise DomainError(_("Two tiers have the same name."))
    with transaction.atomic():
        row_lock(Shop.objects.get(pk=shop_id))
        existing = {tier.pk: tier for tier in Tier.objects.filter(shop_id=shop_id)}
        for row in rows:
            if row.id is not None and row.id not in existing:
                raise DomainError(_("That tier is not one of this shop's."))
        for row in rows:
            if row.remove and row.id is not None:
                _tier_remove(shop_id, actor, existing.pop(row.id))
        # Ranks are unique per shop: move the kept tiers out of the way before renumbering.
        for offset, tier in enumerate(existing.values()):
            Tier.objects.filter(pk=tier.pk).update(rank=1000 + offset)
        saved = []
        ordered = sorted(kept, key=lambda row: Decimal(row.values["threshold"]))
        for rank, row in enumerate(ordered):
            saved.append(_tier_put(shop_id, actor, existing.get(row.id or 0), row.values, rank))
    return saved


def _tier_remove(shop_id: int, actor: AnyUser | None, tier: Tier) -> None:
    held = (
        Member.objects.filter(tier=tier).exists()
        or TierChange.objects.filter(to_tier=tier).exists()
        or TierChange.objects.filter(from_tier=tier).exists()
    )
    if held:
        raise DomainError(
            _("%(tier)s has members or a history of members, so it stays; rename it instead.")
            % {"tier": tier.name}
        )
    name = tier.name
    tier.delete()
    _record(shop_id, actor, "loyalty.tier_removed", name, {})


def _tier_put(
    shop_id: int, actor: AnyUser | None, tier: Tier | None, values: dict[str, Any], rank: int
) -> Tier:
    reward = values.get("birthday_reward")
    if reward is not None and reward.shop_id != shop_id:
        raise DomainError(_("Choose one of the shop's own rewards for the birthday."))
    return _row_put(shop_id, actor, Tier, tier, values, TIER_FIELDS, rank=rank)


def _row_put(
    shop_id: int,
    actor: AnyUser | None,
    model: type[_Row],
    row: _Row | None,
    values: dict[str, Any],
    fields: tuple[str, ...],
    **placement: int,
) -> _Row:
    """Add (`row` None) or change one tier or reward and log it: an addition with every
    field, a change with the fields that changed (none changed: no record). `placement` is
    where it stands in its list (a tier's rank, a reward's position)."""
    noun = model._meta.model_name
    if row is None:
        row = model(shop_id=shop_id, **placement, **values)
        _clean(row)
        row.save()
        _record(
            shop_id,
            actor,
            f"loyalty.{noun}_added",
            row.name,
            {name: (None, getattr(row, name)) for name in fields},
        )
        return row
    before = {name: getattr(row, name) for name in fields}
    for name, value in {**values, **placement}.items():
        setattr(row, name, value)
    _clean(row)
    row.save()
    changes = {n: (before[n], values[n]) for n in values if before[n] != values[n]}
    if changes:
        _record(shop_id, actor, f"loyalty.{noun}_changed", row.name, changes)
    return row


def _reward_remove(shop_id: int, actor: AnyUser | None, reward: Reward) -> None:
    if Redemption.objects.filter(reward=reward).exists():
        raise DomainError(
            _("%(reward)s was issued to customers, so it stays; retire it instead.")
            % {"reward": reward.name}
        )
    # Tiers and the programme let go of a deleted reward (SET_NULL): a perk would vanish unseen.
    if reward_is_granted(reward):
        raise DomainError(
            _(
                "%(reward)s is a tier's birthday gift or the referred friend's reward: choose "
                "another one there first."
            )
            % {"reward": reward.name}
        )
    name = reward.name
    try:
        with transaction.atomic():
            reward.delete()
    except ProtectedError:
        raise DomainError(
            _("%(reward)s is in use, so it stays; retire it instead.") % {"reward": name}
        ) from None
    _record(shop_id, actor, "loyalty.reward_removed", name, {})


def reward_is_granted(reward: Reward) -> bool:
    """Whether a tier gives it on birthdays or the programme gives it to referred friends."""
    return (
        Tier.objects.filter(birthday_reward=reward).exists()
        or Programme.objects.filter(referral_friend_reward=reward).exists()
    )


def _reward_put(
    shop_id: int,
    actor: AnyUser | None,
    reward: Reward | None,
    values: dict[str, Any],
) -> Reward:
    product = values.get("product")
    if product is not None and product.shop_id != shop_id:
        raise DomainError(_("Choose one of the shop's own products."))
    position = reward.position if reward is not None else _reward_next_position(shop_id)
    return _row_put(shop_id, actor, Reward, reward, values, REWARD_FIELDS, position=position)


def _reward_next_position(shop_id: int) -> int:
    last = Reward.objects.filter(shop_id=shop_id).order_by("-position").first()
    return last.position + 1 if last is not None else 0


def _reward_locked(shop_id: int, reward_id: int) -> Reward:
    reward = Reward.objects.filter(shop_id=shop_id, pk=reward_id).first()
    if reward is None:
        raise DomainError(_("That reward is not one of this shop's."))
    return row_lock(reward)


# One reward of the catalogue ------------------------------------------------------------------


def reward_add(*, shop_id: int, actor: AnyUser | None, values: dict[str, Any]) -> Reward:
    """Add a reward at the end of the shop's catalogue (`values`: REWARD_FIELDS)."""
    _reward_values_check(values)
    with transaction.atomic():
        staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.LOYALTY_SETTINGS)
        row_lock(Shop.objects.get(pk=shop_id))
        return _reward_put(shop_id, actor, None, values)


def reward_change(
    *, shop_id: int, actor: AnyUser | None, reward_id: int, values: dict[str, Any]
) -> Reward:
    """Change one of the shop's rewards (`values`: some of REWARD_FIELDS). Codes already
    issued keep what they were issued with."""
    _reward_values_check(values)
    with transaction.atomic():
        staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.LOYALTY_SETTINGS)
        reward = _reward_locked(shop_id, reward_id)
        return _reward_put(shop_id, actor, reward, values)


def reward_offer(*, shop_id: int, actor: AnyUser | None, reward_id: int, offered: bool) -> Reward:
    """Offer a reward for points again, or retire it (its issued codes stay valid)."""
    return reward_change(
        shop_id=shop_id, actor=actor, reward_id=reward_id, values={"is_active": offered}
    )


def reward_remove(*, shop_id: int, actor: AnyUser | None, reward_id: int) -> None:
    """Delete a reward that was never issued; one with redemptions stays (retire it)."""
    with transaction.atomic():
        staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.LOYALTY_SETTINGS)
        _reward_remove(shop_id, actor, _reward_locked(shop_id, reward_id))


def _reward_values_check(values: dict[str, Any]) -> None:
    unknown = set(values) - set(REWARD_FIELDS)
    if unknown:
        raise ValueError(f"not a reward field: {sorted(unknown)}")


# A member's points ----------------------------------------------------------------------------


def member_points_adjust(
    *, shop_id: int, member_id: int, actor: AnyUser | None, points: int, reason: str, key: str
) -> Booked:
    """Add (positive) or take (negative) a member's available points, by staff, with the
    reason on the ledger entry. `key` comes from the form (hidden, one per form shown), so a
    double submit books once: the second gets the first entry back (`created` False).
    Raises StaffPermissionDenied below a manager, DomainError for no points, no reason or more
    points taken than the member can spend."""
    staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.LOYALTY_ADJUST)
    reason = reason.strip()
    if not points:
        raise DomainError(_("Give a number of points other than 0."))
    if not reason:
        raise DomainError(_("Say why: the reason is kept with the entry."))
    if not key or len(key) > 100:
        raise DomainError(_("The form has expired: open the member's page again."))
    member = Member.objects.filter(shop_id=shop_id, pk=member_id).first()
    if member is None:
        raise DomainError(_("No such member in this shop."))
    signed_in = actor is not None and actor.is_authenticated
    booking = Booking(
        kind=EntryKind.ADJUST,
        key=f"adjust:{key}",
        subject=Subject.STAFF,
        subject_id=actor.pk if signed_in else None,  # type: ignore[union-attr]
        available=points,
        reason=reason[:ADJUST_REASON_MAX],
        actor_id=actor.pk if signed_in else None,  # type: ignore[union-attr]
    )
    try:
        return entry_book(member.pk, booking)
    except NotEnoughPoints as refused:
        raise DomainError(
            _(
                "Not enough points: the member can spend %(spendable)s, so %(wanted)s cannot be "
                "taken. Take at most %(spendable)s."
            )
            % {"spendable": refused.spendable, "wanted": refused.wanted}
        ) from None
