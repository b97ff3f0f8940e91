import secrets
from datetime import timedelta

from django.utils import timezone

from orders.models import ApiKey, Shop
from postpurchase.tokens import sha256_hex

KEY_PREFIX = "pp_live_"


def api_key_create(*, shop: Shop, name: str) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret, which is shown once and never stored."""
    public = secrets.token_hex(4)
    raw = f"{KEY_PREFIX}{public}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(shop=shop, name=name, prefix=public, key_hash=sha256_hex(raw))
    return key, raw


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The active key matching `raw_key`, or None. The lookup is by hash, so no timing leak
    depends on how much of a guessed key is right."""
    if not raw_key.startswith(KEY_PREFIX):
        return None
    key = (
        ApiKey.objects.select_related("shop")
        .filter(key_hash=sha256_hex(raw_key), revoked_at__isnull=True, shop__is_active=True)
        .first()
    )
    if key is not None and (
        key.last_used_at is None or timezone.now() - key.last_used_at > timedelta(minutes=5)
    ):
        # Touch at most every few minutes: a write per request would cap API throughput.
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at", "updated_at"])
    return key
