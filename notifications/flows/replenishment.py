"""Replenishment reminders: when a customer will run out of a consumable they bought, and
cancelling the reminder when they reorder first."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection

from notifications.engine.scheduling import messages_cancel
from notifications.models import PENDING_STATES, Message
from orders.messages import event_shipment, order_context
from orders.models import LineItem, Order, OrderStatus, Shipment
from orders.selectors import shipment_line_items
from postpurchase.events import Event
from postpurchase.message_kinds import MessagePlan, PlanRequest

KIND = "replenishment"

# The median gap between consecutive orders of a product by the same customer, over one
# customer or over all of the shop's customers who ordered it at least twice. Orders holding
# the product on several lines count once.
_MEDIAN_GAP_SQL = """
WITH orders_of_product AS (
    SELECT DISTINCT o.id, o.customer_id, o.placed_at
    FROM orders_lineitem li JOIN orders_order o ON o.id = li.order_id
    WHERE li.shop_id = %(shop_id)s AND li.product_id = %(product_id)s
      AND o.status <> %(cancelled)s AND o.customer_id IS NOT NULL
      AND (%(customer_id)s::bigint IS NULL OR o.customer_id = %(customer_id)s::bigint)
      AND (%(until)s::timestamptz IS NULL OR o.placed_at <= %(until)s::timestamptz)
),
gaps AS (
    SELECT placed_at - LAG(placed_at) OVER (PARTITION BY customer_id ORDER BY placed_at, id)
        AS gap
    FROM orders_of_product
)
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) FROM gaps WHERE gap IS NOT NULL
"""


def _median_gap(
    *, shop_id: int, product_id: int, customer_id: int | None, until: datetime | None
) -> timedelta | None:
    with connection.cursor() as cursor:
        cursor.execute(
            _MEDIAN_GAP_SQL,
            {
                "shop_id": shop_id,
                "product_id": product_id,
                "cancelled": OrderStatus.CANCELLED.value,
                "customer_id": customer_id,
                "until": until,
            },
        )
        (gap,) = cursor.fetchone()
    return gap


@dataclass(frozen=True)
class Prediction:
    interval: timedelta
    # "customer", "shop" or "days_of_use": which of the three rules gave the interval.
    basis: str


def replenishment_predict(*, line_item: LineItem) -> Prediction | None:
    """How long this purchase should last: the customer's own median interval between orders
    of the product when they have at least two, else the median across the shop's customers
    who ordered it at least twice, else days of use times quantity. None for non-consumables."""
    product = line_item.product
    if product is None or not product.is_consumable:
        return None
    order = line_item.order
    if order.customer_id is not None:
        own = _median_gap(
            shop_id=order.shop_id,
            product_id=product.pk,
            customer_id=order.customer_id,
            until=order.placed_at,
        )
        if own:
            return Prediction(own, "customer")
    shop_wide = _median_gap(
        shop_id=order.shop_id, product_id=product.pk, customer_id=None, until=None
    )
    if shop_wide:
        return Prediction(shop_wide, "shop")
    if product.days_of_use is None:
        # The table's check lets a consumable go without (NULL passes a CHECK): nothing to
        # count from, so no reminder rather than a guess.
        return None
    return Prediction(timedelta(days=product.days_of_use * line_item.quantity), "days_of_use")


def _reordered_since(*, customer_id: int, product_id: int, placed_at: datetime) -> bool:
    return (
        LineItem.objects.filter(
            order__customer_id=customer_id,
            product_id=product_id,
            order__placed_at__gt=placed_at,
        )
        .exclude(order__status=OrderStatus.CANCELLED)
        .exists()
    )


def replenishment_plans(*, delay: timedelta, order: Order, shipment: Shipment) -> list[MessagePlan]:
    """One reminder per consumable line in the delivered parcel, `delay` (a lead time)
    before the predicted run-out counted from delivery. A line the customer already reordered
    gets none; a reminder that would fall before delivery is due at delivery."""
    delivered_at, customer_id = shipment.delivered_at, order.customer_id
    if customer_id is None or delivered_at is None:
        return []
    plans = []
    for line in shipment_line_items(shipment=shipment):
        line.order = order  # the order in hand: no query per line
        prediction = replenishment_predict(line_item=line)
        product = line.product
        if prediction is None or product is None:
            continue
        if _reordered_since(
            customer_id=customer_id, product_id=product.pk, placed_at=order.placed_at
        ):
            continue
        runs_out_at = delivered_at + prediction.interval
        context = order_context(order) | {
            "product_title": product.title,
            "product_url": product.url,
            "product_image_url": product.image_url,
            "quantity": line.quantity,
            "runs_out_on": runs_out_at.date().isoformat(),
        }
        due = max(runs_out_at - delay, delivered_at)
        plans.append(MessagePlan(about=("line_item", line.pk), due=due, context=context))
    return plans


def replenishment_plan(request: PlanRequest) -> list[MessagePlan]:
    """The reminders a parcel's delivery owes (the kind's planner)."""
    shipment = event_shipment(request)
    if shipment is None:
        return []
    return replenishment_plans(delay=request.delay, order=request.order, shipment=shipment)


def replenishment_cancel_on_reorder(*, order_id: int) -> int:
    """The customer reordered: cancel their pending reminders for the products of this order
    (earlier purchases of them). Returns how many messages were cancelled."""
    order = Order.objects.get(pk=order_id)
    if order.customer_id is None:
        return 0
    product_ids = order.line_items.filter(product__isnull=False).values("product_id")
    earlier_lines = LineItem.objects.filter(
        order__customer_id=order.customer_id, product_id__in=product_ids
    ).exclude(order_id=order.pk)
    abouts = (
        Message.objects.filter(
            customer_id=order.customer_id,
            kind=KIND,
            status__in=PENDING_STATES,
            about_type="line_item",
            about_id__in=earlier_lines.values("pk"),
        )
        .values_list("about_id", flat=True)
        .distinct()
    )
    reason = f"the customer reordered (order {order.number})"
    return sum(
        messages_cancel(reason=reason, about=("line_item", line_id), kinds=(KIND,))
        for line_id in abouts
    )


def order_placed_cancel_replenishment(event: Event) -> int:
    return replenishment_cancel_on_reorder(order_id=event.payload["order_id"])
