"""The tracking page's writes: renewing an order's tracking link."""

from django.db import transaction

from orders.models import Order, OrderEvent, Shop
from orders.tenancy import staff_permission_require
from orders.tracking.cache import tracking_token_forget
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.permissions import Actor
from postpurchase.tokens import new_public_token

RETURN_WINDOW_MAX_DAYS = 365


@transaction.atomic
def tracking_link_renew(*, order: Order, actor: Actor = None) -> Order:
    """Give the order a new tracking token: the old link stops working at once (a forwarded or
    leaked link is revoked), and every message sent from now on carries the new one."""
    staff_permission_require(
        actor=actor, shop_id=order.shop_id, action=permissions.TRACKING_LINK_RENEW
    )
    order = Order.objects.select_for_update().get(pk=order.pk)
    tracking_token_forget(order.tracking_token)
    order.tracking_token = new_public_token()
    order.save(update_fields=["tracking_token", "updated_at"])
    OrderEvent.objects.create(
        shop_id=order.shop_id,
        order=order,
        kind=OrderEvent.Kind.TRACKING_LINK_RENEWED,
        actor=actor,
        note="The previous tracking link no longer works.",
    )
    return order


def shop_return_window_set(*, shop: Shop, days: int, actor: Actor = None) -> Shop:
    """How many days after delivery customers may start a return: the tracking page shows its
    return link within it, and the returns app accepts returns within it. Policy: only the
    shop's owner may change it."""
    staff_permission_require(actor=actor, shop_id=shop.pk, action=permissions.RETURN_POLICY_EDIT)
    if not 1 <= days <= RETURN_WINDOW_MAX_DAYS:
        raise DomainError(f"The return window is 1 to {RETURN_WINDOW_MAX_DAYS} days.")
    shop.return_window_days = days
    shop.save(update_fields=["return_window_days", "updated_at"])
    return shop
