import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.demo import DEFAULT_PASSWORD, DEFAULT_SEED, DemoSummary, demo_seed
from orders.models import Shop


class Command(BaseCommand):
    help = (
        "Create the demo shop 'Northwind Goods' with two years of customers, orders, shipments "
        "and tracking, a staff login, an admin login and an API key. Publishes no domain events."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has a shop (used by `make run`).",
        )
        parser.add_argument(
            "--scale", type=float, default=1.0, help="1.0 is ~2,000 customers, ~10,000 orders."
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument(
            "--password", default=DEFAULT_PASSWORD, help="Password of new demo/admin users."
        )

    def handle(self, *args, **options) -> None:
        if options["if_empty"] and Shop.objects.exists():
            self.stdout.write("A shop already exists: skipping the demo data.")
            return
        if options["scale"] <= 0:
            raise CommandError("--scale must be greater than 0.")
        started = time.monotonic()
        try:
            summary = demo_seed(
                scale=options["scale"], seed=options["seed"], password=options["password"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self._report(summary, time.monotonic() - started)

    def _report(self, summary: DemoSummary, seconds: float) -> None:
        counts, out = summary.counts, self.stdout
        out.write(self.style.SUCCESS(f"Demo shop '{summary.shop.name}' ready in {seconds:.1f} s"))
        out.write(
            f"  {counts['products']} products ({counts['variants']} variants), "
            f"{counts['customers']} customers, {counts['orders']} orders, "
            f"{counts['line_items']} line items"
        )
        out.write(
            f"  {counts['shipments']} shipments, {counts['tracking_events']} tracking events, "
            f"{counts['order_events']} timeline entries"
        )
        if "messages" in counts:
            out.write(
                f"  {counts['messages']} messages, {counts['messages_scheduled']} of them due "
                "in the next minutes: watch them go out in the dashboard's message log"
            )
        out.write(
            "  orders by status: "
            + ", ".join(f"{name} {n}" for name, n in sorted(summary.statuses.items()))
        )
        out.write("")
        out.write(f"  Dashboard:  {settings.PUBLIC_BASE_URL}/dashboard/")
        logins = ((summary.staff_username, "Staff"), (summary.admin_username, "Admin"))
        for username, label in logins:
            password = (
                summary.password
                if summary.users_created[username]
                else "(existing account, password unchanged)"
            )
            out.write(f"  {label + ':':<11} {username} / {password}")
        out.write(f"  Admin site: {settings.PUBLIC_BASE_URL}/admin/")
        for link in summary.links:
            out.write(f"  {link.label}")
            out.write(f"              {link.url}")
        out.write(f"  API key:    {summary.api_key}  (shown once; only its hash is stored)")
