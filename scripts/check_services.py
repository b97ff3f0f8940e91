"""Whether the PostgreSQL and Redis at the configured addresses (or the tests' defaults) answer.

    python scripts/check_services.py     # exit 1, saying how to start what is missing

Three answers for each: it answers; nothing listens there (`make test` then starts an embedded
one, see scripts/with_services.py); or something listens but refuses (a wrong password, a
missing role), which is an error to fix, never a reason to use another server.
"""

import os
import socket
import sys

import embedded
import psycopg2
import redis
from psycopg2.extensions import parse_dsn

# The defaults of postpurchase/settings/test.py.
DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postpurchase")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")

HINTS = {
    "PostgreSQL": (
        "start it with `docker compose up -d db`, or on Debian "
        "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
    ),
    "Redis": (
        "start it with `docker compose up -d redis`, or `redis-server --daemonize yes --port 6379`"
    ),
}


class Refused(Exception):
    """Something listens at the address but does not let us in."""


def _listening(host: str, port: int, unix_path: str | None = None) -> bool:
    try:
        if unix_path:
            with socket.socket(socket.AF_UNIX) as probe:
                probe.settimeout(2)
                probe.connect(unix_path)
        else:
            socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return False
    return True


def postgres_answers(url: str) -> bool:
    """True when PostgreSQL answers at `url` (its database is then created if missing); False
    when nothing listens there; Refused when something listens but refuses."""
    params = parse_dsn(url)
    host = params.get("host") or "/var/run/postgresql"
    port = int(params.get("port") or 5432)
    unix_path = f"{host}/.s.PGSQL.{port}" if host.startswith("/") else None
    if not _listening(host, port, unix_path):
        return False
    try:
        # The migration check connects to the configured database (the tests use their own
        # `test_` copy): create it when it is missing.
        if embedded.database_ensure(url):
            print(f"Created database {params.get('dbname')}.")
    except psycopg2.Error as exc:
        raise Refused(str(exc).strip()) from exc
    return True


def redis_answers(url: str) -> bool:
    """As `postgres_answers`, for Redis."""
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    kwargs = client.connection_pool.connection_kwargs
    if not _listening(kwargs.get("host", ""), kwargs.get("port", 6379), kwargs.get("path")):
        return False
    try:
        return bool(client.ping())
    except redis.RedisError as exc:
        raise Refused(str(exc).strip()) from exc


def main() -> int:
    missing = 0
    for name, answers, url in (
        ("PostgreSQL", postgres_answers, DATABASE_URL),
        ("Redis", redis_answers, REDIS_URL),
    ):
        try:
            if answers(url):
                continue
            print(f"{name} does not answer at {url}: {HINTS[name]}.", file=sys.stderr)
        except Refused as exc:
            print(f"{name} at {url} refused: {exc}", file=sys.stderr)
        missing += 1
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
