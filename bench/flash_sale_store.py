"""Store a flash sale's `orders/create` deliveries as received, ready for a dispatch round.

Run by `bench/flash_sale.py` with the benchmark's environment (DATABASE_URL of `pp_bench`).
Each body is validated exactly as the webhook view does before storing; the rows are then
bulk-inserted, which is what thousands of intake requests would have left behind minus their
dispatch asks (the benchmark triggers dispatch itself, timed). Prints one JSON line.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django

_HEADERS = {"X-Shopify-Topic": "orders/create", "X-Shopify-API-Version": "2025-07"}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--first-number", type=int, required=True)
    parser.add_argument("--event-prefix", required=True)
    parser.add_argument("--shop", default="demo", help="shop slug")
    parser.add_argument("--returning-share", type=float, default=0.25)
    return parser.parse_args()


def store(args: argparse.Namespace) -> dict:
    from django.db.models import F

    from bench.shopify_payload import flash_sale_orders
    from orders.ingest.shopify import payload_parse
    from orders.models import Customer, Shop, Variant, WebhookEvent, WebhookProvider

    started = time.perf_counter()
    shop = Shop.objects.get(slug=args.shop)
    variants = list(
        Variant.objects.filter(shop=shop)
        .annotate(product_title=F("product__title"), product_external_id=F("product__external_id"))
        .order_by("pk")
        .values("external_id", "sku", "title", "price", "product_title", "product_external_id")
    )
    returning = list(
        Customer.objects.filter(shop=shop, redacted_at__isnull=True)
        .exclude(external_id="")
        .exclude(email="")
        .order_by("pk")
        .values("external_id", "email", "phone", "first_name", "last_name")[
            : int(args.count * args.returning_share)
        ]
    )
    rows, line_items = [], 0
    orders = flash_sale_orders(
        count=args.count, first_number=args.first_number, variants=variants, returning=returning
    )
    for n, order in enumerate(orders):
        # The view refuses an invalid body; a stored "received" delivery is always a valid one.
        payload_parse(topic="orders/create", body=order.body, shop=shop)
        event_id = f"{args.event_prefix}-{n}"
        headers = {
            **_HEADERS,
            "X-Shopify-Shop-Domain": shop.domain,
            "X-Shopify-Event-Id": event_id,
            "X-Shopify-Webhook-Id": event_id,
        }
        rows.append(
            WebhookEvent(
                provider=WebhookProvider.SHOPIFY,
                event_id=event_id,
                topic="orders/create",
                headers=headers,
                body=order.body.decode(),
                shop=shop,
            )
        )
        line_items += order.line_items
    WebhookEvent.objects.bulk_create(rows, batch_size=500)
    return {
        "stored": len(rows),
        "line_items": line_items,
        "returning_customers": len(returning),
        "variants": len(variants),
        "body_bytes": sum(len(r.body) for r in rows) // max(len(rows), 1),
        "seconds": time.perf_counter() - started,
    }


if __name__ == "__main__":
    arguments = _arguments()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "postpurchase.settings.base")
    django.setup()
    print(json.dumps(store(arguments)))
