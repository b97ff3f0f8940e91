"""Who may receive a flow's message, and on which channels."""

from orders.models import Channel, ConsentStatus, Order


def _has_consent(order: Order, channel: str) -> bool:
    customer = order.customer
    return bool(
        customer
        and customer.consents.filter(channel=channel, status=ConsentStatus.GRANTED).exists()
    )


def recipients_for(order: Order, channels: list[str]) -> list[tuple[str, str]]:
    """(channel, address) pairs the flow may use for this order's customer, in the flow's
    order. Text messages need a phone and the customer's consent for that channel; when no
    channel of the flow is possible, email is the fallback."""
    phone = order.phone or (order.customer.phone if order.customer else "")
    email = order.email or (order.customer.email if order.customer else "")
    chosen = []
    for channel in channels:
        if channel == Channel.EMAIL and email:
            chosen.append((channel, email))
        elif channel in (Channel.SMS, Channel.WHATSAPP) and phone and _has_consent(order, channel):
            chosen.append((channel, phone))
    if not chosen and email:
        chosen.append((Channel.EMAIL.value, email))
    return chosen
