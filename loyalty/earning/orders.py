"""Points for what customers buy: booked pending per line when an order is paid, confirmed once
the return window after its delivery has closed, removed when the order is cancelled or its
payment voided or refunded, and taken back for each item returned with a refund or store
credit.

Every booking goes through `loyalty.ledger` under a stable key, so a redelivered event or a
sweep run twice books nothing twice (an order's points: its earning row, unique per order,
made in the same statement as its lines, says whether they were booked). Each entry about an
order carries its id: the order's pending points are the sum of those entries' pending parts,
so what confirmation moves is what is left after any clawback."""

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from loyalty.earning.ingest_sql import (
    EarningWrite,
    OrderRead,
    PendingEntry,
    earning_book,
    order_read_locked,
)
from loyalty.earning.notices import points_earned_notify
from loyalty.ledger import Booking, entry_book, member_for
from loyalty.models import (
    DebtPolicy,
    EarningStatus,
    EntryKind,
    LedgerEntry,
    LineEarning,
    Member,
    OrderEarning,
    Programme,
    Subject,
)
from loyalty.pages.cache import member_page_stale
from loyalty.referrals.services import referral_on_order_confirmed
from orders.models import Order

logger = logging.getLogger(__name__)

# What a return item's resolution must be for its points to be taken back: money or credit
# went back. An exchange keeps the sale (the customer still has a product of that value).
CLAWBACK_RESOLUTIONS = frozenset({"refund", "store_credit"})


def programme_active(shop_id: int) -> Programme | None:
    return Programme.objects.filter(shop_id=shop_id, is_active=True).first()


def points_for(amount: Decimal, points_per_unit: Decimal, multiplier: Decimal) -> int:
    """Whole points for an amount paid: rounded down once, after the multiplier (the
    dashboard's preview counts with this too)."""
    if amount <= 0:
        return 0
    raw = amount * points_per_unit * multiplier
    return int(raw.to_integral_value(rounding=ROUND_FLOOR))


def _order_pending(member_id: int, order_id: int) -> int:
    """The order's points still pending: what it earned less what was removed or taken back."""
    summed = LedgerEntry.objects.filter(member_id=member_id, order_id=order_id).aggregate(
        pending=Sum("pending_delta")
    )
    return summed["pending"] or 0


def _confirm_at(order: Order) -> datetime | None:
    if order.delivered_at is None:
        return None
    return order.delivered_at + timedelta(days=order.shop.return_window_days)


@dataclass(frozen=True)
class _Extra:
    """An order-level amount that earns only when the programme says so."""

    key: str
    amount: Decimal
    reason: str


def _extras(order: Order, programme: Programme) -> list[_Extra]:
    extras = []
    if programme.earn_on_shipping:
        extras.append(_Extra(f"earn:shipping:{order.pk}", order.shipping_total, "shipping"))
    if programme.earn_on_tax:
        extras.append(_Extra(f"earn:tax:{order.pk}", order.tax_total, "tax"))
    return extras


def _earnable(read: OrderRead) -> bool:
    programme = read.programme
    if programme is None or not programme.is_active:
        return False
    return not (read.order.is_cancelled or read.order.is_payment_reversed)


def _earning_write(read: OrderRead, programme: Programme, member: Member) -> EarningWrite:
    """The order's points per line (and for shipping and tax when the programme counts them)
    at the member's tier multiplier of this moment, as pending entries."""
    order, tier = read.order, member.tier
    multiplier = tier.earn_multiplier if tier else Decimal("1.00")
    reason = f"order {order.number}"
    now = timezone.now()
    lines = []
    entries = []
    for line in read.lines:
        points = points_for(line.line_total, programme.points_per_unit, multiplier)
        lines.append((line.pk, line.quantity, points))
        if points:
            at = timezone.now()
            key = f"earn:line:{line.pk}"
            entries.append(PendingEntry(key, points, Subject.ORDER_LINE, line.pk, reason, at))
    for extra in _extras(order, programme):
        points = points_for(extra.amount, programme.points_per_unit, multiplier)
        if points:
            at, why = timezone.now(), f"{reason}: {extra.reason}"
            entries.append(PendingEntry(extra.key, points, Subject.ORDER, order.pk, why, at))
    return EarningWrite(
        shop_id=order.shop_id,
        member_id=member.pk,
        order_id=order.pk,
        now=now,
        confirm_at=_confirm_at(order),
        lines=lines,
        entries=entries,
        available=member.available,
        pending_before=member.pending,
        tier_name=tier.name if tier else "",
        multiplier=multiplier,
    )


def order_points_earn(*, order_id: int) -> OrderEarning | None:
    """Book the paid order's points as pending, one entry per line (and for shipping and tax
    when the programme counts them), at the member's tier multiplier of this moment. Nothing
    for a shop without an active programme, an order without a customer, or one already
    cancelled or reversed. Idempotent.

    On the ingest path of every paid order, so it counts statements (`ingest_sql`, raw for
    that): in one transaction, the order read with everything its points need and the member
    locked (a new member joins first); the earning, its lines, the entries and the balance
    written in one statement (which says whether the order was booked already); the message
    (one INSERT per channel)."""
    with transaction.atomic():
        read = order_read_locked(order_id)
        customer = read.order.customer
        if customer is None or not _earnable(read):
            return None
        if read.member is None:
            # A new member joins in the same transaction as their first points: one commit.
            member_for(customer)
            read = order_read_locked(order_id)
        order, programme, member = read.order, read.programme, read.member
        if programme is None or member is None:  # both found above, in this transaction
            raise RuntimeError(f"order {order_id}: its programme or member went missing")
        write = _earning_write(read, programme, member)
        earning_id = earning_book(write)
        if earning_id is None:
            return OrderEarning.objects.get(order=order)
        earning = OrderEarning(
            pk=earning_id,
            shop_id=order.shop_id,
            member=member,
            order=order,
            status=EarningStatus.PENDING,
            confirm_at=write.confirm_at,
            created_at=write.now,
            updated_at=write.now,
        )
        earning._state.adding = False
        total = sum(entry.points for entry in write.entries)
        if total:
            # The balance row was written without `save()`: the member holds it now, and the
            # cached loyalty page hears of it (as `loyalty.ledger` does for its own writes).
            member.pending += total
            member.updated_at = write.now
            member_page_stale(member.pk)
            points_earned_notify(
                order=order,
                member=member,
                points=total,
                pending=True,
                flow=read.flow,
                earning_is_new=True,
            )
    return earning


def order_points_void(*, order_id: int, why: str) -> int:
    """Remove the pending points of an order cancelled, voided or refunded before its points
    were confirmed (one CLAWBACK per line, `void:line:<id>`); returns the points removed.
    Confirmed points stay: a return takes those back item by item."""
    with transaction.atomic():
        earning = OrderEarning.objects.select_for_update().filter(order_id=order_id).first()
        if earning is None or earning.status != EarningStatus.PENDING:
            return 0
        removed = 0
        for line in LineEarning.objects.select_for_update().filter(earning=earning):
            left = line.points - line.clawed_back
            if left > 0:
                removed += _take_pending(earning, f"void:line:{line.line_item_id}", left, why)
                line.clawed_back = line.points
                line.save(update_fields=["clawed_back", "updated_at"])
        # Shipping and tax: whatever of the order is still pending.
        rest = _order_pending(earning.member_id, order_id)
        if rest > 0:
            removed += _take_pending(earning, f"void:order:{order_id}", rest, why)
        earning.status = EarningStatus.VOIDED
        earning.save(update_fields=["status", "updated_at"])
    return removed


def _take_pending(earning: OrderEarning, key: str, points: int, why: str) -> int:
    entry_book(
        earning.member_id,
        Booking(
            kind=EntryKind.CLAWBACK,
            key=key,
            subject=Subject.ORDER,
            subject_id=earning.order_id,
            pending=-points,
            order_id=earning.order_id,
            reason=why,
        ),
    )
    return points


def order_delivered_confirm_at(*, order_id: int) -> OrderEarning | None:
    """The order arrived: its points confirm when the return window, counted from the tracked
    delivery date, has closed."""
    with transaction.atomic():
        earning = (
            OrderEarning.objects.select_for_update(of=("self",))
            .select_related("order__shop")
            .filter(order_id=order_id, status=EarningStatus.PENDING)
            .first()
        )
        if earning is None:
            return None
        confirm_at = _confirm_at(earning.order)
        if confirm_at is not None and earning.confirm_at != confirm_at:
            earning.confirm_at = confirm_at
            earning.save(update_fields=["confirm_at", "updated_at"])
    return earning


def earnings_due(*, now: datetime, after_id: int = 0, limit: int = 500) -> list[int]:
    """Ids of pending earnings due by `now`, in id order after `after_id`: a sweep pages on
    through them, so an earning another run holds is passed over, not read again."""
    return list(
        OrderEarning.objects.filter(
            status=EarningStatus.PENDING, confirm_at__lte=now, pk__gt=after_id
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def order_confirm_booking(*, order_id: int, number: str, points: int, at: datetime) -> Booking:
    """An order's pending points made available: the one entry its return window's end books."""
    return Booking(
        kind=EntryKind.CONFIRM,
        key=f"confirm:order:{order_id}",
        subject=Subject.ORDER,
        subject_id=order_id,
        pending=-points,
        available=points,
        order_id=order_id,
        reason=f"order {number}",
        at=at,
    )


def earning_confirm(*, earning_id: int, now: datetime | None = None) -> int:
    """Make the order's pending points available (less what was taken back): one CONFIRM
    entry, `confirm:order:<id>`. A negative balance is paid back first (`entry_book`).
    Returns the points confirmed; 0 when not due, already confirmed or another run holds it."""
    now = now or timezone.now()
    with transaction.atomic():
        earning = (
            OrderEarning.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("order__shop", "order__customer")
            .filter(pk=earning_id, status=EarningStatus.PENDING, confirm_at__lte=now)
            .first()
        )
        if earning is None:
            return 0
        points = _order_pending(earning.member_id, earning.order_id)
        if points > 0:
            entry_book(
                earning.member_id,
                order_confirm_booking(
                    order_id=earning.order_id, number=earning.order.number, points=points, at=now
                ),
            )
        earning.status = EarningStatus.CONFIRMED
        earning.confirmed_at = now
        earning.save(update_fields=["status", "confirmed_at", "updated_at"])
        if points > 0:
            # One message per order: those told of the pending points are not told again (the
            # message's key is the order), the others hear of them now they are theirs.
            member = Member.objects.get(pk=earning.member_id)
            points_earned_notify(order=earning.order, member=member, points=points, pending=False)
    # A referred friend's first order past its window is what rewards their referrer.
    referral_on_order_confirmed(earning.order_id, now=now)
    return points


def earnings_confirm_due(*, now: datetime | None = None) -> int:
    """Confirm every earning whose return window has closed; returns how many moved points."""
    now = now or timezone.now()
    confirmed = 0
    after_id = 0
    while due := earnings_due(now=now, after_id=after_id):
        for earning_id in due:
            if earning_confirm(earning_id=earning_id, now=now):
                confirmed += 1
        after_id = due[-1]
    return confirmed


@dataclass(frozen=True)
class ReturnedItem:
    return_item_id: int
    line_item_id: int
    quantity: int
    resolution: str


def returned_item_clawback(*, item: ReturnedItem) -> int:
    """Take back what the returned quantity of the line earned; returns the points taken.

    Cumulative, so that returning every unit takes back exactly what the line earned:
    taken = floor(points x returned so far / quantity) - taken before. From the pending points
    while the order is unconfirmed, else from the available ones; points already spent follow
    the programme's policy (a negative balance repaid by the next earnings, or written off).
    An exchange takes nothing. Idempotent by `clawback:return_item:<id>`."""
    if item.resolution not in CLAWBACK_RESOLUTIONS:
        return 0
    key = f"clawback:return_item:{item.return_item_id}"
    earning_id = (
        LineEarning.objects.filter(line_item_id=item.line_item_id)
        .values_list("earning_id", flat=True)
        .first()
    )
    if earning_id is None:
        return 0  # the line earned nothing (no programme then, or no customer)
    with transaction.atomic():
        # The order's earning first, then its line: the order as confirmation and voiding
        # lock them, so none of them waits for another in a circle.
        earning = (
            OrderEarning.objects.select_for_update(of=("self",))
            .select_related("order")
            .get(pk=earning_id)
        )
        line = LineEarning.objects.select_for_update().get(line_item_id=item.line_item_id)
        if item.return_item_id in line.return_item_ids:
            return 0
        line.return_item_ids = [*line.return_item_ids, item.return_item_id]
        returned = min(line.returned_quantity + item.quantity, line.quantity)
        due = line.points * returned // line.quantity - line.clawed_back
        line.returned_quantity = returned
        if due <= 0 or earning.status == EarningStatus.VOIDED:
            line.save(update_fields=["return_item_ids", "returned_quantity", "updated_at"])
            return 0
        order = earning.order
        reason = f"item returned from order {order.number}"
        booking = Booking(
            kind=EntryKind.CLAWBACK,
            key=key,
            subject=Subject.RETURN_ITEM,
            subject_id=item.return_item_id,
            order_id=order.pk,
            reason=reason,
        )
        taken, written_off = due, 0
        if earning.status == EarningStatus.PENDING:
            booking = replace(booking, pending=-due)
        else:
            member = Member.objects.select_for_update().get(pk=earning.member_id)
            policy = (
                Programme.objects.filter(shop_id=line.shop_id)
                .values_list("debt_policy", flat=True)
                .first()
            )
            if policy == DebtPolicy.WRITE_OFF:
                taken = min(due, member.spendable)
                written_off = due - taken
                booking = replace(booking, available=-taken, written_off=written_off)
            else:
                booking = replace(booking, available=-due, may_overdraw=True)
        if taken:
            entry_book(earning.member_id, booking)
        elif written_off:
            logger.info(
                "return item %s: %s points written off (spent already)",
                item.return_item_id,
                written_off,
            )
        line.clawed_back += due
        line.written_off += written_off
        line.save(
            update_fields=[
                "return_item_ids",
                "returned_quantity",
                "clawed_back",
                "written_off",
                "updated_at",
            ]
        )
    return taken
