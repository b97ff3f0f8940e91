"""Who may receive a flow's message, and on which channels."""

from notifications.engine.compliance import consent_map, consent_refusal
from orders.models import Channel, Order, Purpose


def recipients_for(
    order: Order, channels: list[str], *, purpose: str = Purpose.TRANSACTIONAL
) -> list[tuple[str, str]]:
    """(channel, address) pairs a flow of this purpose may use for this order's customer, in the
    flow's order. A channel needs an address and the customer's consent for it and for the
    purpose (see `compliance.consent_refusal`); when no channel of the flow is possible, email
    is the fallback, if consent allows it. One query for the customer's consents (none when
    they were prefetched)."""
    customer = order.customer
    phone = order.phone or (customer.phone if customer else "")
    email = order.email or (customer.email if customer else "")
    consents = consent_map(customer.consents.all()) if customer else {}

    def allowed(channel: str) -> bool:
        return not consent_refusal(consents, channel=channel, purpose=purpose)

    chosen = []
    for channel in channels:
        address = email if channel == Channel.EMAIL else phone
        if channel in Channel.values and address and allowed(channel):
            chosen.append((channel, address))
    if not chosen and email and allowed(Channel.EMAIL):
        chosen.append((Channel.EMAIL.value, email))
    return chosen
