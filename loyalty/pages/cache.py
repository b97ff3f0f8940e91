"""The customer's loyalty page, cached in Redis: a page with nothing changed since it was
rendered is served without a database query, in one round trip (a Lua script run by its
digest, as the tracking page and the storefront widget are served).

Entries:
- `pp:loyalty:page:who:<customer id>` → "<member id> <shop id> <language>": whose page a
  verified token opens (the token itself needs no lookup: it is signed) and the language it
  was rendered in.
- Versions, each a random string renewed by every change to what the page shows (after the
  change's transaction commits, and at once, so the writer's own process sees it too):
  `…:v:m:<member id>` (a booking, a reservation, a tier, an earning's date, a referral),
  `…:v:s:<shop id>` (the shop, its programme, tiers and rewards) and `…:v:c:<customer id>`
  (the customer's language, time zone or erasure, their codes).
- `pp:loyalty:page:body:<customer id>:<language>:<page>:<member v>:<shop v>:<customer v>` →
  the rendered page. A renewed version makes it unreachable; it expires on its own.

The versions are read before rendering, so a change that commits during a render leaves that
render unreachable rather than stale. A page lives `MAX_AGE` at most (the safety net for
what no version follows) and never past the moment its own text would change with the
clock alone (`loyalty.pages.selectors.page_changes_at`): a code's end, points entering the
"expiring soon" list, an order leaving the tier's 12-month window, the next local midnight.

What differs per request is not stored: the page is stored with placeholders for the redeem
forms' one-time key and the token in the forms' address, and each is filled in when the page
is served (`page_fill`). It holds no CSRF token: the token in the address authorises the
redeem (`postpurchase.security.link_post`)."""

import secrets
import threading

from django.db import transaction

from postpurchase.redis import redis_client, redis_script

MAX_AGE = 3600
# Longer than any page lives: a version that lapses makes its pages unreachable, never stale.
_VERSION_TTL = 4 * MAX_AGE
_WHO = "pp:loyalty:page:who:{}"
_MEMBER_VERSION = "pp:loyalty:page:v:m:{}"
_SHOP_VERSION = "pp:loyalty:page:v:s:{}"
_CUSTOMER_VERSION = "pp:loyalty:page:v:c:{}"
_BODY = "pp:loyalty:page:body:{}:{}:{}:{}:{}:{}"

# Placeholders in a stored page. The database cannot hold a NUL in text, so no shop's or
# customer's words can contain one, and the templates hold none.
KEY_SLOT = "\x00K"
TOKEN_SLOT = "\x00T"  # noqa: S105  (a placeholder, not a secret)

# Whose page, its three versions, and the page stored under them: one round trip.
_SERVE = """
local who = redis.call('GET', KEYS[1])
if not who then return false end
local member_id, shop_id, language = string.match(who, '^(%d+) (%d+) (%S+)$')
if not member_id then return false end
local v = redis.call(
  'MGET', 'pp:loyalty:page:v:m:' .. member_id, 'pp:loyalty:page:v:s:' .. shop_id, KEYS[2])
if not v[1] or not v[2] or not v[3] then return false end
local body = redis.call(
  'GET', table.concat({'pp:loyalty:page:body', ARGV[1], language, ARGV[2], v[1], v[2], v[3]}, ':'))
if not body then return false end
return {language, body}
"""

# The versions to store a page under, made where there are none yet.
_VERSIONS = """
local found = {}
for i, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[i], 'NX', 'EX', ARGV[#KEYS + 1])
  found[i] = redis.call('GET', key)
end
return found
"""


def _fresh_version() -> str:
    return secrets.token_hex(6)


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def page_cached(customer_id: int, page: int) -> tuple[str, str] | None:
    """(language, page with its placeholders) as stored for this customer's history page
    `page`, or None (never stored, changed since, or expired): then the caller renders it."""
    found = redis_script(_SERVE)(
        keys=[_WHO.format(customer_id), _CUSTOMER_VERSION.format(customer_id)],
        args=[customer_id, page],
    )
    if not found:
        return None
    language, body = found
    return _text(language), _text(body)


def page_versions(*, customer_id: int, member_id: int, shop_id: int) -> tuple[str, str, str]:
    """The versions a page rendered now is stored under; read before rendering."""
    keys = [
        _MEMBER_VERSION.format(member_id),
        _SHOP_VERSION.format(shop_id),
        _CUSTOMER_VERSION.format(customer_id),
    ]
    _read_for_render(keys)
    fresh = [_fresh_version() for _ in keys]
    found = redis_script(_VERSIONS)(keys=keys, args=[*fresh, _VERSION_TTL])
    member_v, shop_v, customer_v = (_text(v) for v in found)
    return member_v, shop_v, customer_v


def page_store(
    *,
    customer_id: int,
    member_id: int,
    shop_id: int,
    language: str,
    page: int,
    versions: tuple[str, str, str],
    body: str,
    seconds: int,
) -> None:
    """Keep the rendered page (with its placeholders) for `seconds` (at most `MAX_AGE`)."""
    seconds = min(seconds, MAX_AGE)
    if seconds <= 0:
        return
    pipe = redis_client().pipeline(transaction=False)
    pipe.set(_WHO.format(customer_id), f"{member_id} {shop_id} {language}", ex=seconds)
    pipe.set(_BODY.format(customer_id, language, page, *versions), body, ex=seconds)
    pipe.execute()


def page_fill(body: str, *, form_key: str, token: str) -> str:
    """The stored page as this request gets it: a one-time key for its redeem forms, and the
    token it was opened with in the forms' address."""
    return body.replace(KEY_SLOT, form_key).replace(TOKEN_SLOT, token)


def _set_fresh(keys: set[str] | list[str]) -> None:
    pipe = redis_client().pipeline(transaction=False)
    for key in sorted(keys):
        pipe.set(key, _fresh_version(), ex=_VERSION_TTL)
    pipe.execute()


class _Renewal:
    """The versions a transaction changed: renewed once when it commits, in one round trip,
    however many rows of one member it wrote (an order's earning writes several)."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        # Renewed at once in this transaction, and no page read since: renewing them again
        # before the commit would change nothing anyone can see.
        self.renewed_now: set[str] = set()

    def __call__(self) -> None:
        _local.renewal = None
        _set_fresh(self.keys)


_local = threading.local()


def _renewal() -> "_Renewal":
    """The current transaction's renewal, registered to run on its commit. A rolled back
    transaction (or savepoint) drops its callback: then a new one is registered."""
    connection = transaction.get_connection()
    renewal = getattr(_local, "renewal", None)
    if renewal is None or not any(entry[1] is renewal for entry in connection.run_on_commit):
        renewal = _local.renewal = _Renewal()
        transaction.on_commit(renewal)
    return renewal


def _renew(keys: list[str]) -> None:
    """Renew these versions now, so that this transaction reads its own change, and again once
    it commits, so that a page rendered meanwhile by another process from the data as it was
    before the commit is not served either."""
    if not transaction.get_connection().in_atomic_block:
        _set_fresh(keys)
        return
    renewal = _renewal()
    renewal.keys.update(keys)
    now = [key for key in keys if key not in renewal.renewed_now]
    if now:
        _set_fresh(now)
        renewal.renewed_now.update(now)


def _read_for_render(keys: list[str]) -> None:
    """A page is being rendered in this transaction: its next change must renew at once."""
    renewal = getattr(_local, "renewal", None)
    if renewal is not None:
        renewal.renewed_now.difference_update(keys)


def member_page_stale(member_id: int) -> None:
    """The member's page changed: a booking, a reservation, a tier, an earning, a referral."""
    _renew([_MEMBER_VERSION.format(member_id)])


def customer_page_stale(customer_id: int) -> None:
    """The customer's page changed: their language, time zone or erasure, or their codes."""
    _renew([_CUSTOMER_VERSION.format(customer_id)])


def shop_pages_stale(shop_id: int) -> None:
    """Every member's page of the shop: its name, look, programme, tiers or rewards changed."""
    _renew([_SHOP_VERSION.format(shop_id)])
