"""The embedded servers (scripts/embedded.py): started on a folder, found again while they run,
stopped with nothing left, their data kept from one start to the next."""

import shutil
import sys
import tempfile
from pathlib import Path

import psutil
import psycopg2
import pytest
import redis

BASE_DIR = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(BASE_DIR / "scripts"))

import embedded  # noqa: E402


@pytest.fixture
def folder():
    (BASE_DIR / "var" / "test").mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="embedded-", dir=BASE_DIR / "var" / "test"))
    yield path
    embedded.stop_all(path)
    shutil.rmtree(path, ignore_errors=True)


def _query(url: str, statement: str) -> list[tuple]:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchall() if cursor.description else []
    finally:
        conn.close()


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_servers_found_running_are_used_as_they_are_and_keep_their_data(folder):
    postgres = embedded.postgres_start(folder / "pg")
    valkey = embedded.valkey_start(folder / "valkey", persist=True)
    url = embedded.database_url(postgres.url)
    embedded.database_ensure(url)
    _query(url, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")
    redis.Redis.from_url(valkey.url).set("kept", "yes")

    again = (
        embedded.postgres_start(folder / "pg"),
        embedded.valkey_start(folder / "valkey", persist=True),
    )
    pids = [
        int((folder / "pg" / "postmaster.pid").read_text().split()[0]),
        int((folder / "valkey" / "valkey.pid").read_text()),
    ]
    stopped = embedded.stop_all(folder)

    assert (postgres.started, valkey.started) == (True, True)
    assert [server.started for server in again] == [False, False]
    assert [server.url for server in again] == [postgres.url, valkey.url]
    assert sorted(stopped) == ["PostgreSQL", "Valkey"]
    assert all(_gone(pid) for pid in pids)

    # Started again on the same folders: the data is still there.
    postgres = embedded.postgres_start(folder / "pg")
    valkey = embedded.valkey_start(folder / "valkey", persist=True)
    assert postgres.started
    assert _query(embedded.database_url(postgres.url), "SELECT n FROM kept") == [(42,)]
    assert redis.Redis.from_url(valkey.url).get("kept") == b"yes"


def test_a_first_start_that_was_interrupted_is_made_afresh(folder):
    # What Ctrl-C during the very first `make run` can leave: initdb's first files, no server.
    (folder / "pg" / "base").mkdir(parents=True)
    (folder / "pg" / "PG_VERSION").write_text("18\n")

    postgres = embedded.postgres_start(folder / "pg")

    assert postgres.started
    assert postgres.version.startswith("18.")


def test_stopping_a_folder_with_no_server_is_harmless(folder):
    assert embedded.stop_all(folder) == []
