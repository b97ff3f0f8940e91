"""The customer's key to their loyalty page (`/loyalty/<token>/`): the customer's id signed
with SECRET_KEY (HMAC-SHA256) under a salt of its own, so it cannot be guessed, altered or used
as another page's token, and needs no login and no row. It stops working 365 days after it was
made: every loyalty message carries a fresh one, and a year bounds how long a forwarded link
keeps showing someone's balance and codes."""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from orders.models import Customer

# Changing it invalidates every link already sent.
_SALT = "loyalty.customer"
VALID_FOR = timedelta(days=365)


def loyalty_token(customer: Customer) -> str:
    return signing.dumps(customer.pk, salt=_SALT, compress=False)


def customer_id_from_loyalty_token(token: str) -> int | None:
    """The customer the token names, or None when it was tampered with, made up or is older
    than `VALID_FOR`. The caller still checks the shop runs a programme."""
    try:
        value = signing.loads(token, salt=_SALT, max_age=VALID_FOR)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    return value if isinstance(value, int) else None


def loyalty_path(customer: Customer) -> str:
    return reverse("loyalty:page", args=[loyalty_token(customer)])


def loyalty_url(customer: Customer) -> str:
    """The absolute link a message carries to the customer's loyalty page."""
    return f"{settings.PUBLIC_BASE_URL}{loyalty_path(customer)}"
