"""Frequently bought together: the nightly computation of product affinities from the shop's
own orders. It reads the orders' lines and writes `ProductAffinity`, both this app's tables; the
pages and messages read the pairs through `orders.recommendations`."""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from orders.models import OrderStatus, ProductAffinity

AFFINITY_WINDOW = timedelta(days=365)
AFFINITY_MIN_ORDERS_TOGETHER = 2
AFFINITY_TOP_PER_PRODUCT = 10

# One pass in SQL: each order's distinct products (its basket), each product's order count,
# the self-join of baskets counting orders per ordered pair, then lift and a top-N per product.
# Lift = P(a and b) / (P(a) P(b)) = together * orders / (orders with a * orders with b).
_AFFINITY_SQL = """
WITH baskets AS (
    SELECT DISTINCT li.order_id, li.product_id
    FROM orders_lineitem li
    JOIN orders_order o ON o.id = li.order_id
    WHERE o.shop_id = %(shop_id)s AND o.placed_at >= %(since)s AND o.status <> %(cancelled)s
      AND li.product_id IS NOT NULL
),
total AS (SELECT COUNT(DISTINCT order_id)::float AS orders FROM baskets),
per_product AS (SELECT product_id, COUNT(*)::float AS orders FROM baskets GROUP BY product_id),
pairs AS (
    SELECT a.product_id, b.product_id AS related_id, COUNT(*) AS together
    FROM baskets a JOIN baskets b ON a.order_id = b.order_id AND a.product_id <> b.product_id
    GROUP BY a.product_id, b.product_id
    HAVING COUNT(*) >= %(min_together)s
),
scored AS (
    SELECT p.product_id, p.related_id, p.together,
           p.together * total.orders / (pa.orders * pb.orders) AS lift
    FROM pairs p
    JOIN per_product pa ON pa.product_id = p.product_id
    JOIN per_product pb ON pb.product_id = p.related_id
    CROSS JOIN total
),
ranked AS (
    SELECT *, ROW_NUMBER() OVER (
        PARTITION BY product_id ORDER BY lift DESC, together DESC, related_id
    ) AS rank
    FROM scored WHERE lift > 1
)
INSERT INTO orders_productaffinity
    (shop_id, product_id, related_id, orders_together, lift, computed_at)
SELECT %(shop_id)s, product_id, related_id, together, lift, %(now)s
FROM ranked WHERE rank <= %(top)s
"""


@transaction.atomic
def product_affinities_compute(*, shop_id: int, now: datetime | None = None) -> int:
    """Recompute the shop's "bought together" pairs from its orders of the last 365 days and
    replace its rows in one transaction: readers see the old set until the new one commits.
    Cancelled orders and lines without a known product do not count. Returns the pair count."""
    now = now or timezone.now()
    ProductAffinity.objects.filter(shop_id=shop_id).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            _AFFINITY_SQL,
            {
                "shop_id": shop_id,
                "since": now - AFFINITY_WINDOW,
                "cancelled": OrderStatus.CANCELLED.value,
                "min_together": AFFINITY_MIN_ORDERS_TOGETHER,
                "top": AFFINITY_TOP_PER_PRODUCT,
                "now": now,
            },
        )
        return cursor.rowcount
