"""What the benchmark runs on: its own Postgres database and Redis db, manage.py, gunicorn.

Everything here is the benchmark's own (database `pp_bench`, Redis db 14, one gunicorn on a
free loopback port, one Celery worker on that Redis db); nothing else is created, changed or
dropped.
"""

import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg2
import redis
from celery import Celery

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
DB_NAME = "pp_bench"
DATABASE_URL = f"postgres://postgres@{HOST}:5432/{DB_NAME}"
REDIS_URL = f"redis://{HOST}:6379/14"
_ADMIN_DSN = {"host": HOST, "port": 5432, "user": "postgres", "dbname": "postgres"}
# One key for the whole run: the links a probe signs (the survey's one-tap links) must open in
# the server, which signs and checks with the same key.
_SECRET_KEY = secrets.token_urlsafe(50)


def admin(sql: str) -> None:
    """One statement on the server's `postgres` database, outside a transaction."""
    conn = psycopg2.connect(**_ADMIN_DSN, connect_timeout=5)
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def database_recreate() -> None:
    """A fresh `pp_bench`; a leftover from an interrupted run is the benchmark's own."""
    database_drop()
    admin(f"CREATE DATABASE {DB_NAME}")


def database_drop() -> None:
    admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def execute(sql: str, params: tuple = ()) -> int:
    """One statement on `pp_bench` in autocommit (VACUUM cannot run in a transaction)."""
    conn = psycopg2.connect(DATABASE_URL, connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.rowcount
    finally:
        conn.close()


def query(sql: str, params: tuple = ()) -> list[dict]:
    conn = psycopg2.connect(DATABASE_URL, connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            names = [c.name for c in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        conn.close()


def redis_purge() -> None:
    # What a run leaves queued (the intake's dispatch asks, tasks a stopped worker had not
    # taken) belongs to that run: drop it with the db.
    redis.Redis.from_url(REDIS_URL, socket_timeout=5).flushdb()


def django_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "postpurchase.settings.base", **extra}
    env.setdefault("LOG_LEVEL", "WARNING")
    return env


def manage(args: list[str], env: dict[str, str], timeout_s: int = 300) -> float:
    """Run manage.py; returns its wall-clock seconds. Raises with its output on failure."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds


@contextmanager
def standalone_database(name: str, given_url: str, *, keep: bool) -> Iterator[str]:
    """Yields `given_url` (an existing migrated database) or, when it is empty, the URL of a
    fresh database `name`, migrated, and dropped afterwards unless `keep`."""
    if given_url:
        yield given_url
        return
    database_url = f"postgres://postgres@{HOST}:5432/{name}"
    print(f"creating {name} and migrating ...", flush=True)
    admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin(f"CREATE DATABASE {name}")
    manage(["migrate", "--noinput", "-v", "0"], {**postgres_env(), "DATABASE_URL": database_url})
    try:
        yield database_url
    finally:
        if not keep:
            admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def postgres_env() -> dict[str, str]:
    return django_env(DATABASE_URL=DATABASE_URL, REDIS_URL=REDIS_URL)


@contextmanager
def static_collected() -> Iterator[None]:
    """`collectstatic`, as a release does (the Docker image at build): production settings
    serve the stylesheets by their hashed names from STATIC_ROOT, and a page that links one
    cannot render without the manifest. A STATIC_ROOT this created is removed afterwards."""
    root = ROOT / "var" / "static"
    existed = root.exists()
    try:
        manage(["collectstatic", "--noinput", "-v", "0"], production_env())
        yield
    finally:
        if not existed:
            shutil.rmtree(root, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # loopback only
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def production_env() -> dict[str, str]:
    """Production settings on the benchmark's database and Redis, for gunicorn and Celery."""
    env = postgres_env()
    env.update(
        DJANGO_SETTINGS_MODULE="postpurchase.settings.production",
        SECRET_KEY=_SECRET_KEY,
        SECURE_SSL_REDIRECT="0",
        BENCH_ENDPOINTS="1",
        ALLOWED_HOSTS=HOST,
        DEBUG="0",
        CONN_MAX_AGE="600",  # persistent connections, as in production
    )
    return env


def _start(
    command: list[str], log: Path, extra_env: dict[str, str] | None = None
) -> subprocess.Popen:
    with log.open("wb") as out:
        # Its own session, so that stopping it reaches its children (workers, pool processes).
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env={**production_env(), **(extra_env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def django_script(script: Path, args: list[str], timeout_s: int = 600) -> dict:
    """Run a bench script that loads Django (production settings on the benchmark's database
    and Redis) and return the JSON object its last line of output prints."""
    done = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{done.stdout}\n{done.stderr}"[-1500:])
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextmanager
def gunicorn(
    *, port: int, workers: int, log: Path, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """gunicorn in production mode with the bench views on; yields its base URL.
    `extra_env` overrides settings read from the environment."""
    command = [str(BIN / "gunicorn"), "postpurchase.wsgi", "--bind", f"{HOST}:{port}"]
    command += ["--workers", str(workers), "--worker-class", "sync", "--log-level", "warning"]
    server = _start(command, log, extra_env)
    base = f"http://{HOST}:{port}"
    try:
        _wait_ready(server, f"{base}/bench/hello", log)
        yield base
    finally:
        _stop(server)


def celery_app() -> Celery:
    """A client of the benchmark's broker: it sends tasks by name and pings workers, without
    loading Django in the benchmark's own process."""
    return Celery("pp-bench", broker=REDIS_URL)


@contextmanager
def celery_worker(
    *, concurrency: int, log: Path, extra_env: dict[str, str] | None = None
) -> Iterator[None]:
    """A Celery worker (prefork) in production mode, as deployed; yields once it answers.
    `extra_env` overrides settings read from the environment, e.g. the email backend."""
    command = [str(BIN / "celery"), "-A", "postpurchase", "worker", "--pool", "prefork"]
    command += ["--concurrency", str(concurrency), "--loglevel", "warning"]
    worker = _start(command, log, extra_env)
    app = celery_app()
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=1.0):
            if worker.poll() is not None:
                raise RuntimeError(f"celery exited ({worker.returncode}):\n{log.read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"celery did not answer a ping within 60 s:\n{log.read_text()}")
        yield
    finally:
        app.close()
        _stop(worker)


def _wait_ready(server: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({server.returncode}):\n{log.read_text()}")
        if _status(url) == 200:
            return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer {url} within 30 s:\n{log.read_text()}")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    with suppress(ProcessLookupError):
        # Its own session: gunicorn's arbiter and workers, or celery's main and pool processes.
        # SIGTERM is a warm shutdown for both: running requests or tasks finish first.
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def machine() -> dict[str, str]:
    cpu = "unknown"
    with suppress(OSError), open("/proc/cpuinfo") as info:
        cpu = next((ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), cpu)
    memory = "unknown"
    with suppress(OSError), open("/proc/meminfo") as info:
        kib = int(next(ln for ln in info if ln.startswith("MemTotal")).split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    pg = query("SHOW server_version")[0]["server_version"]
    redis_version = redis.Redis.from_url(REDIS_URL, socket_timeout=5).info("server")
    return {
        "cpu": f"{os.cpu_count()} cores ({cpu})",
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgres": pg,
        "redis": str(redis_version.get("redis_version", "unknown")),
    }
