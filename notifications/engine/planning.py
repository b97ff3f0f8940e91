"""What a flow's message says and when it is due, and scheduling it on the channels the
customer can receive. Shared by the event-driven flows and the periodic ones."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notifications.engine.quiet_hours import RecipientPlace
from notifications.engine.recipients import recipients_for
from notifications.engine.scheduling import MessageRequest, message_schedule
from notifications.models import Flow, Message
from orders.links import tracking_page_url
from orders.models import Customer, LineItem, Order, Purpose, Shipment, ShipmentItem


@dataclass(frozen=True)
class Plan:
    """One message a flow owes: what it is about, when it is due, and what it says."""

    about: tuple[str, int]
    due: datetime
    context: dict[str, Any]


def order_context(order: Order) -> dict[str, Any]:
    """The plain values order templates may use, and nothing else."""
    customer = order.customer
    return {
        "shop_name": order.shop.name,
        "order_number": order.number,
        "customer_first_name": customer.first_name if customer else "",
        "items": [
            {
                "quantity": line.quantity,
                "title": line.title,
                "variant_title": line.variant_title,
                "total": str(line.line_total),
            }
            for line in order.line_items.all()
        ],
        "total": str(order.total),
        "currency": order.currency,
        "tracking_url": tracking_page_url(order),
    }


def shipment_context(shipment: Shipment) -> dict[str, Any]:
    return {
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "carrier_tracking_url": shipment.tracking_url,
        "estimated_delivery_date": (
            shipment.estimated_delivery_date.isoformat() if shipment.estimated_delivery_date else ""
        ),
        "shipment_status": shipment.get_status_display(),
    }


def shipment_line_items(shipment: Shipment) -> list[LineItem]:
    """The order lines travelling in this parcel. A shipment without an item list carries
    every line no other shipment lists (as `order_deliver_if_complete` reads it too)."""
    listed = ShipmentItem.objects.filter(shipment=shipment).select_related("line_item__product")
    lines = [item.line_item for item in listed]
    if lines:
        return lines
    elsewhere = ShipmentItem.objects.filter(shipment__order_id=shipment.order_id).values(
        "line_item_id"
    )
    return list(
        LineItem.objects.filter(order_id=shipment.order_id, requires_shipping=True)
        .exclude(pk__in=elsewhere)
        .select_related("product")
        .order_by("pk")
    )


def customer_as_recipient(customer: Customer) -> Order:
    """An unsaved order carrying only the customer, for messages about the customer rather
    than one of their orders (birthdays): `recipients_for` reads contact data from an order
    and falls back to the customer's own."""
    return Order(shop_id=customer.shop_id, customer=customer)


def flow_schedule(*, flow: Flow, order: Order, plan: Plan) -> list[Message]:
    """Schedule the planned message on every channel of the flow the customer can receive.
    `order` may be unsaved (see `customer_as_recipient`): the message is then about no order.

    Nothing that sells (a review request, a reminder to buy again) is scheduled about an order
    whose payment was voided or fully refunded; the send checks that again, as the payment may
    be reversed after scheduling (`sending._moot_reason`)."""
    if flow.purpose == Purpose.MARKETING and order.is_payment_reversed:
        return []
    scheduled = []
    recipients = recipients_for(order, flow.channels, purpose=flow.purpose)
    # Read once for all channels, from objects already loaded: saves a query per message.
    place = RecipientPlace.for_order(order) if recipients else None
    for channel, recipient in recipients:
        message, _ = message_schedule(
            request=MessageRequest(
                shop_id=flow.shop_id,
                customer_id=order.customer_id,
                order_id=order.pk,
                kind=flow.kind,
                channel=channel,
                purpose=flow.purpose,
                recipient=recipient,
                about_type=plan.about[0],
                about_id=plan.about[1],
                send_at=plan.due,
                expires_at=plan.due + flow.useful_for if flow.useful_for else None,
                context=plan.context,
                place=place,
            )
        )
        scheduled.append(message)
    return scheduled
