"""`python manage.py suppressions_repair [--shop SLUG] [--apply]`: find the email suppressions
created from a temporary refusal (a 4xx reply such as greylisting) and, with --apply, lift them.
Without --apply it only reports, changing nothing."""

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.engine.suppression_repair import (
    suppressions_from_temporary_refusals,
    suppressions_lift_temporary_refusals,
)
from orders.models import Shop


class Command(BaseCommand):
    help = (
        "Find email addresses suppressed because of a temporary refusal (a 4xx SMTP reply, "
        "e.g. greylisting) and lift them with --apply. Without --apply nothing changes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", help="only this shop (its slug)")
        parser.add_argument("--apply", action="store_true", help="lift them (default: report)")

    def handle(self, *args: Any, **options: Any) -> None:
        shop_id = None
        if options["shop"]:
            shop = Shop.objects.filter(slug=options["shop"]).first()
            if shop is None:
                raise CommandError(f"No shop with slug '{options['shop']}'.")
            shop_id = shop.pk
        if options["apply"]:
            found = suppressions_lift_temporary_refusals(shop_id=shop_id)
        else:
            found = suppressions_from_temporary_refusals(shop_id=shop_id)
        if options["verbosity"] > 1:
            for suppression in found:
                self.stdout.write(
                    f"  {suppression.shop.slug}: {suppression.address} ({suppression.detail})"
                )
        verb = "lifted" if options["apply"] else "to lift"
        per_shop = Counter((s.shop.slug, s.shop.name) for s in found)
        for (slug, name), count in sorted(per_shop.items()):
            self.stdout.write(f"{slug} ({name}): {count} {verb}")
        if options["apply"]:
            self.stdout.write(
                f"Lifted {len(found)} suppression(s) created from a temporary refusal."
            )
        else:
            self.stdout.write(
                f"{len(found)} suppression(s) created from a temporary refusal. Nothing changed; "
                "run again with --apply to lift them."
            )
