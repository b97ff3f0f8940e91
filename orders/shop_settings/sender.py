"""The shop's sender identity: the name and address its emails come from, and where replies
go. The email channel reads them from the shop for every message it sends."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from orders.models import SettingsArea, Shop
from orders.shop_settings.audit import settings_change_record
from orders.tenancy import AnyUser, staff_permission_require
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.locks import row_lock


class SenderIdentityInvalid(DomainError):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class SenderIdentity:
    from_name: str = ""
    from_address: str = ""
    reply_to: str = ""


_FIELDS = {
    "from_name": "email_from_name",
    "from_address": "email_from_address",
    "reply_to": "email_reply_to",
}


def sender_identity_of(shop: Shop) -> SenderIdentity:
    return SenderIdentity(**{field: getattr(shop, column) for field, column in _FIELDS.items()})


def _cleaned(identity: SenderIdentity) -> SenderIdentity:
    name = identity.from_name.strip()
    # A line break in a header would let the name add headers of its own.
    if any(char in name for char in "\r\n\0"):
        raise SenderIdentityInvalid("from_name", "The sender name must be one line.")
    if len(name) > 100:
        raise SenderIdentityInvalid("from_name", "Keep the sender name under 100 characters.")
    addresses = {}
    for field in ("from_address", "reply_to"):
        address = getattr(identity, field).strip().lower()
        if address:
            try:
                validate_email(address)
            except ValidationError:
                raise SenderIdentityInvalid(
                    field, f"'{address}' is not an email address."
                ) from None
        addresses[field] = address
    return SenderIdentity(from_name=name, **addresses)


def sender_identity_update(
    *, shop_id: int, actor: AnyUser | None, identity: SenderIdentity
) -> SenderIdentity:
    """Set the shop's sender identity; blank fields fall back to the platform's defaults."""
    identity = _cleaned(identity)
    with transaction.atomic():
        staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.INTEGRATION_EDIT)
        shop = row_lock(Shop.objects.get(pk=shop_id))
        before = sender_identity_of(shop)
        changes = {
            field: (getattr(before, field), getattr(identity, field))
            for field in _FIELDS
            if getattr(before, field) != getattr(identity, field)
        }
        if not changes:
            return identity
        for field, column in _FIELDS.items():
            setattr(shop, column, getattr(identity, field))
        shop.save(update_fields=[*_FIELDS.values(), "updated_at"])
        settings_change_record(
            shop_id=shop_id,
            actor=actor,
            area=SettingsArea.SENDER,
            action="sender.changed",
            subject="sender identity",
            changes=changes,
        )
    return identity
