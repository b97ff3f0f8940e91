"""`make run`: the demo, with everything it needs, in one process.

1. With no DATABASE_URL it starts the embedded PostgreSQL (data in VAR_DIR/pg), with no
   REDIS_URL the embedded Valkey (VAR_DIR/valkey), or uses them if they are running already
   (see scripts/embedded.py). A platform without the wheels is told what to set instead.
2. Migrates, and seeds the demo shop when the database has no shop (DEMO_SCALE, default 1.0).
3. Says where to go and how to sign in, then runs web, worker and beat (Procfile.dev) under
   honcho, with the servers' addresses in their environment.
4. Ctrl-C, or TERM to its process group, stops web, worker and beat, then the embedded
   servers: nothing is left running. Their data stays for the next run (`make reset` drops it).

Variables: PORT (8000), VAR_DIR (var/), DEMO_SCALE, and every setting of the README.
"""

import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import embedded

BASE_DIR = embedded.BASE_DIR
sys.path.insert(0, str(BASE_DIR))


class Stop(Exception):
    """TERM arrived while starting up."""


def _on_term(signum, frame):
    raise Stop


def main() -> int:
    import environ

    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)  # as the settings read it
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "postpurchase.settings.base")
    os.environ.setdefault("DEBUG", "1")
    port = int(os.environ.setdefault("PORT", "8000"))
    local = f"http://127.0.0.1:{port}"
    os.environ.setdefault("PUBLIC_BASE_URL", local)
    var = Path(os.environ.setdefault("VAR_DIR", str(BASE_DIR / "var"))).resolve()
    embed_postgres = not os.environ.get("DATABASE_URL")
    embed_valkey = not os.environ.get("REDIS_URL")

    if _answers(port):
        print(
            f"Something already answers on port {port} (another `make run`?). "
            f"Stop it, or choose another port: PORT={port + 1} make run",
            file=sys.stderr,
        )
        return 1
    try:  # before anything starts: a missing wheel stops the run with what to set instead
        if embed_postgres:
            embedded.postgres_check()
        if embed_valkey:
            embedded.valkey_check()
    except embedded.Unavailable as exc:
        print(exc, file=sys.stderr)
        return 1

    signal.signal(signal.SIGTERM, _on_term)
    servers: list[embedded.Server] = []
    try:
        servers = _servers_start(var, embed_postgres, embed_valkey)
        if not _database_prepare():
            return 1
        print(_welcome(local, var, servers), flush=True)
        return _processes_run(local)
    except (KeyboardInterrupt, Stop):
        return 0
    except embedded.Unavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        # A second Ctrl-C must not leave the servers half stopped.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if embed_postgres or embed_valkey:  # even when TERM came halfway through a start
            _servers_stop(var)


def _servers_start(var: Path, embed_postgres: bool, embed_valkey: bool) -> list:
    servers, addresses = [], {}
    if embed_postgres:
        server = embedded.postgres_start(var / "pg")
        addresses["DATABASE_URL"] = embedded.database_url(server.url)
        embedded.database_ensure(addresses["DATABASE_URL"])
        servers.append(server)
    if embed_valkey:
        server = embedded.valkey_start(var / "valkey", persist=True)
        addresses["REDIS_URL"] = server.url
        servers.append(server)
    for server in servers:
        how = "started" if server.started else "found running (left by an earlier run), used"
        print(f"Embedded {server.name} {server.version}: {how}.")
    if addresses:
        os.environ.update(addresses)
        embedded.services_env_write(var, addresses)
    return servers


def _servers_stop(var: Path) -> None:
    """Stop the embedded servers of VAR_DIR, whether this run started them or found them left
    running by an earlier run that was killed: `make run` owns those."""
    print(f"Stopping the embedded servers in {_shown(var)}...", flush=True)
    stopped = embedded.stop_all(var)
    if stopped:
        names = " and ".join(stopped)
        print(f"Stopped {names}; their data stays for the next run.", flush=True)


def _database_prepare() -> bool:
    """Migrate and seed the demo when the database has no shop; False when it is unreachable."""
    import django
    from django.core.management import call_command
    from django.db import OperationalError, connections

    django.setup()
    print("Migrating the database...", flush=True)
    try:
        call_command("migrate", interactive=False, verbosity=0)
    except OperationalError as exc:
        print(f"The database does not answer ({exc}).\nCheck DATABASE_URL.", file=sys.stderr)
        return False
    call_command("seed_demo", if_empty=True, scale=float(os.environ.get("DEMO_SCALE", "1.0")))
    connections.close_all()  # nothing of this process may hold a session while it waits
    return True


def _welcome(local: str, var: Path, servers: list) -> str:
    """What a newcomer needs, every time: where to go and how to sign in."""
    from django.contrib.auth import get_user_model
    from django.db import connections

    from orders.demo.reference import ADMIN_USERNAME, DEFAULT_PASSWORD, STAFF_USERNAME
    from orders.links import tracking_page_path
    from orders.models import Order

    users = set(
        get_user_model()
        .objects.filter(username__in=[STAFF_USERNAME, ADMIN_USERNAME], is_active=True)
        .values_list("username", flat=True)
    )
    order = (
        Order.objects.filter(customer__email__gt="")
        .select_related("customer")
        .order_by("-placed_at")
        .first()
    )
    loyalty = _demo_loyalty_page()
    connections.close_all()

    def login(username: str) -> str:
        if username in users:
            return f"sign in as {username} / {DEFAULT_PASSWORD} (as seeded)"
        return f"no `{username}` user here: `python manage.py createsuperuser` makes one"

    lines = [
        "",
        "=" * 78,
        f"Postpurchase is starting: web on {local}, a Celery worker and beat.",
        "",
        f"  Dashboard     {local}/dashboard/",
        f"                {login(STAFF_USERNAME)}",
        f"  Admin (ops)   {local}/admin/",
        f"                {login(ADMIN_USERNAME)}",
        f"  Order lookup  {local}/track/  (an order number with its email or postcode)",
    ]
    if order is not None and order.customer is not None:  # the query found one with an email
        lines += [
            f"                try {order.number} with {order.customer.email}, or open its page:",
            f"                {local}{tracking_page_path(order)}",
        ]
    if loyalty is not None:
        name, path = loyalty
        lines += [
            f"  Loyalty       {local}{path}",
            f"                the demo customer {name}'s points, tier and rewards",
        ]
    lines += [
        f"  API key       create one in admin: {local}/admin/orders/apikey/add/",
        "                (shown once; the demo's own was printed when it was seeded)",
        f"                the API's documentation: {local}/api/v1/docs/",
    ]
    if servers:
        data = ", ".join(f"{s.name} {s.version} in {_shown(_folder(var, s))}" for s in servers)
        lines += [
            f"  Data          embedded {data};",
            "                kept from run to run (`make reset` drops it)",
        ]
    lines += ["", "Ctrl-C stops everything.", "=" * 78, ""]
    return "\n".join(lines)


def _demo_loyalty_page() -> tuple[str, str] | None:
    """The demo customer's name and loyalty page, when the demo shop has them."""
    from loyalty.demo.customer import demo_customer_find
    from loyalty.tokens import loyalty_path
    from orders.demo.reference import SHOP_SLUG
    from orders.models import Shop

    shop = Shop.objects.filter(slug=SHOP_SLUG).first()
    member = demo_customer_find(shop) if shop is not None else None
    if member is None:
        return None
    return member.customer.full_name, loyalty_path(member.customer)


def _folder(var: Path, server: embedded.Server) -> Path:
    return var / ("pg" if server.name == "PostgreSQL" else "valkey")


def _processes_run(local: str) -> int:
    """Web, worker and beat under honcho until one stops or we are told to stop."""
    from honcho.environ import parse_procfile
    from honcho.manager import Manager
    from honcho.printer import Message

    procfile = parse_procfile((BASE_DIR / "Procfile.dev").read_text())
    manager = Manager()
    for name, command in procfile.processes.items():
        manager.add_process(name, command, env=dict(os.environ), cwd=str(BASE_DIR))

    def ready() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _answers(int(local.rsplit(":", 1)[1])):
            time.sleep(0.5)
        text = f"ready: {local}/dashboard/ (the logins are above)\n"
        manager.events.put(Message("line", text, _now(), "run", None))

    threading.Thread(target=ready, daemon=True).start()
    manager.loop()
    # Stopped by Ctrl-C or TERM (honcho's 130 and 143): what was asked, not a failure.
    return 0 if manager.returncode in (130, 143) else manager.returncode or 0


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _now():
    import datetime

    return datetime.datetime.now()  # noqa: DTZ005 - honcho prints local wall-clock times


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(BASE_DIR))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
