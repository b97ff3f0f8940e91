"""What loyalty does when orders, returns and feedback announce something (subscribed in
`LoyaltyConfig.ready()`; the bus calls each once per event, and each service is idempotent
besides)."""

from datetime import datetime

from loyalty.earning.bonuses import review_points_award
from loyalty.earning.orders import (
    ReturnedItem,
    order_delivered_confirm_at,
    order_points_earn,
    order_points_void,
    returned_item_clawback,
)
from loyalty.occasions.services import birthday_changed_record
from postpurchase.events import Event

# Payment states after which the shop kept none of the money (orders' REVERSED statuses).
_REVERSED = frozenset({"voided", "refunded"})


def order_paid_earn(event: Event) -> object:
    return order_points_earn(order_id=event.payload["order_id"])


def order_cancelled_void(event: Event) -> int:
    return order_points_void(order_id=event.payload["order_id"], why="order cancelled")


def order_refunded_void(event: Event) -> int:
    """Money went back: a payment voided or wholly refunded keeps none of the sale, so its
    pending points go; a partial refund keeps them (a return takes back its items' points)."""
    status = event.payload.get("financial_status")
    if status not in _REVERSED:
        return 0
    return order_points_void(order_id=event.payload["order_id"], why=f"payment {status}")


def order_delivered_schedule(event: Event) -> object:
    return order_delivered_confirm_at(order_id=event.payload["order_id"])


def return_resolved_clawback(event: Event) -> int:
    taken = 0
    for item in event.payload.get("items", []):
        taken += returned_item_clawback(
            item=ReturnedItem(
                return_item_id=item["return_item_id"],
                line_item_id=item["line_item_id"],
                quantity=item["quantity"],
                resolution=item["resolution"],
            )
        )
    return taken


def review_published_award(event: Event) -> int:
    return review_points_award(
        shop_id=event.shop_id,
        review_id=event.payload["review_id"],
        customer_id=event.payload.get("customer_id"),
        has_photos=bool(event.payload.get("has_photos")),
    )


def birthday_changed(event: Event) -> object:
    return birthday_changed_record(
        customer_id=event.payload["customer_id"],
        changed_at=datetime.fromisoformat(event.payload["changed_at"]),
    )


# (event name, handler, subscriber key): the keys are the delivery records' names, stable.
SUBSCRIPTIONS = (
    ("order_paid", order_paid_earn, "loyalty.earning.order_paid"),
    ("order_cancelled", order_cancelled_void, "loyalty.earning.order_cancelled"),
    ("order_refunded", order_refunded_void, "loyalty.earning.order_refunded"),
    ("order_delivered", order_delivered_schedule, "loyalty.earning.order_delivered"),
    ("return_resolved", return_resolved_clawback, "loyalty.earning.return_resolved"),
    ("review_published", review_published_award, "loyalty.earning.review_published"),
    ("customer_birthday_changed", birthday_changed, "loyalty.occasions.birthday_changed"),
)
