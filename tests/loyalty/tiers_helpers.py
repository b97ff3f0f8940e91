"""Shared steps of the tier and referral tests: paid orders as Shopify reports them, the domain
events delivered, and the loyalty tasks they enqueue run here (no worker)."""

from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from orders.models import Customer, Order, Shop
from orders.services import order_ingest
from orders.services.data import AddressData, CustomerData, LineItemData, OrderData, RefundData
from postpurchase.events import domain_event_deliver
from postpurchase.models import DomainEvent
from postpurchase.queue import Enqueue


def order_data(
    customer: Customer,
    external_id: str,
    total: str,
    *,
    paid_at: datetime | None = None,
    financial_status: str = "paid",
    refunds: tuple[RefundData, ...] = (),
    cancelled_at: datetime | None = None,
    address: AddressData | None = None,
    email: str | None = None,
    name: str = "",
) -> OrderData:
    paid_at = paid_at or timezone.now()
    return OrderData(
        external_id=external_id,
        number=f"#{external_id}",
        placed_at=paid_at,
        currency="USD",
        total=Decimal(total),
        subtotal=Decimal(total),
        line_items=(
            LineItemData(
                external_id=f"{external_id}-1", title="Tea", quantity=1, unit_price=Decimal(total)
            ),
        ),
        source="shopify",
        customer=CustomerData(external_id=customer.external_id, email=customer.email),
        email=customer.email if email is None else email,
        shipping_address=address or AddressData(name=name or customer.full_name),
        is_paid=financial_status in ("paid", "partially_refunded", "refunded"),
        paid_at=paid_at,
        financial_status=financial_status,
        refunds=refunds,
        cancelled_at=cancelled_at,
    )


def ingest(shop: Shop, data: OrderData) -> Order:
    return order_ingest(shop=shop, data=data).order


def run_loyalty_tasks(callbacks: list, capture) -> list[str]:
    """Run the loyalty tasks among `callbacks` here, and those they enqueue in turn; returns
    their names in order."""
    ran: list[str] = []
    todo = [c for c in callbacks if isinstance(c, Enqueue) and c.name.startswith("loyalty.")]
    while todo:
        enqueue = todo.pop(0)
        with capture(execute=False) as more:
            enqueue.task.run(*enqueue.args, **enqueue.kwargs)
        ran.append(enqueue.name)
        todo += [c for c in more if isinstance(c, Enqueue) and c.name.startswith("loyalty.")]
    return ran


def deliver_events(capture) -> list[str]:
    """Deliver every domain event not yet delivered, then run the loyalty tasks they set going."""
    with capture(execute=False) as callbacks:
        for event_id in (
            DomainEvent.objects.filter(is_fully_delivered=False)
            .order_by("pk")
            .values_list("pk", flat=True)
        ):
            domain_event_deliver(event_id=event_id)
    return run_loyalty_tasks(callbacks, capture)
