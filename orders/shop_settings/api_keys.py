"""API keys as staff manage them: created with a name (the full key returned once, to show on
the page right after), revoked at once; each change recorded, the key itself never."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from orders.models import ApiKey, SettingsArea, Shop
from orders.services.api_keys import api_key_create
from orders.shop_settings.audit import settings_change_record
from orders.tenancy import AnyUser, staff_permission_require
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.locks import row_lock


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    # The full key: shown once, stored nowhere (only its hash is).
    secret: str


def _label(key: ApiKey) -> str:
    return f"key {key.prefix} ({key.name})"


def api_key_create_by_staff(*, shop_id: int, actor: AnyUser | None, name: str) -> CreatedKey:
    with transaction.atomic():
        staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.API_KEY_EDIT)
        key, secret = api_key_create(shop=Shop.objects.get(pk=shop_id), name=name.strip())
        settings_change_record(
            shop_id=shop_id,
            actor=actor,
            area=SettingsArea.API_KEYS,
            action="api_key.created",
            subject=_label(key),
            changes={"name": (None, key.name)},
        )
    return CreatedKey(api_key=key, secret=secret)


def api_key_revoke_by_staff(*, shop_id: int, actor: AnyUser | None, api_key_id: int) -> ApiKey:
    """Revoke the key: the API refuses it from the next request on."""
    with transaction.atomic():
        staff_permission_require(actor=actor, shop_id=shop_id, action=permissions.API_KEY_EDIT)
        key = ApiKey.objects.filter(shop_id=shop_id, pk=api_key_id).first()
        if key is None:
            raise DomainError("No such API key in this shop.")
        row_lock(key)
        if key.revoked_at is not None:
            return key
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at", "updated_at"])
        settings_change_record(
            shop_id=shop_id,
            actor=actor,
            area=SettingsArea.API_KEYS,
            action="api_key.revoked",
            subject=_label(key),
            changes={"revoked_at": (None, key.revoked_at.isoformat())},
        )
    return key
