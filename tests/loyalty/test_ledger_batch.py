"""Several entries for one member booked together leave what booking them one by one leaves:
the same entries, balance, lots and lifetime totals, each key booked once."""

import pytest
from django.db import IntegrityError, transaction

from loyalty.ledger import Booking, entries_book, entries_book_new, entry_book, member_for
from loyalty.models import EntryKind, LedgerEntry, Member, PointLot, Programme, Subject
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


def _two_members() -> tuple[Member, Member]:
    """Members of two shops whose programmes' points expire after a year."""
    members = []
    for _ in range(2):
        shop = ShopFactory()
        Programme.objects.create(shop=shop, expiry_months=12)
        members.append(member_for(CustomerFactory(shop=shop)))
    return members[0], members[1]


def test_booked_together_equals_booked_one_by_one():
    together, apart = _two_members()

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


def _book_new(member_id: int, bookings: list[Booking]) -> tuple[Member, list[LedgerEntry]]:
    """As a caller does: its transaction, the member's row locked in it, then the credits."""
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member_id)
        return locked, entries_book_new(locked, bookings)


def test_credits_about_a_new_object_book_like_the_batch_on_the_row_locked_by_the_caller():
    fresh, batch = _two_members()

    locked, entries = _book_new(fresh.pk, _bookings())
    entries_book(batch.pk, _bookings())

    assert _state(fresh.pk) == _state(batch.pk)
    assert [e.pk for e in entries] == list(
        LedgerEntry.objects.filter(member=fresh).order_by("id").values_list("pk", flat=True)
    )
    assert (locked.available, locked.pending) == (55, 65)


def test_a_key_booked_already_fails_at_the_database_and_books_nothing():
    member = member_for(CustomerFactory(shop=ShopFactory()))
    entries_book(member.pk, _bookings()[:1])

    with pytest.raises(IntegrityError):
        _book_new(member.pk, _bookings()[:2])

    member.refresh_from_db()
    assert (member.available, member.pending) == (0, 40)
    assert LedgerEntry.objects.filter(member=member).count() == 1


def test_only_credits_are_booked_without_a_look_up():
    member = member_for(CustomerFactory(shop=ShopFactory()))
    debit = Booking(EntryKind.ADJUST, "adjust:b", Subject.STAFF, available=-5)
    with pytest.raises(ValueError, match="only credits"):
        _book_new(member.pk, [debit])
