"""The Redis the project runs on (the broker's and the cache's), for the few counters that
need Redis's own commands: rate limits, page-view tallies, and the page caches served in one
round trip by a Lua script."""

from functools import lru_cache
from typing import Any

import redis
from django.conf import settings

# Per client (a test settings change makes another) and script source.
_scripts: dict[tuple[int, str], Any] = {}


@lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def redis_client() -> redis.Redis:
    """A client for `REDIS_URL`."""
    return _client_for(settings.REDIS_URL)


def redis_script(source: str) -> Any:
    """The Lua script `source`, registered with the client for `REDIS_URL` once: each call runs
    it by its digest (`EVALSHA`), loading it first only where Redis does not have it."""
    client = redis_client()
    key = (id(client), source)
    script = _scripts.get(key)
    if script is None:
        script = _scripts[key] = client.register_script(source)
    return script
