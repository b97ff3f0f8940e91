"""The shop's profile and branding: its name, logo, colour, website and support contacts, as
customers see them at the top and bottom of every page about their order."""

from dataclasses import asdict, dataclass

from django.db import transaction

from orders.models import SettingsArea, Shop
from orders.shop_settings.audit import settings_change_record
from orders.tenancy import AnyUser, staff_permission_require
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.locks import row_lock


@dataclass(frozen=True)
class ShopProfile:
    """The profile as the form cleaned it; each name is the shop's column."""

    name: str
    logo_url: str = ""
    primary_colour: str = "#1a56db"
    website_url: str = ""
    support_email: str = ""
    support_phone: str = ""


def shop_profile_of(shop: Shop) -> ShopProfile:
    return ShopProfile(
        **{field: getattr(shop, field) for field in ShopProfile.__dataclass_fields__}
    )


def shop_profile_update(*, shop_id: int, actor: AnyUser | None, profile: ShopProfile) -> Shop:
    if not profile.name.strip():
        raise DomainError("The shop needs a name.")
    with transaction.atomic():
        staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.SHOP_PROFILE_EDIT)
        shop = row_lock(Shop.objects.get(pk=shop_id))
        before = asdict(shop_profile_of(shop))
        after = asdict(profile)
        changes = {
            field: (before[field], after[field]) for field in after if before[field] != after[field]
        }
        if not changes:
            return shop
        for field in changes:
            setattr(shop, field, after[field])
        shop.save(update_fields=[*changes, "updated_at"])
        settings_change_record(
            shop_id=shop_id,
            actor=actor,
            area=SettingsArea.PROFILE,
            action="profile.changed",
            subject=shop.name,
            changes=changes,
        )
    return shop
