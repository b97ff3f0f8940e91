"""The loyalty messages about points: scheduled through the shop's flow of each kind, like any
periodic kind (`notifications.services.flow_schedule`), one per order or per reminder."""

from datetime import datetime

from django.utils import timezone

from loyalty.messages import (
    POINTS_EARNED,
    POINTS_EXPIRING,
    TRIGGER_POINTS_BOOKED,
    TRIGGER_POINTS_EXPIRING,
)
from loyalty.models import Member
from notifications.models import Flow
from notifications.services import flow_schedule, flows_for
from orders.messages import delivery_date_text
from orders.models import Consent, ConsentStatus, Customer, Order, Purpose
from postpurchase.message_kinds import MessagePlan


def accepts_marketing(customer_id: int) -> bool:
    """Whether the customer granted marketing on some channel: pending points are a reason to
    come back, not yet the customer's, so their message is told only to those who accept it."""
    return Consent.objects.filter(
        customer_id=customer_id, purpose=Purpose.MARKETING, status=ConsentStatus.GRANTED
    ).exists()


def _flow(shop_id: int, trigger: str, kind: str) -> Flow | None:
    return next(
        (f for f in flows_for(shop_id=shop_id, trigger=trigger, payload={}) if f.kind == kind), None
    )


def points_earned_notify(*, order: Order, member: Member, points: int, pending: bool) -> int:
    """One message per order about its points; returns how many were scheduled (one per
    channel). None for pending points of a customer who does not accept marketing."""
    customer = order.customer
    if customer is None or (pending and not accepts_marketing(customer.pk)):
        return 0
    flow = _flow(order.shop_id, TRIGGER_POINTS_BOOKED, POINTS_EARNED)
    if flow is None:
        return 0
    member.refresh_from_db(fields=["available", "pending"])
    context = {
        "shop_name": order.shop.name,
        "customer_first_name": customer.first_name,
        "order_number": order.number,
        "points": points,
        "is_pending": pending,
        "available": max(member.available, 0),
        "pending": member.pending,
    }
    plan = MessagePlan(about=("order", order.pk), due=timezone.now() + flow.delay, context=context)
    return len(flow_schedule(flow=flow, order=order, plan=plan))


def points_expiring_notify(
    *, customer: Customer, member: Member, points: int, expires_at: datetime, lot_id: int
) -> int:
    """The reminder of points about to expire, about the first lot it covers."""
    flow = _flow(customer.shop_id, TRIGGER_POINTS_EXPIRING, POINTS_EXPIRING)
    if flow is None:
        return 0
    context = {
        "shop_name": customer.shop.name,
        "customer_first_name": customer.first_name,
        "points": points,
        "available": max(member.available, 0),
        "expires_on": delivery_date_text(expires_at.date(), customer=customer, shop=customer.shop),
    }
    plan = MessagePlan(about=("lot", lot_id), due=timezone.now() + flow.delay, context=context)
    recipient = Order(shop_id=customer.shop_id, customer=customer)
    return len(flow_schedule(flow=flow, order=recipient, plan=plan))
