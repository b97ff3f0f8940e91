"""Links a customer follows from a message without logging in, and the email headers that
carry them."""

from notifications.models import Message
from orders.links import (
    customer_id_from_preferences_token,
    preferences_token,
    preferences_url,
    tracking_page_url,
)
from orders.models import Purpose

__all__ = [
    "customer_id_from_preferences_token",
    "email_headers",
    "preferences_token",
    "preferences_url",
    "tracking_page_url",
]


def email_headers(message: Message) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe on every non-transactional email: mailbox providers show
    an "Unsubscribe" button that POSTs to the URL, and the 2024 bulk-sender rules require it."""
    if message.purpose == Purpose.TRANSACTIONAL or not message.customer_id:
        return {}
    return {
        "List-Unsubscribe": f"<{preferences_url(message.customer_id)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
