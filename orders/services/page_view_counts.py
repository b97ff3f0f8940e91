"""How often customers look at their tracking page, counted without slowing it down.

A view is three commands in one round trip into a per-order hash in Redis, and a beat task
adds the tallies to `TrackingPageViews` every minute."""

from datetime import UTC, datetime

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from orders.models import Order, TrackingPageViews
from postpurchase.redis import redis_client

_DIRTY = "pp:track:views:dirty"
_TALLY = "pp:track:views:{}"


def tracking_page_view_record(*, order: Order, at: datetime | None = None) -> None:
    stamp = (at or timezone.now()).timestamp()
    key = _TALLY.format(order.pk)
    pipe = redis_client().pipeline(transaction=False)
    pipe.hincrby(key, "count", 1)
    pipe.hsetnx(key, "first", stamp)
    pipe.hset(key, mapping={"last": stamp, "shop": order.shop_id})
    pipe.sadd(_DIRTY, order.pk)
    pipe.execute()


@transaction.atomic
def tracking_page_views_add(
    *, order_id: int, shop_id: int, count: int, first: datetime, last: datetime
) -> None:
    row, created = TrackingPageViews.objects.select_for_update().get_or_create(
        order_id=order_id,
        defaults={
            "shop_id": shop_id,
            "view_count": count,
            "first_viewed_at": first,
            "last_viewed_at": last,
        },
    )
    if not created:
        TrackingPageViews.objects.filter(pk=row.pk).update(
            view_count=F("view_count") + count,
            first_viewed_at=Least("first_viewed_at", first),
            last_viewed_at=Greatest("last_viewed_at", last),
        )


def tracking_page_views_flush(*, batch: int = 500) -> int:
    """Move the tallies Redis holds into the database; returns how many orders it updated.
    A tally is taken and deleted in one transaction, so two flushes never count it twice."""
    client = redis_client()
    flushed = 0
    while order_ids := client.spop(_DIRTY, batch):
        for raw in order_ids:
            order_id = int(raw)
            pipe = client.pipeline(transaction=True)
            pipe.hgetall(_TALLY.format(order_id))
            pipe.delete(_TALLY.format(order_id))
            tally, _deleted = pipe.execute()
            if not tally or not Order.objects.filter(pk=order_id).exists():
                continue
            tracking_page_views_add(
                order_id=order_id,
                shop_id=int(tally[b"shop"]),
                count=int(tally[b"count"]),
                first=_from_stamp(tally[b"first"]),
                last=_from_stamp(tally[b"last"]),
            )
            flushed += 1
    return flushed


def _from_stamp(raw: bytes) -> datetime:
    return datetime.fromtimestamp(float(raw), tz=UTC)
