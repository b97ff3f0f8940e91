"""Fixed-window rate limits for the public pages a visitor can probe: the order lookup now, the
returns portal next.

A limit is a counter per key that lives for one window from its first hit. With Redis the
count and the window's start are one atomic MULTI (INCR, EXPIRE NX, TTL), so a burst of
parallel requests can never slip past the limit between a check and an increment. In the
embedded mode (no Redis) Django's cache stands in, with `cache.add` + `cache.incr`.

Keys are hashed: what a visitor typed (an order number, say) is never stored as typed, and an
arbitrarily long input still makes a short key."""

import hashlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

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
        client = redis_client()
        if client is None:
            count, ttl = self._hit_cache(full_key)
        else:
            pipe = client.pipeline(transaction=True)
            pipe.incr(full_key)
            # NX: only the first hit of a window starts its clock; later hits never extend it.
            pipe.expire(full_key, self.window, nx=True)
            pipe.ttl(full_key)
            count, _started, ttl = pipe.execute()
        return Verdict(allowed=count <= self.limit, retry_after=max(1, int(ttl)))

    def refund(self, key: str) -> None:
        """Give one hit back (a lookup that succeeded, for a limit that counts failures).
        Never below zero, and a window that has ended stays ended."""
        full_key = self.key(key)
        client = redis_client()
        if client is None:
            try:
                if cache.decr(full_key) < 0:
                    cache.incr(full_key)
            except ValueError:  # the window ended in between: nothing to give back
                pass
            return
        # DECR on a missing key would create a key without a TTL; only touch a live one.
        client.eval(_REFUND_SCRIPT, 1, full_key)

    def _hit_cache(self, full_key: str) -> tuple[int, float]:
        now = time.time()
        ends_key = f"{full_key}:ends"
        if cache.add(full_key, 0, timeout=self.window):
            cache.set(ends_key, now + self.window, timeout=self.window)
        try:
            count = cache.incr(full_key)
        except ValueError:  # the window ended between add and incr: this hit opens a new one
            cache.set(full_key, 1, timeout=self.window)
            cache.set(ends_key, now + self.window, timeout=self.window)
            count = 1
        ends = cache.get(ends_key, now + self.window)
        return count, ends - now


_REFUND_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""
