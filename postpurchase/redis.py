"""The Redis the project runs on (the broker's and the cache's), for the few counters that
need Redis's own commands: rate limits and page-view tallies."""

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def redis_client() -> redis.Redis:
    """A client for `REDIS_URL`."""
    return _client_for(settings.REDIS_URL)
