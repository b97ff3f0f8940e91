"""Whether the PostgreSQL and Redis at the configured addresses (or the tests' defaults) answer.

    python scripts/check_services.py     # exit 1, saying how to start what is missing

Three answers for each: it answers; nothing listens there (`make test` then starts an embedded
one, see scripts/with_services.py); or something listens but refuses (a wrong password, a
missing role), which is an error to fix, never a reason to use another server.
"""

import os
import socket
import sys

import psycopg2
import redis
from psycopg2 import sql
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
        conn = psycopg2.connect(url, dbname="postgres", connect_timeout=3)
    except psycopg2.Error as exc:
        raise Refused(str(exc).strip()) from exc
    _database_ensure(conn, params.get("dbname") or "postgres")
    return True


def _database_ensure(conn, name: str) -> None:
    """Create the configured database when it is missing: the migration check connects to it
    (the tests themselves use their own `test_` copy)."""
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created database {name}.")
    conn.close()


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
