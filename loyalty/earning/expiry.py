"""Points expire by lot, each on its own date (`Programme.expiry_months` after it became
available): the sweep books one EXPIRE per lot for what is left of it, and a reminder goes out
`Programme.expiry_reminder_days` before, once for all the member's lots it covers."""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from loyalty.earning.notices import points_expiring_notify
from loyalty.ledger import Booking, NotEnoughPoints, entry_book
from loyalty.models import EntryKind, Member, PointLot, Programme, Subject

logger = logging.getLogger(__name__)


def lots_expire_due(*, now: datetime | None = None, batch: int = 1000) -> int:
    """Expire what is left of every lot past its date (`expire:lot:<id>`); returns how many
    lots. A lot whose points are held for a redemption in progress waits for the next run."""
    now = now or timezone.now()
    expired = 0
    after_id = 0
    while True:
        due = list(
            PointLot.objects.filter(remaining__gt=0, expires_at__lte=now, pk__gt=after_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not due:
            return expired
        for lot_id in due:
            try:
                if lot_expire(lot_id=lot_id, now=now):
                    expired += 1
            except NotEnoughPoints:
                logger.info("lot %s waits: its points are reserved for a redemption", lot_id)
        after_id = due[-1]


def lot_expire(*, lot_id: int, now: datetime) -> bool:
    with transaction.atomic():
        lot = PointLot.objects.filter(pk=lot_id).values("member_id", "remaining").first()
        if lot is None:
            return False
        # entry_book locks the member, and with it every lot of theirs: read the lot again.
        member = Member.objects.select_for_update().get(pk=lot["member_id"])
        remaining = PointLot.objects.get(pk=lot_id).remaining
        if remaining <= 0:
            return False
        booked = entry_book(
            member.pk,
            Booking(
                kind=EntryKind.EXPIRE,
                key=f"expire:lot:{lot_id}",
                subject=Subject.LOT,
                subject_id=lot_id,
                available=-remaining,
                lot_id=lot_id,
                reason="points expired",
                at=now,
            ),
        )
        return booked.created


def expiry_reminders_send(*, now: datetime | None = None) -> int:
    """Tell each member of the points expiring within their programme's reminder days, once
    for the lots that reminder covers (`PointLot.reminded_at`); returns reminders sent."""
    now = now or timezone.now()
    sent = 0
    for programme in Programme.objects.filter(is_active=True, expiry_months__isnull=False):
        horizon = now + timedelta(days=programme.expiry_reminder_days)
        lots = (
            PointLot.objects.filter(
                shop_id=programme.shop_id,
                remaining__gt=0,
                reminded_at__isnull=True,
                expires_at__gt=now,
                expires_at__lte=horizon,
            )
            .order_by("member_id", "expires_at", "pk")
            .values("pk", "member_id", "expires_at")
        )
        by_member: dict[int, list[_Lot]] = defaultdict(list)
        for lot in lots:
            by_member[lot["member_id"]].append(_Lot(lot["pk"], lot["expires_at"]))
        for member_id, group in by_member.items():
            if _remind(member_id, group, now):
                sent += 1
    return sent


@dataclass(frozen=True)
class _Lot:
    pk: int
    expires_at: datetime | None  # never None here: the query asks for a date


def _remind(member_id: int, group: list[_Lot], now: datetime) -> bool:
    with transaction.atomic():
        member = (
            Member.objects.select_for_update(of=("self",))
            .select_related("customer__shop")
            .get(pk=member_id)
        )
        ids = [lot.pk for lot in group]
        # Claimed under the member's lock: a second run finds them reminded.
        claimed = PointLot.objects.filter(pk__in=ids, reminded_at__isnull=True)
        points = claimed.aggregate(points=Sum("remaining"))["points"] or 0
        if not claimed.update(reminded_at=now) or points <= 0:
            return False
        points_expiring_notify(
            customer=member.customer,
            member=member,
            points=min(points, max(member.available, 0)),
            expires_at=group[0].expires_at or now,
            lot_id=ids[0],
        )
    return True
