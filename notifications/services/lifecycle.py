"""What the order's domain events mean for the customer's messages."""

from typing import Any

from django.conf import settings
from django.utils import timezone

from notifications.flows import flows_for
from notifications.models import Flow, Message
from notifications.services.recipients import recipients_for
from notifications.services.scheduling import MessageRequest, message_schedule, messages_cancel
from orders.events import Event
from orders.models import Order, Shipment


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
        "tracking_url": f"{settings.PUBLIC_BASE_URL}/track/",
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


def _schedule_flow(
    order: Order, flow: Flow, about: tuple[str, int], context: dict[str, Any]
) -> list[Message]:
    due = timezone.now() + flow.delay
    scheduled = []
    for channel, recipient in recipients_for(order, flow.channels):
        message, _ = message_schedule(
            request=MessageRequest(
                shop_id=order.shop_id,
                customer_id=order.customer_id,
                order_id=order.pk,
                kind=flow.kind,
                channel=channel,
                purpose=flow.purpose,
                recipient=recipient,
                about_type=about[0],
                about_id=about[1],
                send_at=due,
                expires_at=due + flow.useful_for if flow.useful_for else None,
                context=context,
            )
        )
        scheduled.append(message)
    return scheduled


def event_schedule_messages(event: Event) -> list[Message]:
    """Schedule what every enabled flow this order or shipment event starts owes the customer.
    A shipment event's messages are about the shipment, so a split order gets one per parcel."""
    flows = flows_for(shop_id=event.shop_id, trigger=event.name, payload=event.payload)
    if not flows:
        return []
    order = (
        Order.objects.select_related("shop", "customer")
        .prefetch_related("line_items")
        .get(pk=event.payload["order_id"])
    )
    context = order_context(order)
    about: tuple[str, int] = ("order", order.pk)
    shipment_id = event.payload.get("shipment_id")
    if shipment_id:
        shipment = Shipment.objects.get(pk=shipment_id, order=order)
        context |= shipment_context(shipment)
        about = ("shipment", shipment.pk)
    return [m for flow in flows for m in _schedule_flow(order, flow, about, context)]


def order_cancelled_cancel_messages(event: Event) -> int:
    return messages_cancel(order_id=event.payload["order_id"], reason="the order was cancelled")
