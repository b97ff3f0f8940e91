"""Birthday and first-order anniversary bonuses, on the customer's own day in their zone.

Who is due is the messaging flows' own finding (`notifications.services.occasions_due`), asked
for the shops running a programme with a send time of the start of the customer's day: the
hourly tick gives each customer their points on their day, wherever they live. The birthday
bonus comes once per 365 days and not within 30 days of the birthday being entered or changed
(so a date moved to today earns nothing); the tier's birthday gift, read from the member's tier
at that moment, comes with it."""

import logging
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from loyalty.ledger import Booking, entry_book, member_for
from loyalty.models import EntryKind, LedgerEntry, Member, Programme, RedemptionSource, Subject
from loyalty.rewards.codes import reward_grant
from notifications.services import ANNIVERSARY, BIRTHDAY, OccasionDue, occasions_due
from orders.models import Customer

logger = logging.getLogger(__name__)

BIRTHDAY_EVERY = timedelta(days=365)
BIRTHDAY_CHANGE_QUIET = timedelta(days=30)


def birthday_changed_record(*, customer_id: int, changed_at: datetime) -> Member | None:
    """Remember when the customer's birthday was entered or changed (orders'
    `customer_birthday_changed`): no birthday bonus for 30 days after."""
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return None
    member = member_for(customer)
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        if member.birthday_changed_at is None or member.birthday_changed_at < changed_at:
            member.birthday_changed_at = changed_at
            member.save(update_fields=["birthday_changed_at", "updated_at"])
    return member


# The ledger key's word for each occasion: one bonus per customer and year.
_KEY_PREFIX = {BIRTHDAY: "birthday", ANNIVERSARY: "anniversary"}


def _key(occasion: str, due: OccasionDue) -> str:
    return f"{_KEY_PREFIX[occasion]}:{due.customer_id}:{due.year}"


def _birthday_award(programme: Programme, due: OccasionDue, now: datetime) -> bool:
    customer = Customer.objects.select_related("shop").get(pk=due.customer_id)
    member = member_for(customer)
    with transaction.atomic():
        member = (
            Member.objects.select_for_update(of=("self",)).select_related("tier").get(pk=member.pk)
        )
        if member.birthday_changed_at and now - member.birthday_changed_at < BIRTHDAY_CHANGE_QUIET:
            return False
        last = (
            LedgerEntry.objects.filter(member=member, subject=Subject.BIRTHDAY)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        # A day's slack: last year's bonus may have come late in the day and this year's tick
        # early in it; the day itself is what must not come twice in 365 days.
        if last is not None and now - last < BIRTHDAY_EVERY - timedelta(days=1):
            return False
        booked = False
        if programme.birthday_points:
            booked = entry_book(
                member.pk,
                Booking(
                    kind=EntryKind.EARN,
                    key=_key(BIRTHDAY, due),
                    subject=Subject.BIRTHDAY,
                    subject_id=due.year,
                    available=programme.birthday_points,
                    reason="birthday",
                    at=now,
                ),
            ).created
        gift = member.tier.birthday_reward if member.tier else None
        if gift is not None and gift.is_active:
            reward_grant(
                customer=customer,
                reward=gift,
                source=RedemptionSource.BIRTHDAY,
                key=f"birthday_gift:{customer.pk}:{due.year}",
                member=member,
            )
            booked = True
    return booked


def _anniversary_award(programme: Programme, due: OccasionDue, now: datetime) -> bool:
    if not programme.anniversary_points:
        return False
    customer = Customer.objects.get(pk=due.customer_id)
    member = member_for(customer)
    return entry_book(
        member.pk,
        Booking(
            kind=EntryKind.EARN,
            key=_key(ANNIVERSARY, due),
            subject=Subject.ANNIVERSARY,
            subject_id=due.year,
            available=programme.anniversary_points,
            reason=f"{due.context.get('years', '')} years since the first order".strip(),
            at=now,
        ),
    ).created


def _not_yet_booked(occasion: str, dues: list[OccasionDue]) -> list[OccasionDue]:
    """`dues` less the customers whose bonus of this year is booked (a birthday's gift comes
    in the same transaction as its points), in one query: a customer stays due all their day,
    and each hourly run would otherwise lock and look them up again."""
    keys: dict[int, list[str]] = {}
    for due in dues:
        keys.setdefault(due.shop_id, []).append(_key(occasion, due))
    if not keys:
        return []
    booked = set(
        LedgerEntry.objects.filter(
            reduce(or_, (Q(shop_id=shop, idempotency_key__in=ks) for shop, ks in keys.items()))
        ).values_list("idempotency_key", flat=True)
    )
    return [due for due in dues if _key(occasion, due) not in booked]


def occasions_award_due(*, now: datetime | None = None) -> int:
    """Give the birthday and anniversary bonuses of the customers whose day it is; returns
    how many were given. Safe to run every hour: each is booked once per customer and year."""
    now = now or timezone.now()
    programmes = {p.shop_id: p for p in Programme.objects.filter(is_active=True)}
    # The start of the customer's day: points, unlike a message, need no waking hour.
    delays = {shop_id: timedelta(0) for shop_id in programmes}
    given = 0
    for occasion, award in ((BIRTHDAY, _birthday_award), (ANNIVERSARY, _anniversary_award)):
        dues = occasions_due(occasion=occasion, delays=delays, now=now)
        for due in _not_yet_booked(occasion, dues):
            if award(programmes[due.shop_id], due, now):
                given += 1
    return given
