"""The customer's key to their order's feedback pages (`/feedback/<token>/` for the survey,
`/feedback/<token>/review/` for the reviews): the order's id signed with SECRET_KEY and a
timestamp, so it cannot be guessed or enumerated, needs no login and no row, and stops working
180 days after it was made (the issue's promise to customers, and a bound on replays)."""

from datetime import timedelta

from django.conf import settings
from django.core import signing

from orders.models import Order

# Changing it invalidates every link already sent.
_SALT = "feedback.order"
VALID_FOR = timedelta(days=180)


def order_token(order: Order) -> str:
    return signing.dumps(order.pk, salt=_SALT, compress=False)


def order_id_from_token(token: str) -> int | None:
    """The order the token names, or None when it was tampered with, made up or is older than
    `VALID_FOR`. The caller still scopes the lookup to what the page may show."""
    try:
        value = signing.loads(token, salt=_SALT, max_age=VALID_FOR)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    return value if isinstance(value, int) else None


def feedback_url(order: Order, page: str = "") -> str:
    """The absolute link a message carries: the survey (`page=""`) or `"review/"`."""
    return f"{settings.PUBLIC_BASE_URL}/feedback/{order_token(order)}/{page}"
