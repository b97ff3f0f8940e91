"""`make test`'s servers (scripts/with_services.py): the configured ones when they answer,
embedded ones for the run when nothing answers, never a silent switch away from a server that
answers but refuses."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest
from django.conf import settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent
WITH_SERVICES = [sys.executable, str(BASE_DIR / "scripts" / "with_services.py")]

# What the suite would do with the servers it is given: use both, and say which they are.
PROBE = """
import json, os, redis, psycopg2
conn = psycopg2.connect(os.environ["DATABASE_URL"], dbname="postgres")
cur = conn.cursor()
cur.execute("SHOW server_version")
version = cur.fetchone()[0]
cur.execute("SHOW data_directory")
data = cur.fetchone()[0]
info = redis.Redis.from_url(os.environ["REDIS_URL"]).info("server")
try:  # an embedded server's data folder is ours to read; a system server's may not be
    postmaster = int(open(os.path.join(data, "postmaster.pid")).readline())
except OSError:
    postmaster = None
print(json.dumps({
    "database_url": os.environ["DATABASE_URL"], "redis_url": os.environ["REDIS_URL"],
    "postgres": version, "valkey": info.get("valkey_version"),
    "pids": [postmaster, info["process_id"]], "data": data,
}))
"""


def _nothing_listens() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free once closed


def _run(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"EMBEDDED", "PYTEST_XDIST_WORKER"}}
    return subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [*WITH_SERVICES, sys.executable, "-c", PROBE],
        cwd=BASE_DIR,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _seen(run: subprocess.CompletedProcess) -> dict:
    return json.loads(next(line for line in run.stdout.splitlines() if line.startswith("{")))


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _configured_url(user: str) -> str:
    """The suite's own PostgreSQL, as `user`."""
    db = settings.DATABASES["default"]
    if socket_dir := db["OPTIONS"].get("host"):
        return f"postgres://{user}@/postpurchase?host={quote(socket_dir, safe='/')}"
    return f"postgres://{user}@{db['HOST']}:{db['PORT'] or 5432}/postpurchase"


@pytest.mark.parametrize(
    "embedded",
    [
        pytest.param("", id="nothing-answers"),
        pytest.param("1", id="forced"),
    ],
)
def test_the_run_gets_embedded_servers_that_are_gone_afterwards(embedded):
    if embedded:  # the suite's own servers answer, and are set aside all the same
        env = {"EMBEDDED": "1", "DATABASE_URL": _configured_url("postgres")}
        env["REDIS_URL"] = settings.REDIS_URL
    else:
        env = {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{_nothing_listens()}/postpurchase",
            "REDIS_URL": f"redis://127.0.0.1:{_nothing_listens()}/15",
        }

    run = _run(**env)

    assert run.returncode == 0, run.stderr
    seen = _seen(run)
    assert seen["postgres"].startswith("18.")
    assert seen["valkey"].startswith("9.")
    assert "/var/test/run-" in seen["database_url"]
    assert seen["database_url"].startswith("postgres://postgres@/postpurchase?host=")
    assert seen["redis_url"].startswith("redis://127.0.0.1:")
    assert seen["redis_url"].endswith("/15")  # the tests' database, as the default's
    assert "PostgreSQL: embedded, in " in run.stdout
    assert "Redis: embedded, in " in run.stdout
    # Stopped and removed at the end of the run.
    assert not any(_alive(pid) for pid in seen["pids"])
    assert not Path(seen["data"]).parent.exists()


def test_servers_that_answer_are_used_as_they_are():
    run = _run(DATABASE_URL=_configured_url("postgres"), REDIS_URL=settings.REDIS_URL)

    assert run.returncode == 0, run.stderr
    seen = _seen(run)
    assert seen["database_url"] == _configured_url("postgres")
    assert seen["redis_url"] == settings.REDIS_URL
    assert "embedded" not in run.stdout


def test_a_server_that_refuses_is_an_error_not_a_reason_to_embed_another():
    run = _run(DATABASE_URL=_configured_url("no_such_role"), REDIS_URL=settings.REDIS_URL)

    assert run.returncode == 1
    assert "PostgreSQL at " in run.stderr
    assert 'role "no_such_role" does not exist' in run.stderr
    assert run.stdout == ""  # the command never ran


def test_without_embedded_servers_a_missing_server_is_an_error_that_says_how_to_start_it():
    run = _run(
        EMBEDDED="0",
        DATABASE_URL=_configured_url("postgres"),
        REDIS_URL=f"redis://127.0.0.1:{_nothing_listens()}/15",
    )

    assert run.returncode == 1
    assert "Redis does not answer at redis://127.0.0.1:" in run.stderr
    assert "docker compose up -d redis" in run.stderr
    assert run.stdout == ""
