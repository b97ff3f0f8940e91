"""Points adjusted through the API: one ADJUST entry, booked once per key."""

from loyalty.ledger import Booked, Booking, entry_book, member_for
from loyalty.models import EntryKind, Subject
from orders.models import ApiKey, Customer

REASON_MAX_LENGTH = 300


def points_adjust(
    *, customer: Customer, points: int, reason: str, key: str, api_key: ApiKey
) -> Booked:
    """Add (positive) or take (negative) `points` of the customer's available balance, with the
    reason the caller gave and the API key that asked (a key has no person behind it, so the
    entry names the key as its author). Raises NotEnoughPoints for a debit beyond the spendable
    points (nothing is booked). The same `key` books once and returns the first entry."""
    if points == 0:
        raise ValueError("an adjustment must move points")
    if not reason.strip():
        raise ValueError("an adjustment needs a reason")
    member = member_for(customer)
    booking = Booking(
        kind=EntryKind.ADJUST,
        key=f"adjust:{key}",
        subject=Subject.STAFF,
        available=points,
        reason=reason.strip()[:REASON_MAX_LENGTH],
        api_key_id=api_key.pk,
    )
    return entry_book(member.pk, booking)
