"""What tiers and referrals hear from orders and returns (subscribed in `LoyaltyConfig.ready()`;
each handler is idempotent: a redelivered event changes nothing more)."""

from loyalty.referrals.services import referral_friend_order_cancelled, referral_friend_ordered
from orders.models import Order
from postpurchase.events import Event
from postpurchase.queue import enqueue_on_commit


def _customer_of(event: Event) -> int | None:
    customer_id = event.payload.get("customer_id")
    if customer_id is None and event.payload.get("order_id") is not None:
        customer_id = (
            Order.objects.filter(pk=event.payload["order_id"])
            .values_list("customer_id", flat=True)
            .first()
        )
    return customer_id


def order_changed_tier_recompute(event: Event) -> None:
    """A paid, refunded or cancelled order, or a resolved return: the customer's spend (or
    points) changed. Recomputed after commit, once the order's points are booked."""
    customer_id = _customer_of(event)
    if customer_id is not None:
        enqueue_on_commit("loyalty.tasks.customer_tier_recompute_task", event.shop_id, customer_id)


def order_paid_referral(event: Event) -> None:
    referral_friend_ordered(order_id=event.payload["order_id"])


def order_reversed_referral(event: Event) -> None:
    referral_friend_order_cancelled(order_id=event.payload["order_id"])
