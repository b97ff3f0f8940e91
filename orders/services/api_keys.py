import secrets
from datetime import timedelta

from django.db.models import Q
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
    if key is not None:
        api_key_touch(key)
    return key


LAST_USE_PRECISION = timedelta(minutes=1)


def api_key_touch(key: ApiKey) -> None:
    """Record the key's use, at most once a minute: a write on every request would cap the
    API's throughput, and staff only need to know roughly when a key was last used."""
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USE_PRECISION:
        return
    # Conditional, so concurrent requests with the same key write once between them.
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USE_PRECISION)
    ).update(last_used_at=now)
    key.last_used_at = now


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at", "updated_at"])
    return key
