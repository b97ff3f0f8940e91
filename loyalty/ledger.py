"""Booking points: the writer of ledger entries, of members' balances and of lots (all but a
paid order's pending points, which `loyalty.earning.ingest_sql` writes in one statement with
the order's earning).

Every booking locks the member's row first (`SELECT … FOR UPDATE`), so two bookings for one
member run one after the other and each sees the other's result: a balance can never be spent
twice, and two redemptions racing for the same points get one code and one "not enough points".
The entry, the balance and the lots change in one transaction; the entry's idempotency key is
unique per shop, so a booking repeated (a webhook delivered again, a task run twice) returns the
first entry and changes nothing."""

import calendar
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from loyalty.models import (
    TIER_POINTS_KINDS,
    EntryKind,
    LedgerEntry,
    Member,
    PointLot,
    Programme,
    Subject,
    TierBasis,
)
from orders.models import Customer
from postpurchase.queue import enqueue_on_commit

# Letters and digits that cannot be misread for one another (no 0/O, 1/I/L).
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class NotEnoughPoints(Exception):
    """A debit larger than the member's spendable points (available - reserved)."""

    def __init__(self, wanted: int, spendable: int) -> None:
        super().__init__(f"not enough points: {wanted} wanted, {spendable} spendable")
        self.wanted = wanted
        self.spendable = spendable


@dataclass(frozen=True)
class Booking:
    """What to book: points into (positive) or out of (negative) each bucket, and why."""

    kind: EntryKind
    key: str
    subject: Subject
    subject_id: int | None = None
    available: int = 0
    pending: int = 0
    order_id: int | None = None
    reason: str = ""
    actor_id: int | None = None
    api_key_id: int | None = None
    tier_name: str = ""
    multiplier: Decimal | None = None
    # Points held by `Member.reserved` that this booking spends (a redemption's code created).
    release_reserved: int = 0
    # A clawback under the "repay" policy may take the balance below zero; nothing else may.
    may_overdraw: bool = False
    written_off: int = 0
    # Debit this lot first (expiry names the lot it expires).
    lot_id: int | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class Booked:
    entry: LedgerEntry
    created: bool


def referral_code_new() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


def member_for(customer: Customer) -> Member:
    """The customer's membership, created on first need (earning, a birthday, a page view)."""
    member = Member.objects.filter(customer=customer).first()
    if member is not None:
        return member
    for _attempt in range(5):
        try:
            with transaction.atomic():
                member, created = Member.objects.get_or_create(
                    customer=customer,
                    defaults={"shop_id": customer.shop_id, "referral_code": referral_code_new()},
                )
                if created:
                    # New members join the shop's lowest tier (or the one their history
                    # already reaches), with the move on record.
                    from loyalty.tiers.services import member_tier_join

                    member_tier_join(member)
                return member
        except IntegrityError:  # the referral code was taken (1 in 10^12): draw again
            continue
    raise RuntimeError("could not draw a free referral code")


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later, kept on the month's last day when it has fewer days."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _credit_terms(shop_id: int) -> tuple[int | None, bool]:
    """What a credit needs of the programme, in one read: its lot's expiry in months (None:
    never) and whether tiers count points (then an earning may move the member up)."""
    terms = (
        Programme.objects.filter(shop_id=shop_id).values_list("expiry_months", "tier_basis").first()
    )
    return (terms[0], terms[1] == TierBasis.POINTS) if terms else (None, False)


def _tier_follows(member: Member, entry: LedgerEntry) -> None:
    """Points earned at once (a review, a birthday, an anniversary, a referral) count for a
    points-based tier: recompute it after the commit, so the member moves up at once. Pending
    points come from orders, whose events recompute already; a spend-based programme never
    gets here."""
    if entry.kind in TIER_POINTS_KINDS:
        enqueue_on_commit(
            "loyalty.tasks.customer_tier_recompute_task", member.shop_id, member.customer_id
        )


def _debit_lots(member: Member, points: int, first_lot_id: int | None) -> None:
    """Use `points` from the member's open lots, `first_lot_id` first, then soonest-expiring
    (lots that never expire last)."""
    lots = PointLot.objects.filter(member=member, remaining__gt=0).order_by(
        F("expires_at").asc(nulls_last=True), "available_at", "id"
    )
    ordered = list(lots)
    if first_lot_id is not None:
        ordered.sort(key=lambda lot: lot.pk != first_lot_id)
    for lot in ordered:
        if points <= 0:
            break
        used = min(points, lot.remaining)
        lot.remaining -= used
        lot.save(update_fields=["remaining"])
        points -= used


def _validated(member: Member, booking: Booking) -> int:
    """The member's reserved points after `booking`; raises as `entry_book` documents."""
    if booking.available == 0 and booking.pending == 0:
        raise ValueError("a booking must move points")
    if member.pending + booking.pending < 0:
        raise ValueError(f"only {member.pending} points are pending")
    if booking.release_reserved > member.reserved:
        raise ValueError(f"only {member.reserved} points are reserved")
    reserved = member.reserved - booking.release_reserved
    if booking.available < 0 and not booking.may_overdraw:
        spendable = max(member.available - reserved, 0)
        if -booking.available > spendable:
            raise NotEnoughPoints(-booking.available, spendable)
    return reserved


def _applied(member: Member, booking: Booking) -> LedgerEntry:
    """Move the booking's points on the locked member row (in memory) and return its entry,
    not yet saved. Raises as `entry_book` documents."""
    member.reserved = _validated(member, booking)
    member.available += booking.available
    member.pending += booking.pending
    if booking.available > 0 and booking.kind in (EntryKind.EARN, EntryKind.CONFIRM):
        member.lifetime_earned += booking.available
    elif booking.kind == EntryKind.REDEEM:
        member.lifetime_redeemed += -booking.available
    elif booking.kind == EntryKind.RETURN:
        member.lifetime_redeemed = max(member.lifetime_redeemed - booking.available, 0)
    elif booking.kind == EntryKind.EXPIRE:
        member.lifetime_expired += -booking.available
    return LedgerEntry(
        shop_id=member.shop_id,
        member=member,
        kind=booking.kind,
        available_delta=booking.available,
        pending_delta=booking.pending,
        available_after=member.available,
        pending_after=member.pending,
        subject=booking.subject,
        subject_id=booking.subject_id,
        order_id=booking.order_id,
        reason=booking.reason,
        written_off=booking.written_off,
        tier_name=booking.tier_name,
        multiplier=booking.multiplier,
        actor_id=booking.actor_id,
        api_key_id=booking.api_key_id,
        idempotency_key=booking.key,
        created_at=booking.at or timezone.now(),
    )


def _lot(member: Member, entry: LedgerEntry, before: int, expires_at: datetime | None) -> PointLot:
    """The lot a credit opens; points that pay back a negative balance open no spendable lot."""
    debt = max(-before, 0)
    return PointLot(
        shop_id=member.shop_id,
        member=member,
        entry=entry,
        points=entry.available_delta,
        remaining=max(entry.available_delta - debt, 0),
        available_at=entry.created_at,
        expires_at=expires_at,
    )


_BALANCE_FIELDS = [
    "available",
    "pending",
    "reserved",
    "lifetime_earned",
    "lifetime_redeemed",
    "lifetime_expired",
    "updated_at",
]


def entry_book(member_id: int, booking: Booking) -> Booked:
    """Book one entry. Raises NotEnoughPoints for a debit the member cannot pay, ValueError
    for a booking that would take pending points below zero or release more than is held."""
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member_id)
        existing = LedgerEntry.objects.filter(
            shop_id=member.shop_id, idempotency_key=booking.key
        ).first()
        if existing is not None:
            return Booked(existing, created=False)
        before = member.available
        entry = _applied(member, booking)
        entry.save(force_insert=True)
        if booking.available > 0:
            months, points_tiers = _credit_terms(member.shop_id)
            expires_at = add_months(entry.created_at, months) if months else None
            _lot(member, entry, before, expires_at).save(force_insert=True)
            if points_tiers:
                _tier_follows(member, entry)
        elif booking.available < 0:
            _debit_lots(member, min(-booking.available, max(before, 0)), booking.lot_id)
        member.save(update_fields=_BALANCE_FIELDS)
        return Booked(entry, created=True)


def points_reserve(member_id: int, points: int) -> Member:
    """Hold `points` for a redemption whose code is being created. Raises NotEnoughPoints."""
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member_id)
        if points > member.spendable:
            raise NotEnoughPoints(points, member.spendable)
        member.reserved += points
        member.save(update_fields=["reserved", "updated_at"])
        return member


def points_release(member_id: int, points: int) -> Member:
    """Give back points held for a redemption whose code could not be created."""
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member_id)
        member.reserved = max(member.reserved - points, 0)
        member.save(update_fields=["reserved", "updated_at"])
        return member


def balances_summed(member_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(available, pending) per member as the sum of their entries: what the balance row must
    equal."""
    rows = (
        LedgerEntry.objects.filter(member_id__in=member_ids)
        .values("member_id")
        .annotate(available=Sum("available_delta"), pending=Sum("pending_delta"))
    )
    return {row["member_id"]: (row["available"] or 0, row["pending"] or 0) for row in rows}
