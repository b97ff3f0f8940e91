"""Check that the PostgreSQL and Redis the tests need answer; say how to start what is missing."""

import os
import socket
import sys
from urllib.parse import urlparse

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


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def postgres_answers() -> bool:
    if not reachable(DATABASE_URL, 5432):
        return False
    import psycopg2

    parsed = urlparse(DATABASE_URL)
    try:
        conn = psycopg2.connect(
            host=parsed.hostname,
            port=parsed.port or 5432,
            user=parsed.username or "postgres",
            password=parsed.password or None,
            dbname="postgres",
            connect_timeout=3,
        )
    except psycopg2.Error as exc:
        print(f"PostgreSQL at {parsed.hostname}:{parsed.port or 5432} refused: {exc}".strip())
        return False
    _database_ensure(conn, parsed.path.lstrip("/"))
    return True


def _database_ensure(conn, name: str) -> None:
    """Create the configured database when it is missing: the migration check connects to it
    (the tests themselves use their own `test_` copy)."""
    from psycopg2 import sql

    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created database {name}.")
    conn.close()


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def main() -> int:
    missing = [
        name
        for name, ok in (("PostgreSQL", postgres_answers()), ("Redis", redis_answers()))
        if not ok
    ]
    for name in missing:
        url = DATABASE_URL if name == "PostgreSQL" else REDIS_URL
        print(f"{name} does not answer at {url}: {HINTS[name]}.", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
