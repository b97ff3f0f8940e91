"""`python manage.py import_orders FILE.csv --shop SLUG [--errors FILE]`: backfill order history.

The columns are described in docs/csv-import.md. Imported orders never message customers."""

import csv
import io
import os
import sys
from contextlib import ExitStack
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from orders.ingest.csv_import import CsvImportError, ImportSummary, RowError, orders_import
from orders.models import Shop


class Command(BaseCommand):
    help = (
        "Import historical orders from a CSV file, one row per line item (see "
        "docs/csv-import.md). Imported orders never trigger customer messages."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV file, UTF-8 (a byte-order mark is fine)")
        parser.add_argument("--shop", required=True, help="slug of the shop the orders belong to")
        parser.add_argument(
            "--errors", metavar="FILE", help="also write the problems found to this CSV file"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        shop = Shop.objects.filter(slug=options["shop"]).first()
        if shop is None:
            raise CommandError(f"No shop with slug '{options['shop']}'.")
        # tqdm redraws the bar in place, so it needs the raw stream, not Django's line wrapper.
        console: TextIO = options.get("stderr") or sys.stderr
        with ExitStack() as stack:
            raw = stack.enter_context(_open(options["file"], "rb"))
            report = None
            if options["errors"]:
                report = csv.writer(stack.enter_context(_open(options["errors"], "w")))
                report.writerow(["row", "order_id", "field", "reason"])
            bar = stack.enter_context(_progress_bar(raw, console))
            summary = self._import(shop, raw, bar, report)
        self.stdout.write(
            f"Orders: {summary.created} created, {summary.updated} updated, "
            f"{summary.unchanged} unchanged, {summary.failed} failed. Rows read: {summary.rows}."
        )

    def _import(self, shop: Shop, raw: io.BufferedReader, bar: tqdm, report: Any) -> ImportSummary:
        def on_error(error: RowError) -> None:
            bar.write(str(error), file=bar.fp)
            if report is not None:
                report.writerow([error.row, error.order_id, error.field, error.reason])

        def on_order() -> None:
            bar.update(raw.tell() - bar.n)

        # utf-8-sig drops the byte-order mark that spreadsheet programs put first.
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        try:
            summary = orders_import(shop=shop, lines=text, on_error=on_error, on_order=on_order)
        except CsvImportError as exc:
            raise CommandError(f"{raw.name}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(
                f"{raw.name} is not UTF-8 text (near byte {raw.tell()}): save it as CSV UTF-8. "
                "The orders before that point were imported."
            ) from exc
        except csv.Error as exc:
            raise CommandError(f"{raw.name} is not a readable CSV file: {exc}") from exc
        finally:
            text.detach()
        bar.update(raw.tell() - bar.n)
        return summary


def _open(path: str, mode: str) -> Any:
    try:
        if "b" in mode:
            return open(path, mode)
        return open(path, mode, encoding="utf-8", newline="")
    except OSError as exc:
        raise CommandError(f"Cannot open {path}: {exc.strerror or exc}") from exc


def _progress_bar(raw: io.BufferedReader, console: TextIO) -> tqdm:
    size = os.fstat(raw.fileno()).st_size
    return tqdm(
        total=size, unit="B", unit_scale=True, unit_divisor=1024, desc="Importing", file=console
    )
