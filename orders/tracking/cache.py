"""The tracking page's cache: a page that has not changed is served from Redis without a
database query, in one round trip that also counts the view.

Entries:
- `pp:track:tok:<token>` → "<order id>:<shop id>": which order a token opens. Deleted when
  staff renew the token, so a revoked link stops working at once.
- `pp:track:gen:o:<order id>` and `pp:track:gen:s:<shop id>`: generations, bumped by every
  committed change to what the page shows (`tracking_page_forget`, `tracking_shop_forget`,
  wired to the models' saves and deletes in `orders.tracking.invalidation`).
- `pp:track:page:<order id>:<part>:<order gen>:<shop gen>` → the rendered page (or its shipment
  block) with its ETag, Last-Modified and language. A bumped generation makes it unreachable.

Every entry lives `TTL_SECONDS` at most: the safety net for anything not wired (the nightly
recommendations, a customer's language or time zone) and for a render that raced a change."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from postpurchase.redis import redis_client, redis_script

TTL_SECONDS = 60
# Longer than a page lives: a generation that lapses back to 0 can meet no page stored under 0.
_GENERATION_TTL_SECONDS = 10 * TTL_SECONDS
_OWNER_KEY = "pp:track:tok:{}"
_ORDER_GEN = "pp:track:gen:o:{}"
_SHOP_GEN = "pp:track:gen:s:{}"
_PAGE_KEY = "pp:track:page:{}:{}:{}:{}"

# Looks the token up, fetches the part at the current generations, and (when asked) counts the
# view exactly as `orders.services.page_view_counts.tracking_page_view_record` does: one
# round trip.
_SERVE = """
local owner = redis.call('GET', KEYS[1])
if not owner then return false end
local sep = string.find(owner, ':', 1, true)
local order_id = string.sub(owner, 1, sep - 1)
local shop_id = string.sub(owner, sep + 1)
local order_gen = redis.call('GET', 'pp:track:gen:o:' .. order_id) or '0'
local shop_gen = redis.call('GET', 'pp:track:gen:s:' .. shop_id) or '0'
local page = redis.call(
  'GET', table.concat({'pp:track:page', order_id, ARGV[1], order_gen, shop_gen}, ':'))
if not page then return false end
if ARGV[2] == '1' then
  local tally = 'pp:track:views:' .. order_id
  redis.call('HINCRBY', tally, 'count', 1)
  redis.call('HSETNX', tally, 'first', ARGV[3])
  redis.call('HSET', tally, 'last', ARGV[3], 'shop', shop_id)
  redis.call('SADD', 'pp:track:views:dirty', order_id)
end
return page
"""


@dataclass(frozen=True)
class CachedPage:
    etag: str
    last_modified: datetime
    language: str
    body: str


def tracking_cache_get(token: str, part: str, *, count_view: bool) -> CachedPage | None:
    """The cached part of the page this token opens, or None (not cached, changed since,
    or unknown): then the caller reads the database."""
    script = redis_script(_SERVE)
    now = timezone.now().timestamp()
    raw = script(keys=[_OWNER_KEY.format(token)], args=[part, "1" if count_view else "0", now])
    if not raw:
        return None
    head, _, body = raw.decode().partition("\n")
    meta = json.loads(head)
    return CachedPage(
        etag=meta["etag"],
        last_modified=datetime.fromtimestamp(meta["last_modified"], tz=UTC),
        language=meta["language"],
        body=body,
    )


def tracking_cache_generations(*, order_id: int, shop_id: int) -> tuple[str, str]:
    """The generations to store a page under: read before rendering, so a change that lands
    during the render leaves the page unreachable rather than stale."""
    order_gen, shop_gen = redis_client().mget(
        _ORDER_GEN.format(order_id), _SHOP_GEN.format(shop_id)
    )
    return _generation(order_gen), _generation(shop_gen)


def _generation(raw: bytes | str | None) -> str:
    """A generation as stored ("0" when never bumped); the client answers in bytes."""
    if not raw:
        return "0"
    return raw.decode() if isinstance(raw, bytes) else raw


def tracking_cache_put(
    *,
    token: str,
    order_id: int,
    shop_id: int,
    part: str,
    generations: tuple[str, str],
    page: CachedPage,
) -> None:
    head = json.dumps(
        {
            "etag": page.etag,
            "last_modified": page.last_modified.timestamp(),
            "language": page.language,
        }
    )
    pipe = redis_client().pipeline(transaction=False)
    pipe.set(_OWNER_KEY.format(token), f"{order_id}:{shop_id}", ex=TTL_SECONDS)
    pipe.set(_PAGE_KEY.format(order_id, part, *generations), f"{head}\n{page.body}", ex=TTL_SECONDS)
    pipe.execute()


def _now_and_on_commit(change: Any) -> None:
    """At once, so that this process sees its own change, and again after the commit, so that
    a page rendered meanwhile from the old data is not served either."""
    client = redis_client()
    change(client)
    transaction.on_commit(lambda: change(client))


def tracking_page_forget(order_ids: Any) -> None:
    """Make these orders' cached pages unreachable: the next view renders afresh."""
    ids = set(order_ids)

    def bump(client: Any) -> None:
        pipe = client.pipeline(transaction=False)
        for order_id in ids:
            pipe.incr(_ORDER_GEN.format(order_id))
            pipe.expire(_ORDER_GEN.format(order_id), _GENERATION_TTL_SECONDS)
        pipe.execute()

    if ids:
        _now_and_on_commit(bump)


def tracking_shop_forget(shop_id: int) -> None:
    """Every cached page of the shop: its name, colours, contacts or catalogue changed."""
    _now_and_on_commit(lambda client: client.incr(_SHOP_GEN.format(shop_id)))


def tracking_token_forget(token: str) -> None:
    """A revoked token opens nothing from the cache either."""
    _now_and_on_commit(lambda client: client.delete(_OWNER_KEY.format(token)))
