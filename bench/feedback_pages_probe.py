"""The feedback pages' Django side: the survey's one-tap links and the storefront's review
widget and JSON. Run by `bench/feedback_pages.py` with the benchmark's environment (production
settings on `pp_bench`, Redis db 14). Two commands, each printing one JSON line:

- `prepare`, before the server starts: a survey request in `sent` state for every delivered
  demo order that has none (as if each had gone out yesterday by email), the one-tap link of
  every unanswered request of the demo shop (the top score of its scale) written to a file in a
  fixed mixed order, one answered request's link (its own score: a repeated tap), and the demo
  product with the most published reviews;
- `measure`, with no server running: the widget's weight, the SQL statements and Redis round
  trips of one request of each kind, and in-process wall times beside the one-row read.
"""

import argparse
import gzip
import hashlib
import json
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django

from bench.tracking_probe import statements_of, timed

SHOP = "demo"
# A survey its link can answer: its message planned (a tap may come before the sending is
# mirrored) or sent.
_UNANSWERED = ("planned", "sent")
# Every tap comes from its own address, as many customers' taps do: the page's per-address
# limit counts them (one Redis round trip) but stops none.
_CLIENTS = (f"10.9.{n // 256}.{n % 256}" for n in range(1_000_000))


def _tap_path(token: str, score: int) -> str:
    from django.urls import reverse

    return reverse("feedback:score", args=[token, score])


def _unanswered_paths(shop_slug: str) -> list[str]:
    from feedback.models import SCALES, SurveyRequest
    from feedback.tokens import order_token

    requests = SurveyRequest.objects.filter(
        shop__slug=shop_slug, status__in=_UNANSWERED
    ).select_related("order")
    # Mixed, but the same mix every run: runs stay comparable.
    ordered = sorted(requests, key=lambda r: hashlib.md5(str(r.pk).encode()).hexdigest())
    return [_tap_path(order_token(r.order), SCALES[r.kind][1]) for r in ordered]


def prepare(paths_file: Path, shop_slug: str = SHOP) -> dict[str, Any]:
    from django.db.models import Count, Q
    from django.utils import timezone

    from feedback.models import (
        ReviewStatus,
        SurveyAnswer,
        SurveyKind,
        SurveyRequest,
        SurveyRequestStatus,
    )
    from feedback.tokens import order_token
    from orders.models import Channel, Order, OrderStatus, Product, Shop

    shop = Shop.objects.get(slug=shop_slug)
    now = timezone.now()
    sent_at = now - timedelta(days=1)
    already = SurveyRequest.objects.filter(shop=shop, status__in=_UNANSWERED).count()
    orders = (
        Order.objects.filter(
            shop=shop, customer__isnull=False, delivered_at__isnull=False, survey_requests=None
        )
        .exclude(status=OrderStatus.CANCELLED)
        .only("pk", "customer_id")
    )
    added = SurveyRequest.objects.bulk_create(
        [
            SurveyRequest(
                shop=shop,
                order=order,
                customer_id=order.customer_id,
                kind=SurveyKind.NPS,
                status=SurveyRequestStatus.SENT,
                due_at=sent_at,
                channel=Channel.EMAIL,
                sent_at=sent_at,
            )
            for order in orders
            if order.customer_id is not None  # the filter leaves none out; the types cannot know
        ],
        batch_size=1000,
    )
    paths = _unanswered_paths(shop_slug)
    paths_file.write_text("".join(f"{path}\n" for path in paths))
    answered = (
        SurveyAnswer.objects.filter(shop=shop, kind=SurveyKind.NPS)
        .select_related("request__order")
        .order_by("-answered_at", "-pk")
        .first()
    )
    if answered is None:
        raise SystemExit("The demo shop has no answered survey: run `seed_demo` first")
    product = (
        Product.objects.filter(shop=shop)
        .exclude(external_id="")
        .annotate(published=Count("reviews", filter=Q(reviews__status=ReviewStatus.PUBLISHED)))
        .order_by("-published", "pk")
        .first()
    )
    if product is None or not product.published:
        raise SystemExit("The demo shop has no published review: run `seed_demo` first")
    return {
        "prepared_at": now.isoformat(),
        "taps": len(paths),
        "added": len(added),
        "unanswered_before": already,
        "repeat_path": _tap_path(order_token(answered.request.order), answered.score),
        "repeat_score": answered.score,
        "shop": shop.slug,
        "product": product.external_id,
        "product_title": product.title,
        "reviews": product.published,
    }


class _Probe:
    def __init__(self, facts: dict[str, Any], paths: list[str], repeat: int) -> None:
        from django.test import Client

        from orders.models import Order

        self.client = Client(HTTP_HOST="127.0.0.1")
        self.paths = iter(paths)
        self.repeat = repeat
        self.repeat_path = facts["repeat_path"]
        self.widget_path = f"/feedback/widget/{facts['shop']}/{facts['product']}/"
        self.json_path = f"/feedback/api/{facts['shop']}/{facts['product']}/reviews.json"
        self.order_pk = Order.objects.filter(shop__slug=SHOP).order_by("pk").values("pk")[0]["pk"]

    def get(self, path: str, status: int) -> Any:
        response = self.client.get(path, REMOTE_ADDR=next(_CLIENTS))
        if response.status_code != status:
            raise RuntimeError(f"{path} answered {response.status_code}, not {status}")
        return response

    def first_tap(self) -> Any:
        path = next(self.paths, None)
        if path is None:
            raise RuntimeError("no unanswered survey left for a first tap")
        return self.get(path, 303)

    def kinds(self) -> dict[str, Callable[[], Any]]:
        return {
            "tap_first": self.first_tap,
            "tap_repeat": lambda: self.get(self.repeat_path, 303),
            "widget": lambda: self.get(self.widget_path, 200),
            "json": lambda: self.get(self.json_path, 200),
        }


def _sizes(probe: _Probe) -> dict[str, int]:
    from django.contrib.staticfiles import finders

    html = probe.get(probe.widget_path, 200).content
    css_path = finders.find("css/review-widget.css")
    if not isinstance(css_path, str):
        raise SystemExit("css/review-widget.css is not among the static files")
    css = Path(css_path).read_bytes()
    body = probe.get(probe.json_path, 200).content
    return {
        "html_bytes": len(html),
        "html_gzip_bytes": len(gzip.compress(html)),
        "css_bytes": len(css),
        "css_gzip_bytes": len(gzip.compress(css)),
        "json_bytes": len(body),
        "json_gzip_bytes": len(gzip.compress(body)),
    }


def measure(facts: dict[str, Any], paths_file: Path, repeat: int) -> dict[str, Any]:
    paths = [p for p in paths_file.read_text().splitlines() if p]
    probe = _Probe(facts, paths, repeat)
    kinds = probe.kinds()
    for call in kinds.values():  # templates compiled, caches filled, connections open
        call()
    result: dict[str, Any] = {"sizes": _sizes(probe), "repeat": repeat}
    result["statements"] = {name: statements_of(call) for name, call in kinds.items()}
    result["timings"] = {
        "hello": timed(lambda: probe.get("/bench/hello", 200), repeat),
        "one_row": timed(lambda: probe.get(f"/bench/order/{probe.order_pk}", 200), repeat),
        **{name: timed(call, repeat) for name, call in kinds.items()},
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["prepare", "measure"])
    parser.add_argument("--paths-file", type=Path, required=True)
    parser.add_argument("--facts", default="{}", help="prepare's JSON (measure)")
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    django.setup()
    if args.command == "prepare":
        print(json.dumps(prepare(args.paths_file)))
    else:
        print(json.dumps(measure(json.loads(args.facts), args.paths_file, args.repeat)))


if __name__ == "__main__":
    main()
