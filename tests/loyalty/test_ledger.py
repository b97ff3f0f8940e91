"""The ledger's core: append-only in the database, idempotent, never overspent under
concurrency, lots used soonest-expiring first, and a balance that is always the sum."""

import threading
from datetime import timedelta

import pytest
from django.db import InternalError, connection, transaction
from django.utils import timezone

from loyalty.ledger import (
    Booking,
    NotEnoughPoints,
    balances_summed,
    entry_book,
    member_for,
    points_reserve,
)
from loyalty.models import EntryKind, LedgerEntry, Member, PointLot, Programme, Subject
from tests.factories import CustomerFactory, ShopFactory

pytestmark = pytest.mark.django_db


def _credit(member: Member, points: int, key: str, **extra) -> LedgerEntry:
    booking = Booking(
        kind=EntryKind.ADJUST, key=key, subject=Subject.STAFF, available=points, **extra
    )
    return entry_book(member.pk, booking).entry


def _debit(member: Member, points: int, key: str, **extra) -> LedgerEntry:
    booking = Booking(
        kind=EntryKind.REDEEM, key=key, subject=Subject.REDEMPTION, available=-points, **extra
    )
    return entry_book(member.pk, booking).entry


@pytest.fixture
def member():
    return member_for(CustomerFactory(shop=ShopFactory()))


def test_the_database_refuses_to_change_or_delete_an_entry(member):
    entry = _credit(member, 100, "k1")
    with pytest.raises(InternalError, match="Cannot update or delete"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(available_delta=1000)
    with (
        pytest.raises(InternalError, match="Cannot update or delete"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM loyalty_ledgerentry WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert entry.available_delta == 100


def test_a_booking_repeated_under_its_key_books_once(member):
    first = entry_book(member.pk, Booking(EntryKind.ADJUST, "same", Subject.STAFF, available=50))
    again = entry_book(member.pk, Booking(EntryKind.ADJUST, "same", Subject.STAFF, available=50))
    member.refresh_from_db()
    assert first.created
    assert not again.created
    assert again.entry.pk == first.entry.pk
    assert member.available == 50
    assert LedgerEntry.objects.filter(member=member).count() == 1


def test_a_debit_beyond_the_spendable_points_is_refused_and_changes_nothing(member):
    _credit(member, 100, "k1")
    points_reserve(member.pk, 30)
    with pytest.raises(NotEnoughPoints) as refused:
        _debit(member, 80, "k2")
    member.refresh_from_db()
    assert refused.value.spendable == 70
    assert (member.available, member.reserved) == (100, 30)
    assert LedgerEntry.objects.filter(member=member).count() == 1


def test_debits_use_the_soonest_expiring_lots_first(member):
    Programme.objects.create(shop_id=member.shop_id, expiry_months=12)
    now = timezone.now()
    late = _credit(member, 100, "late", at=now)
    early = _credit(member, 100, "early", at=now - timedelta(days=200))
    _debit(member, 150, "spend")
    assert PointLot.objects.get(entry=early).remaining == 0
    assert PointLot.objects.get(entry=late).remaining == 50
    assert PointLot.objects.get(entry=late).expires_at.date() == (now + timedelta(days=365)).date()


def test_points_that_pay_back_a_negative_balance_open_no_spendable_lot(member):
    _credit(member, 100, "k1")
    clawback = Booking(
        EntryKind.CLAWBACK, "claw", Subject.RETURN_ITEM, available=-160, may_overdraw=True
    )
    entry_book(member.pk, clawback)
    member.refresh_from_db()
    assert member.available == -60
    repay = _credit(member, 100, "k2")
    member.refresh_from_db()
    assert member.available == 40
    assert PointLot.objects.get(entry=repay).remaining == 40
    assert sum(PointLot.objects.filter(member=member).values_list("remaining", flat=True)) == 40


def test_the_balance_row_is_always_the_sum_of_the_entries(member):
    entry_book(member.pk, Booking(EntryKind.EARN, "e", Subject.ORDER_LINE, pending=120))
    entry_book(
        member.pk, Booking(EntryKind.CONFIRM, "c", Subject.ORDER_LINE, pending=-120, available=120)
    )
    _debit(member, 20, "d")
    member.refresh_from_db()
    assert balances_summed([member.pk]) == {member.pk: (member.available, member.pending)}
    assert (member.available, member.pending, member.lifetime_earned) == (100, 0, 120)


def test_pending_points_cannot_go_below_zero(member):
    with pytest.raises(ValueError, match="pending"):
        entry_book(member.pk, Booking(EntryKind.CLAWBACK, "x", Subject.ORDER_LINE, pending=-1))
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_debits_racing_for_the_same_points_one_wins_and_the_balance_never_goes_negative():
    member = member_for(CustomerFactory(shop=ShopFactory()))
    _credit(member, 100, "k1")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def spend(key: str) -> None:
        barrier.wait()
        try:
            _debit(member, 80, key)
            outcomes.append("booked")
        except NotEnoughPoints:
            outcomes.append("not enough points")
        finally:
            connection.close()

    threads = [threading.Thread(target=spend, args=(key,)) for key in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    member.refresh_from_db()
    assert sorted(outcomes) == ["booked", "not enough points"]
    assert member.available == 20


def test_a_granted_reward_is_issued_once_per_key_with_a_typeable_code(member):
    from loyalty.models import RedemptionSource, Reward, RewardKind
    from loyalty.rewards.codes import reward_grant

    reward = Reward.objects.create(
        shop_id=member.shop_id, name="Free shipping", kind=RewardKind.FREE_SHIPPING, points_price=0
    )
    first = reward_grant(
        customer=member.customer, reward=reward, source=RedemptionSource.BIRTHDAY, key="bday:2026"
    )
    again = reward_grant(
        customer=member.customer, reward=reward, source=RedemptionSource.BIRTHDAY, key="bday:2026"
    )
    assert again.pk == first.pk
    assert first.status == "issued"
    assert first.points == 0
    assert first.code.startswith("RW-")
    assert len(first.code) == 15
    assert not set(first.code[3:]) & set("01OIL")
