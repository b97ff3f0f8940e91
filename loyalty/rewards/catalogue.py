"""A shop's reward catalogue: what its points buy, and the rules a reward must keep.

A reward with a points price is on the catalogue (members redeem it); one priced at 0 is only
granted (a birthday gift, a tier's free shipping, a referred friend's introduction) and never
offered for points."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from loyalty.models import Reward, RewardKind
from orders.models import Product, Shop

_EDITABLE = ("name", "kind", "value", "product", "points_price", "valid_days", "is_active")


def rewards_available(*, shop: Shop) -> QuerySet[Reward]:
    """The rewards a member of `shop` may redeem for points, in the shop's order."""
    return (
        Reward.objects.filter(shop=shop, is_active=True, points_price__gt=0)
        .select_related("product")
        .order_by("position", "points_price", "pk")
    )


def reward_validate(reward: Reward, *, for_points: bool = True) -> None:
    """Raise ValidationError (by field) for a reward that breaks a rule: a percentage from 0 to
    100, an amount above 0, a free product of this shop, a points price for a points reward."""
    errors: dict[str, str] = {}
    if reward.kind == RewardKind.PERCENT_OFF and not Decimal(0) < reward.value <= 100:
        errors["value"] = _("A percentage off is more than 0 and at most 100.")
    if reward.kind == RewardKind.AMOUNT_OFF and reward.value <= 0:
        errors["value"] = _("An amount off is more than 0.")
    if reward.kind == RewardKind.FREE_PRODUCT:
        if reward.product_id is None:
            errors["product"] = _("A free product reward needs the product.")
        elif not Product.objects.filter(pk=reward.product_id, shop_id=reward.shop_id).exists():
            errors["product"] = _("The product is not one of this shop's.")
    if for_points and reward.points_price <= 0:
        errors["points_price"] = _("A reward bought with points needs a points price above 0.")
    if reward.valid_days < 1:
        errors["valid_days"] = _("A code is valid for at least one day.")
    if errors:
        raise ValidationError(errors)


def reward_create(*, shop: Shop, for_points: bool = True, **fields: Any) -> Reward:
    """Add a reward to the shop's catalogue (`for_points=False`: one that is only granted)."""
    unknown = set(fields) - {*_EDITABLE, "position"}
    if unknown:
        raise TypeError(f"not a reward field: {sorted(unknown)}")
    if "position" not in fields:
        last = Reward.objects.filter(shop=shop).order_by("-position").first()
        fields["position"] = last.position + 1 if last else 0
    reward = Reward(shop=shop, **fields)
    reward_validate(reward, for_points=for_points)
    reward.save()
    return reward


@transaction.atomic
def reward_update(*, reward: Reward, for_points: bool = True, **changes: Any) -> Reward:
    """Change a reward. Codes already issued keep what they were issued with."""
    unknown = set(changes) - {*_EDITABLE, "position"}
    if unknown:
        raise TypeError(f"not a reward field: {sorted(unknown)}")
    reward = Reward.objects.select_for_update().get(pk=reward.pk)
    for name, value in changes.items():
        setattr(reward, name, value)
    reward_validate(reward, for_points=for_points)
    reward.save(update_fields=[*changes, "updated_at"])
    return reward
