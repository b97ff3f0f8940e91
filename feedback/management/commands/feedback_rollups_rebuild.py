"""Rebuild the feedback numbers' daily rollups from the source tables; safe to run twice."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from feedback.numbers.rollups import shop_rollups_rebuild
from orders.models import Shop


class Command(BaseCommand):
    help = "Recount every shop's (or one shop's) feedback per day into the rollup table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", type=int, help="Only this shop's id.")

    def handle(self, *args: Any, **options: Any) -> None:
        shops = Shop.objects.all()
        if options.get("shop"):
            shops = shops.filter(pk=options["shop"])
        for shop in shops:
            days = shop_rollups_rebuild(shop)
            self.stdout.write(f"shop {shop.pk}: {days} days")
