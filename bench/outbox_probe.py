"""The outbox benchmark's Django side: store due messages, count and time what one process does.

Run by `bench/outbox.py` with the benchmark's environment (production settings on `pp_bench`,
anymail's test backend). Each subcommand prints one JSON line:

- `seed`: bulk-insert due `order_confirmation` emails for the demo shop's orders.
- `schedule`: the queries of one `message_schedule` call, new and repeated.
- `profile`: sends queued messages one by one in this process and splits the cost per message
  into queries, template rendering, the provider call and the rest; then times them sent in
  batches, as the send task does.
- `claim`: 1,000,000 scheduled rows, a few due; times the service's claim of 100 (its one
  statement and the enqueue after commit) and the raw SELECT … SKIP LOCKED + UPDATE, and explains
  the service's statement.
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django

KIND = "order_confirmation"


def _contexts(count: int) -> list[dict[str, Any]]:
    """Message fields for `count` confirmations, cycling over the demo shop's live orders, with
    the context the order-confirmation flow stores (see tests/notifications/test_outbox.py)."""
    from django.db.models import Prefetch
    from django.db.models.functions import Lower

    from notifications.models import Suppression
    from orders.models import LineItem, Order, OrderStatus, Shop

    shop = Shop.objects.get(slug="demo")
    # The demo's history suppressed the addresses that bounced: mail to them is refused.
    suppressed = Suppression.objects.filter(shop=shop, channel="email").values("address")
    orders = list(
        Order.objects.filter(shop=shop, customer__isnull=False, customer__redacted_at__isnull=True)
        .exclude(status=OrderStatus.CANCELLED)
        .exclude(email="")
        .annotate(address=Lower("email"))
        .exclude(address__in=suppressed)
        .select_related("customer")
        .prefetch_related(Prefetch("line_items", queryset=LineItem.objects.order_by("pk")))
        .order_by("pk")[:count]
    )
    if not orders:
        raise RuntimeError("the demo shop has no live order with a customer and an email")
    rows = []
    for n in range(count):
        order = orders[n % len(orders)]
        items = [
            {
                "quantity": li.quantity,
                "title": li.title,
                "variant_title": li.variant_title,
                "total": str(li.unit_price * li.quantity - li.discount_total),
            }
            for li in order.line_items.all()
        ]
        rows.append(
            {
                "shop_id": shop.pk,
                "order": order,
                "context": {
                    "shop_name": shop.name,
                    "order_number": order.number,
                    "customer_first_name": order.customer.first_name if order.customer else "",
                    "items": items,
                    "total": str(order.total),
                    "currency": order.currency,
                    "tracking_url": f"https://{shop.domain}/track/{order.pk}/",
                },
            }
        )
    return rows


def _messages(count: int, prefix: str, status: str) -> list:
    from django.utils import timezone

    from notifications.models import Channel, Message, Purpose

    now = timezone.now()
    return [
        Message(
            shop_id=row["shop_id"],
            customer_id=row["order"].customer_id,
            order_id=row["order"].pk,
            kind=KIND,
            channel=Channel.EMAIL,
            purpose=Purpose.TRANSACTIONAL,
            recipient=row["order"].email,
            about_type="order",
            about_id=row["order"].pk,
            context=row["context"],
            send_at=now - timedelta(minutes=1),
            status=status,
            queued_at=now if status == "queued" else None,
            dedupe_key=f"{prefix}:{n}",
        )
        for n, row in enumerate(_contexts(count))
    ]


def seed(args: argparse.Namespace) -> dict:
    from notifications.models import Message

    started = time.perf_counter()
    rows = _messages(args.count, args.prefix, "scheduled")
    Message.objects.bulk_create(rows, batch_size=1000)
    return {
        "stored": len(rows),
        "orders": len({r.order_id for r in rows}),
        "seconds": time.perf_counter() - started,
    }


def schedule(args: argparse.Namespace) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from notifications.engine.scheduling import MessageRequest, message_schedule
    from notifications.models import Channel, Purpose

    row = _contexts(1)[0]
    order = row["order"]
    request = MessageRequest(
        shop_id=row["shop_id"],
        customer_id=order.customer_id,
        order_id=order.pk,
        kind="bench_schedule_probe",  # a kind of its own: the key is new on the first call
        channel=Channel.EMAIL,
        purpose=Purpose.TRANSACTIONAL,
        recipient=order.email,
        about_type="order",
        about_id=order.pk,
        send_at=timezone.now() + timedelta(days=1),
        context=row["context"],
    )
    result = {}
    for label in ("new", "repeat"):
        with CaptureQueriesContext(connection) as captured:
            _, created = message_schedule(request=request)
        result[label] = {
            "created": created,
            "queries": len(captured.captured_queries),
            "sql": [q["sql"][:160] for q in captured.captured_queries],
        }
    return result


def profile(args: argparse.Namespace) -> dict:
    """Send `count` queued messages here, one by one, as a worker's batch task does, and split
    each message's wall time: queries (their own time as the driver reports it), rendering
    (the same templates rendered again on their own), the provider call (anymail's test backend,
    on its own) and the rest (Python around them: ORM, transactions, signals)."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.engine.channels.email import EmailChannel
    from notifications.engine.rendering import message_render
    from notifications.engine.sending import _Ready, _rendered_message, message_send
    from notifications.models import DeliveryAttempt, Message

    rows = _messages(args.count, args.prefix, "queued")
    Message.objects.bulk_create(rows)
    ids = list(
        Message.objects.filter(dedupe_key__startswith=f"{args.prefix}:")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    # The first send loads templates and the backend: not what a busy worker pays.
    warm = ids[: min(20, len(ids) // 4)]
    for pk in warm:
        message_send(message_id=pk)
    timed = ids[len(warm) :]
    half = len(timed) // 2
    walls, query_counts, query_ms = [], [], []
    # Wall time without capturing (capturing formats every statement, which costs time too);
    # the statements themselves on the other half.
    for pk in timed[:half]:
        started = time.perf_counter()
        message_send(message_id=pk)
        walls.append((time.perf_counter() - started) * 1000)
    for pk in timed[half:]:
        with CaptureQueriesContext(connection) as captured:
            message_send(message_id=pk)
        query_counts.append(len(captured.captured_queries))
        query_ms.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
    batch_ms, batch_size = _batch_profile(args)
    sample = Message.objects.filter(pk__in=timed).order_by("pk")
    renders, sends = [], []
    channel = EmailChannel()
    for message in sample.select_related("shop"):
        started = time.perf_counter()
        message_render(kind=message.kind, channel=message.channel, context=message.context)
        renders.append((time.perf_counter() - started) * 1000)
        rendered = _rendered_message(_Ready(message))
        started = time.perf_counter()
        channel.send(rendered)
        sends.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        message_send(message_id=ids[-1])  # already sent: the statements of a skipped one
    kinds: dict[str, int] = {}
    with CaptureQueriesContext(connection) as one:
        extra = _messages(1, f"{args.prefix}-one", "queued")[0]
        extra.save()
        one.captured_queries.clear()
        message_send(message_id=extra.pk)
    for q in one.captured_queries:
        verb = q["sql"].split(None, 1)[0].upper()
        kinds[verb] = kinds.get(verb, 0) + 1
    wall = statistics.mean(walls)
    return {
        "messages": len(timed),
        "sent": Message.objects.filter(pk__in=timed, status="sent").count(),
        "attempts": DeliveryAttempt.objects.filter(message_id__in=timed).count(),
        "wall_ms": wall,
        "wall_ms_median": statistics.median(walls),
        "queries": statistics.median(query_counts),
        "query_kinds": kinds,
        "query_sql": [q["sql"][:140] for q in one.captured_queries],
        "query_ms": statistics.mean(query_ms),
        "render_ms": statistics.mean(renders),
        "send_ms": statistics.mean(sends),
        "skipped_queries": len(captured.captured_queries),
        "batch_ms": batch_ms,
        "dispatch_batch": batch_size,
        "send_chunk": settings.NOTIFICATIONS_SEND_CHUNK,
        "rest_ms": wall
        - statistics.mean(query_ms)
        - statistics.mean(renders)
        - statistics.mean(sends),
    }


def _batch_profile(args: argparse.Namespace) -> tuple[float, int]:
    """Per message wall time when queued messages are sent as the send task does: a batch of
    `NOTIFICATIONS_DISPATCH_BATCH` ids at a time through `messages_send` (chunks, one commit
    per chunk, one email connection per chunk)."""
    from django.conf import settings

    from notifications.engine.sending import messages_send
    from notifications.models import Message

    size = settings.NOTIFICATIONS_DISPATCH_BATCH
    prefix = f"{args.prefix}-batch"
    Message.objects.bulk_create(_messages(size * 6, prefix, "queued"), batch_size=1000)
    ids = list(
        Message.objects.filter(dedupe_key__startswith=f"{prefix}:")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    messages_send(message_ids=ids[:size])  # warm-up
    timed = ids[size:]
    started = time.perf_counter()
    for start in range(0, len(timed), size):
        messages_send(message_ids=timed[start : start + size])
    return (time.perf_counter() - started) * 1000 / len(timed), size


# The raw claim, for comparison with the service's one statement (its SELECT and UPDATE).
CLAIM_SQL = (
    "SELECT id FROM notifications_message WHERE status = 'scheduled' AND send_at <= now() "
    "ORDER BY send_at LIMIT 100 FOR UPDATE SKIP LOCKED"
)


def claim(args: argparse.Namespace) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from notifications.engine import dispatch
    from notifications.engine.dispatch import messages_claim_due
    from notifications.models import Message

    # One row to copy: every column a real message has, then 1,000,000 copies in one
    # INSERT … SELECT (far faster than bulk_create), most due in the future.
    template = _messages(1, f"{args.prefix}-template", "scheduled")[0]
    template.save()
    columns = [
        f.column
        for f in Message._meta.concrete_fields
        if f.column is not None and f.column not in ("id", "dedupe_key", "send_at")
    ]
    # Enough due rows for every timed claim to take 100 new ones and still leave `--due` due.
    due = args.due + args.repeat * 100
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO notifications_message ({', '.join(columns)}, dedupe_key, send_at) "
            f"SELECT {', '.join(columns)}, %s || g, CASE WHEN g <= %s "
            "THEN now() - interval '1 minute' * (mod(g, 60) + 1) "
            "ELSE now() + interval '1 second' * g END "
            "FROM notifications_message t, generate_series(1, %s) g WHERE t.id = %s",
            [f"{args.prefix}:", due, args.rows - 1, template.pk],
        )
    insert_s = time.perf_counter() - started
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE notifications_message")
        cur.execute("SELECT count(*) FROM notifications_message WHERE status = 'scheduled'")
        scheduled = cur.fetchone()[0]
        cur.execute(
            "SELECT count(*) FROM notifications_message "
            "WHERE status = 'scheduled' AND send_at <= now()"
        )
        due = cur.fetchone()[0]

    # Each repeat claims the next 100 due rows, as consecutive ticks do: claimed rows never
    # return to `scheduled` in production, and putting them back would leave dead index entries
    # for the next claim to step over that the raw measurement below (rolled back) never sees.
    orm_ms = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        ids = messages_claim_due(batch_size=100)
        orm_ms.append((time.perf_counter() - started) * 1000)
        if len(ids) != 100:
            raise RuntimeError(f"claimed {len(ids)} rows, wanted 100")

    raw_ms = []
    for _ in range(args.repeat):
        with transaction.atomic(), connection.cursor() as cur:
            started = time.perf_counter()
            cur.execute(CLAIM_SQL)
            ids = [r[0] for r in cur.fetchall()]
            cur.execute(
                "UPDATE notifications_message SET status = 'queued', queued_at = now() "
                "WHERE id = ANY(%s)",
                [ids],
            )
            raw_ms.append((time.perf_counter() - started) * 1000)
            transaction.set_rollback(True)  # leave the table as it was for the next repeat

    # The plan of the statement the service runs (claim, mark queued, write the history), in a
    # transaction rolled back so that it claims nothing.
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "EXPLAIN (ANALYZE, BUFFERS) " + dispatch._CLAIM_SQL,
            dispatch._claim_values(timezone.now(), 100),
        )
        plan = "\n".join(r[0] for r in cur.fetchall())
        transaction.set_rollback(True)
    return {
        "rows": scheduled,
        "due": due,
        "insert_seconds": insert_s,
        "orm_ms": statistics.median(orm_ms),
        "orm_ms_max": max(orm_ms),
        "raw_ms": statistics.median(raw_ms),
        "raw_ms_max": max(raw_ms),
        "repeat": args.repeat,
        "plan": plan,
        "uses_index": "message_due_idx" in plan,
    }


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("seed", "profile"):
        one = sub.add_parser(name)
        one.add_argument("--count", type=int, required=True)
        one.add_argument("--prefix", required=True)
    sub.add_parser("schedule")
    scale = sub.add_parser("claim")
    scale.add_argument("--rows", type=int, default=1_000_000)
    scale.add_argument("--due", type=int, default=1_000, help="due rows left after the claims")
    scale.add_argument("--repeat", type=int, default=30)
    scale.add_argument("--prefix", required=True)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = _arguments()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "postpurchase.settings.production")
    django.setup()
    commands = {"seed": seed, "schedule": schedule, "profile": profile, "claim": claim}
    print(json.dumps(commands[arguments.command](arguments), default=str))
