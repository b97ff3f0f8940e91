"""Several entries for one member booked together leave what booking them one by one leaves:
the same entries, balance, lots and lifetime totals, each key booked once."""

import pytest

from loyalty.ledger import Booking, entries_book, entry_book, member_for
from loyalty.models import EntryKind, LedgerEntry, PointLot, Programme, Subject
from tests.factories import CustomerFactory, ShopFactory

pytestmark = pytest.mark.django_db


def _bookings() -> list[Booking]:
    return [
        Booking(EntryKind.EARN, "earn:line:1", Subject.ORDER_LINE, subject_id=1, pending=40),
        Booking(EntryKind.EARN, "earn:line:2", Subject.ORDER_LINE, subject_id=2, pending=25),
        Booking(EntryKind.EARN, "review:7", Subject.REVIEW, subject_id=7, available=50),
        Booking(EntryKind.ADJUST, "adjust:a", Subject.STAFF, available=5, reason="goodwill"),
    ]


def _state(member_id: int) -> tuple:
    entries = list(
        LedgerEntry.objects.filter(member_id=member_id)
        .order_by("id")
        .values_list(
            "kind", "available_delta", "pending_delta", "available_after", "pending_after", "reason"
        )
    )
    lots = [
        (lot.points, lot.remaining, lot.expires_at is None)
        for lot in PointLot.objects.filter(member_id=member_id).order_by("id")
    ]
    member = LedgerEntry.objects.filter(member_id=member_id).first().member
    member.refresh_from_db()
    balance = (member.available, member.pending, member.lifetime_earned)
    return entries, lots, balance


def test_booked_together_equals_booked_one_by_one():
    shop = ShopFactory()
    Programme.objects.create(shop=shop, expiry_months=12)
    together = member_for(CustomerFactory(shop=shop))
    apart = member_for(CustomerFactory(shop=ShopFactory()))
    Programme.objects.create(shop=apart.shop, expiry_months=12)

    booked = entries_book(together.pk, _bookings())
    for booking in _bookings():
        entry_book(apart.pk, booking)

    assert [b.created for b in booked] == [True] * 4
    assert _state(together.pk) == _state(apart.pk)
    _entries, lots, balance = _state(together.pk)
    assert balance == (55, 65, 50)  # a staff adjustment is not earned
    assert lots == [(50, 50, False), (5, 5, False)]


def test_a_batch_repeated_books_nothing_twice():
    member = member_for(CustomerFactory(shop=ShopFactory()))
    entries_book(member.pk, _bookings()[:2])

    again = entries_book(member.pk, _bookings())

    assert [b.created for b in again] == [False, False, True, True]
    assert LedgerEntry.objects.filter(member=member).count() == 4
    member.refresh_from_db()
    assert (member.available, member.pending) == (55, 65)


def test_a_batch_that_cannot_be_booked_books_none_of_it():
    member = member_for(CustomerFactory(shop=ShopFactory()))
    bookings = [
        *_bookings()[:2],
        Booking(EntryKind.CLAWBACK, "void:line:9", Subject.ORDER, pending=-500),
    ]

    with pytest.raises(ValueError, match="pending"):
        entries_book(member.pk, bookings)

    assert not LedgerEntry.objects.filter(member=member).exists()
    member.refresh_from_db()
    assert (member.available, member.pending) == (0, 0)
