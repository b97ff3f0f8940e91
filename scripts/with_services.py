"""Run a command (`make test`'s checks and suite) with a PostgreSQL and a Redis that answer.

    python scripts/with_services.py COMMAND [ARG...]

Each server is the one at DATABASE_URL / REDIS_URL (or the tests' defaults,
127.0.0.1:5432 and 127.0.0.1:6379) when it answers there. When nothing listens there, an
embedded one is started for the run in a fresh folder under var/test/, and stopped and removed
afterwards (scripts/embedded.py), so the suite needs nothing installed but Python.
EMBEDDED=1 uses the embedded servers whatever answers; EMBEDDED=0 never starts them (a server
that does not answer is then an error, with how to start it).
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import check_services
import embedded


class Stop(Exception):
    pass


def _on_term(signum, frame):
    raise Stop


def _choose(mode: str, name: str, answers, url: str) -> bool | None:
    """True: embed this server; False: use the one at `url`; None: neither can be (said why)."""
    if mode == "1":
        return True
    try:
        if answers(url):
            return False
    except check_services.Refused as exc:
        print(f"{name} at {url} refused: {exc}", file=sys.stderr)
        return None
    if mode == "0":
        print(f"{name} does not answer at {url}: {check_services.HINTS[name]}.", file=sys.stderr)
        return None
    return True


def main(command: list[str]) -> int:
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    mode = os.environ.get("EMBEDDED", "")
    embed_postgres = _choose(mode, "PostgreSQL", check_services.postgres_answers,
                             check_services.DATABASE_URL)  # fmt: skip
    embed_redis = _choose(mode, "Redis", check_services.redis_answers, check_services.REDIS_URL)
    if embed_postgres is None or embed_redis is None:
        return 1
    env = dict(os.environ)
    folder = None
    signal.signal(signal.SIGTERM, _on_term)
    try:
        if embed_postgres or embed_redis:
            var = Path(os.environ.get("VAR_DIR", embedded.VAR_DIR)) / "test"
            var.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix="run-", dir=var))
            env.update(_embedded_start(folder, embed_postgres, embed_redis))
        for name, embed, url in (
            ("PostgreSQL", embed_postgres, check_services.DATABASE_URL),
            ("Redis", embed_redis, check_services.REDIS_URL),
        ):
            where = f"embedded, in {folder} for this run" if embed else f"at {url}"
            print(f"{name}: {where}", flush=True)
        started = time.monotonic()
        child = subprocess.Popen(command, env=env)
        try:
            code = child.wait()
        except (KeyboardInterrupt, Stop):
            child.terminate()
            code = child.wait()
        if folder is not None:
            print(f"({time.monotonic() - started:.0f} s on the embedded servers)")
        return code
    except embedded.Unavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Stop):
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if folder is not None:
            embedded.stop_all(folder)
            shutil.rmtree(folder, ignore_errors=True)


def _embedded_start(folder: Path, postgres: bool, redis: bool) -> dict[str, str]:
    """Start the servers asked for; the variables that name them."""
    env = {}
    if postgres:
        server = embedded.postgres_start(folder / "pg")
        env["DATABASE_URL"] = embedded.database_url(server.url)
        embedded.database_ensure(env["DATABASE_URL"])
    if redis:
        server = embedded.valkey_start(folder / "valkey", persist=False)
        # The tests' database number (15), as in the default: xdist's workers count down from it.
        env["REDIS_URL"] = server.url.rsplit("/", 1)[0] + "/15"
    return env


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
