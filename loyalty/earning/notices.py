"""The loyalty messages about points (`loyalty.messages.member_message_schedule`), one per
order or per reminder."""

from datetime import datetime

from loyalty.messages import POINTS_EARNED, POINTS_EXPIRING, member_message_schedule
from loyalty.models import Member
from notifications.models import Flow
from orders.messages import delivery_date_text
from orders.models import ConsentStatus, Customer, Order, Purpose


def accepts_marketing(customer: Customer) -> bool:
    """Whether the customer granted marketing on some channel: pending points are a reason to
    come back, not yet the customer's, so their message is told only to those who accept it.
    Reads the customer's consents once (none when they were prefetched, as the scheduling of
    the message reads them too)."""
    return any(
        consent.purpose == Purpose.MARKETING and consent.status == ConsentStatus.GRANTED
        for consent in customer.consents.all()
    )


def points_earned_notify(
    *,
    order: Order,
    member: Member,
    points: int,
    pending: bool,
    flow: Flow | None = None,
    earning_is_new: bool = False,
) -> int:
    """One message per order about its points; returns how many were scheduled (one per
    channel). None for pending points of a customer who does not accept marketing. `member`
    holds the balance just booked; `flow`, the shop's enabled flow of the kind when the caller
    read it already (else it is looked up); `earning_is_new`, the order's earning was made in
    this transaction, so no message about its points can be owed yet."""
    customer = order.customer
    if customer is None or (pending and not accepts_marketing(customer)):
        return 0
    context = {
        "shop_name": order.shop.name,
        "customer_first_name": customer.first_name,
        "order_number": order.number,
        "points": points,
        "is_pending": pending,
        "available": max(member.available, 0),
        "pending": member.pending,
    }
    scheduled = member_message_schedule(
        kind=POINTS_EARNED,
        customer=customer,
        about=("order", order.pk),
        context=context,
        order=order,
        flow=flow,
        about_is_new=earning_is_new,
    )
    return len(scheduled)


def points_expiring_notify(
    *, customer: Customer, member: Member, points: int, expires_at: datetime, lot_id: int
) -> int:
    """The reminder of points about to expire, about the first lot it covers."""
    context = {
        "shop_name": customer.shop.name,
        "customer_first_name": customer.first_name,
        "points": points,
        "available": max(member.available, 0),
        "expires_on": delivery_date_text(expires_at.date(), customer=customer, shop=customer.shop),
    }
    scheduled = member_message_schedule(
        kind=POINTS_EXPIRING, customer=customer, about=("lot", lot_id), context=context
    )
    return len(scheduled)
