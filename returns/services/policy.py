"""Each shop's return policy and reasons, created with sensible defaults on first use, and
changed only by the shop's owner."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Protocol

from django.db import transaction

from orders.models import SettingsArea, Shop
from orders.services.tracking import shop_return_window_set
from orders.shop_settings.audit import settings_change_record
from orders.tenancy import staff_permission_require
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.locks import row_lock
from postpurchase.permissions import Actor
from returns.models import ReturnMethod, ReturnPolicy, ReturnReason

# (code, label, the shop's fault, photo required, fee)
DEFAULT_REASONS: tuple[tuple[str, str, bool, bool, Decimal], ...] = (
    ("too_small", "Too small", False, False, Decimal("0.00")),
    ("too_large", "Too large", False, False, Decimal("0.00")),
    ("not_as_described", "Not as described", True, False, Decimal("0.00")),
    ("damaged", "Arrived damaged", True, True, Decimal("0.00")),
    ("defective", "Defective", True, True, Decimal("0.00")),
    ("wrong_item", "Wrong item sent", True, False, Decimal("0.00")),
    ("changed_mind", "Changed my mind", False, False, Decimal("4.95")),
    ("arrived_late", "Arrived too late", True, False, Decimal("0.00")),
    ("other", "Other", False, False, Decimal("0.00")),
)
DEFAULT_METHODS = [ReturnMethod.DROP_OFF.value, ReturnMethod.PICKUP.value]


@transaction.atomic
def return_policy_for(shop: Shop) -> ReturnPolicy:
    """The shop's policy, with the default reasons on first use."""
    policy, created = ReturnPolicy.objects.get_or_create(
        shop=shop, defaults={"methods": DEFAULT_METHODS}
    )
    if created and not ReturnReason.objects.filter(shop=shop).exists():
        ReturnReason.objects.bulk_create(
            ReturnReason(
                shop=shop,
                code=code,
                label=label,
                is_shop_fault=fault,
                requires_photo=photo,
                fee=fee,
                position=position,
            )
            for position, (code, label, fault, photo, fee) in enumerate(DEFAULT_REASONS)
        )
    return policy


class PolicyEdit(Protocol):
    """A validated edit of the policy or its reasons: the editor's model form or formset."""

    def save(self) -> Any: ...


@transaction.atomic
def return_policy_save(
    *, shop: Shop, actor: Actor, return_window_days: int, edits: Sequence[PolicyEdit]
) -> ReturnPolicy:
    """Save the shop's return policy: its window and the policy's and reasons' validated edits,
    all or nothing. Only the shop's owner may (StaffPermissionDenied otherwise, nothing saved)."""
    staff_permission_require(actor=actor, shop_id=shop.pk, action=permissions.RETURN_POLICY_EDIT)
    shop_return_window_set(shop=shop, days=return_window_days, actor=actor)
    for edit in edits:
        edit.save()
    return return_policy_for(shop)


RETURN_ADDRESS_MAX_LINES = 8


def return_address_set(*, shop: Shop, actor: Actor, address: str) -> ReturnPolicy:
    """Set where returned parcels go (printed on the slip, sent with the approval), from the
    settings area's profile tab; recorded there. The owner's, like the rest of the policy."""
    lines = [line.strip() for line in address.strip().splitlines()]
    address = "\n".join(line for line in lines if line)
    if len(lines) > RETURN_ADDRESS_MAX_LINES or len(address) > 500:
        raise DomainError("Keep the return address to 8 short lines, as on a parcel label.")
    with transaction.atomic():
        staff_permission_require(
            actor=actor, shop_id=shop.pk, action=permissions.RETURN_POLICY_EDIT
        )
        policy = row_lock(return_policy_for(shop))
        before = policy.return_address
        if before == address:
            return policy
        policy.return_address = address
        policy.save(update_fields=["return_address", "updated_at"])
        settings_change_record(
            shop_id=shop.pk,
            actor=actor,
            area=SettingsArea.PROFILE,
            action="return_address.changed",
            subject="return address",
            changes={"return address": (before, address)},
        )
    return policy
