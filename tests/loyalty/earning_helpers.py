"""Orders paid, delivered and returned through the real services, and the domain events they
publish delivered to their subscribers as the worker would (`domain_event_deliver`)."""

from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from loyalty.models import LedgerEntry, Member
from orders.models import Order, OrderStatus
from orders.services.orders import order_mark_paid
from orders.services.shipments import shipment_transition
from postpurchase.events import domain_event_deliver
from postpurchase.models import DomainEvent
from tests.factories import LineItemFactory, OrderFactory, ShipmentFactory


def events_deliver() -> int:
    """Deliver every event still owed to a subscriber, and those their handlers publish."""
    delivered = 0
    while True:
        owed = list(
            DomainEvent.objects.filter(is_fully_delivered=False)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not owed:
            return delivered
        for event_id in owed:
            domain_event_deliver(event_id=event_id)
            delivered += 1


def order_with_lines(shop, customer, *lines: tuple[str, int], **fields) -> Order:
    """An order of `lines` ((price per unit, quantity), …), shipped, not yet paid."""
    fields.setdefault("status", OrderStatus.SHIPPED)
    fields.setdefault("shipping_total", Decimal("0.00"))
    order = OrderFactory(shop=shop, customer=customer, **fields)
    for price, quantity in lines:
        LineItemFactory(order=order, unit_price=Decimal(price), quantity=quantity)
    return order


def paid(order: Order) -> Order:
    order_mark_paid(order=order)
    events_deliver()
    return order


def delivered(order: Order, at: datetime | None = None) -> Order:
    shipment = ShipmentFactory(order=order, status="in_transit")
    shipment_transition(shipment=shipment, to="delivered", at=at or timezone.now())
    events_deliver()
    order.refresh_from_db()
    return order


def balance(member_or_customer) -> tuple[int, int]:
    """(available, pending) of the member."""
    if isinstance(member_or_customer, Member):
        member = member_or_customer
    else:
        member = Member.objects.get(customer=member_or_customer)
    member.refresh_from_db()
    return member.available, member.pending


def entries(customer, **filters) -> list[tuple[str, int, int, str]]:
    """(kind, available, pending, key) of the customer's entries, oldest first."""
    return list(
        LedgerEntry.objects.filter(member__customer=customer, **filters)
        .order_by("created_at", "pk")
        .values_list("kind", "available_delta", "pending_delta", "idempotency_key")
    )
