"""Fixed-window rate limits for the public pages a visitor can probe: the order lookup now, the
returns portal next.

A limit is a counter per key in Redis that lives for one window from its first hit. The
count and the window's start are one atomic MULTI (INCR, EXPIRE NX, TTL), so a burst of
parallel requests can never slip past the limit between a check and an increment.

Keys are hashed: what a visitor typed (an order number, say) is never stored as typed, and an
arbitrarily long input still makes a short key."""

import hashlib
import math
from dataclasses import dataclass

from postpurchase.redis import redis_client

_PREFIX = "pp:ratelimit"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    # Seconds until the current window ends and the count starts afresh (at least 1).
    retry_after: int

    @property
    def retry_after_minutes(self) -> int:
        """What a person is told: whole minutes, rounded up, never zero."""
        return max(1, math.ceil(self.retry_after / 60))


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` hits per key in a window of `window` seconds."""

    name: str
    limit: int
    window: int

    def key(self, key: str) -> str:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return f"{_PREFIX}:{self.name}:{digest}"

    def hit(self, key: str) -> Verdict:
        """Count one hit; allowed while the window's count stays within the limit."""
        full_key = self.key(key)
        pipe = redis_client().pipeline(transaction=True)
        pipe.incr(full_key)
        # NX: only the first hit of a window starts its clock; later hits never extend it.
        pipe.expire(full_key, self.window, nx=True)
        pipe.ttl(full_key)
        count, _started, ttl = pipe.execute()
        return Verdict(allowed=count <= self.limit, retry_after=max(1, int(ttl)))

    def refund(self, key: str) -> None:
        """Give one hit back (a lookup that succeeded, for a limit that counts failures).
        Never below zero, and a window that has ended stays ended."""
        # DECR on a missing key would create a key without a TTL; only touch a live one.
        redis_client().eval(_REFUND_SCRIPT, 1, self.key(key))


_REFUND_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""
