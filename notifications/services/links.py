"""Links a customer follows from a message without logging in, and the email headers that
carry them."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from notifications.models import Message
from orders.models import Purpose

_PREFERENCES_SALT = "notifications.preferences"


def preferences_token(customer_id: int) -> str:
    """A token naming the customer, signed with SECRET_KEY (HMAC-SHA256): it cannot be guessed
    or altered, and the preferences page needs nothing else to know whose settings to show."""
    return signing.dumps(customer_id, salt=_PREFERENCES_SALT, compress=False)


def customer_id_from_preferences_token(token: str) -> int | None:
    """The customer a token names, or None when it was not made here."""
    try:
        value = signing.loads(token, salt=_PREFERENCES_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def preferences_url(customer_id: int) -> str:
    path = reverse("preferences", args=[preferences_token(customer_id)])
    return f"{settings.PUBLIC_BASE_URL}{path}"


def email_headers(message: Message) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe on every non-transactional email: mailbox providers show
    an "Unsubscribe" button that POSTs to the URL, and the 2024 bulk-sender rules require it."""
    if message.purpose == Purpose.TRANSACTIONAL or not message.customer_id:
        return {}
    return {
        "List-Unsubscribe": f"<{preferences_url(message.customer_id)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
