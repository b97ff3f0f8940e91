"""The storefront outputs' cache (the JSON endpoint and the widget), in Redis: an answer that
has not changed is served without a database query, in one round trip.

Entries:
- `pp:feedback:storefront:addr:<shop slug>:<product handle>` → the product's row id and the
  shop's own origins (which may frame the widget and read the JSON): what a public address
  names. It lives `ADDRESS_TTL_SECONDS`, so a shop that changes its site, is deactivated or
  drops the product is served as before for a minute at most, no longer than the JSON's own
  `max-age` lets any browser or CDN keep it.
- `pp:feedback:storefront:version:<product id>`: the product's version, renewed by any change
  to one of its reviews (a submission, an edit, a decision, a reply, a flagged photo) after
  the change commits.
- `pp:feedback:storefront:answer:<product id>:<version>:<part>` → the answer's ETag and body,
  for `CACHED_FOR` at most. A renewed version makes it unreachable: old answers are never read
  again and expire on their own."""

import json
from dataclasses import dataclass

from django.db import transaction

from postpurchase.redis import redis_client, redis_script
from postpurchase.tokens import new_public_token

# An answer lives this long at most, even if nothing changes (its aggregate stays right: any
# change makes a new version at once).
CACHED_FOR = 24 * 3600
ADDRESS_TTL_SECONDS = 60
# Longer is no address: the lookup misses and the database says 404.
_ADDRESS_MAX_CHARS = 200
_ADDRESS_KEY = "pp:feedback:storefront:addr:{}:{}"
_VERSION_KEY = "pp:feedback:storefront:version:{}"
_ANSWER_KEY = "pp:feedback:storefront:answer:{}:{}:{}"

# The address's product, its version and the answer stored under it: one round trip.
_SERVE = """
local address = redis.call('GET', KEYS[1])
if not address then return false end
local sep = string.find(address, '\\n', 1, true)
local product_id = string.sub(address, 1, sep - 1)
local version = redis.call('GET', 'pp:feedback:storefront:version:' .. product_id)
if not version then return false end
local answer = redis.call(
  'GET', table.concat({'pp:feedback:storefront:answer', product_id, version, ARGV[1]}, ':'))
if not answer then return false end
return {string.sub(address, sep + 1), answer}
"""


@dataclass(frozen=True)
class CachedAnswer:
    body: bytes
    etag: str
    # The shop's own origins, as `shop_origins` gave them when the answer was stored.
    origins: list[str]


def _address_key(shop: str, product: str) -> str | None:
    if len(shop) + len(product) > _ADDRESS_MAX_CHARS:
        return None
    return _ADDRESS_KEY.format(shop, product)


def storefront_cache_get(*, shop: str, product: str, part: str) -> CachedAnswer | None:
    """The stored answer for this public address (shop slug, the product's handle) and part,
    or None (not stored, changed since, or no such address): then the caller reads the
    database."""
    key = _address_key(shop, product)
    if key is None:
        return None
    found = redis_script(_SERVE)(keys=[key], args=[part])
    if not found:
        return None
    origins, answer = found
    etag, _, body = bytes(answer).partition(b"\n")
    return CachedAnswer(body=body, etag=etag.decode(), origins=json.loads(origins))


def storefront_version(product_id: int) -> str:
    """The product's current version; read before building an answer, so that a change that
    commits meanwhile leaves the answer unreachable rather than stale."""
    client = redis_client()
    key = _VERSION_KEY.format(product_id)
    # Another request may set one meanwhile: keep whichever is there.
    client.set(key, new_public_token()[:12], nx=True)
    version = client.get(key)
    return version.decode() if isinstance(version, bytes) else str(version)


def storefront_cache_put(
    *, shop: str, product: str, product_id: int, version: str, part: str, answer: CachedAnswer
) -> None:
    key = _address_key(shop, product)
    if key is None:
        return
    pipe = redis_client().pipeline(transaction=False)
    pipe.set(key, f"{product_id}\n{json.dumps(answer.origins)}", ex=ADDRESS_TTL_SECONDS)
    pipe.set(
        _ANSWER_KEY.format(product_id, version, part),
        answer.etag.encode() + b"\n" + answer.body,
        ex=CACHED_FOR,
    )
    pipe.execute()


def storefront_invalidate_on_commit(product_id: int) -> None:
    """Give the product a new version once the current transaction commits."""

    def invalidate() -> None:
        redis_client().set(_VERSION_KEY.format(product_id), new_public_token()[:12])

    transaction.on_commit(invalidate)
