"""The storefront outputs' cache (the JSON endpoint and the widget), in Redis through Django's
cache: each product has a version, part of every cached answer's key, and any change to one of
its reviews (a submission, an edit, a decision, a reply, a flagged photo) gives it a new one,
after the change commits. Old answers are never read again and expire on their own."""

from django.core.cache import cache
from django.db import transaction

from postpurchase.tokens import new_public_token

# An answer lives this long at most, even if nothing changes (its aggregate stays right: any
# change makes a new version at once).
CACHED_FOR = 24 * 3600


def _version_key(product_id: int) -> str:
    return f"feedback:storefront:{product_id}:version"


def storefront_version(product_id: int) -> str:
    key = _version_key(product_id)
    version = cache.get(key)
    if version is None:
        version = new_public_token()[:12]
        # Another request may have set one meanwhile: keep whichever is there.
        if not cache.add(key, version, timeout=None):
            version = cache.get(key) or version
    return str(version)


def storefront_cache_key(product_id: int, part: str) -> str:
    return f"feedback:storefront:{product_id}:{storefront_version(product_id)}:{part}"


def storefront_invalidate_on_commit(product_id: int) -> None:
    """Give the product a new version once the current transaction commits."""

    def invalidate() -> None:
        cache.set(_version_key(product_id), new_public_token()[:12], timeout=None)

    transaction.on_commit(invalidate)
