"""Links a customer follows without logging in: to their order's tracking page and to their
message preferences. Every app that writes to a customer builds its links here."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from orders.models import Order

# The salt predates this module (the preferences page came first); changing it would break
# every link already sent.
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


def preferences_path(customer_id: int) -> str:
    return reverse("preferences", args=[preferences_token(customer_id)])


def preferences_url(customer_id: int) -> str:
    return f"{settings.PUBLIC_BASE_URL}{preferences_path(customer_id)}"


def tracking_page_path(order: Order) -> str:
    return reverse("tracking:page", args=[order.tracking_token])


def tracking_page_url(order: Order) -> str:
    return f"{settings.PUBLIC_BASE_URL}{tracking_page_path(order)}"
