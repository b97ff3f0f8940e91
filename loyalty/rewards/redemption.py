"""Redeeming points for a reward, and what becomes of the code: used by an order, or unused by
its end date and its points returned.

Redeeming reserves the points first, on the member's locked row: two redemptions racing for the
same points run one after the other, the second finds them held and gets "not enough points",
and the balance never goes below zero. The points are booked as spent only once the code exists
(`issuing.redemption_issue`), and released if it cannot be created."""

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty.ledger import Booking, NotEnoughPoints, entry_book, points_reserve
from loyalty.models import (
    EntryKind,
    Member,
    Redemption,
    RedemptionSource,
    RedemptionStatus,
    Reward,
    Subject,
)
from loyalty.rewards.codes import code_new
from loyalty.rewards.issuing import (
    platform_discount_delete,
    redemption_issue_soon,
    redemption_status_move,
)
from orders.models import Order
from postpurchase.events import Event
from postpurchase.exceptions import DomainError

logger = logging.getLogger(__name__)

# An order placed just before a code's end may reach us a little later: the points of an
# unused code go back only this long after its end date.
EXPIRY_GRACE = timedelta(hours=6)
EXPIRY_BATCH = 500


class RewardNotRedeemable(DomainError):
    """The reward cannot be redeemed (inactive, another shop's, or not for points)."""


class RewardNotAffordable(NotEnoughPoints, DomainError):
    """Not enough spendable points: the message is the one customers and staff read."""

    def __init__(self, wanted: int, spendable: int) -> None:
        super().__init__(wanted, spendable)
        self.args = (
            _(
                "Not enough points: this reward costs %(wanted)s points and %(spendable)s are "
                "available."
            )
            % {"wanted": wanted, "spendable": spendable},
        )


def reward_redeem(*, member: Member, reward: Reward, key: str) -> Redemption:
    """Spend the member's points on `reward`: the points are held, the redemption recorded
    and its code created (`issued`; `reserved` while Shopify is asked again: "your code is
    being prepared"; `failed` with the reason and the points released if Shopify refused).

    Idempotent by `key` (the customer's double click returns the first redemption). Raises
    RewardNotAffordable (a NotEnoughPoints) or RewardNotRedeemable, changing nothing."""
    existing = Redemption.objects.filter(shop_id=member.shop_id, idempotency_key=key).first()
    if existing is not None:
        return existing
    if reward.shop_id != member.shop_id or not reward.is_active or reward.points_price <= 0:
        raise RewardNotRedeemable(_("This reward cannot be redeemed."))
    now = timezone.now()
    try:
        with transaction.atomic():
            # Holding the points and recording what they are held for commit together.
            try:
                points_reserve(member.pk, reward.points_price)
            except NotEnoughPoints as short:
                raise RewardNotAffordable(short.wanted, short.spendable) from None
            redemption = Redemption.objects.create(
                shop_id=member.shop_id,
                customer_id=member.customer_id,
                member=member,
                reward=reward,
                source=RedemptionSource.POINTS,
                points=reward.points_price,
                status=RedemptionStatus.RESERVED,
                code=code_new(),
                ends_at=now + timedelta(days=reward.valid_days),
                idempotency_key=key,
            )
    except IntegrityError:
        # The same key redeemed at the same moment (the other request won; nothing was held
        # here), or a code drawn twice (1 in 10^18): the first answer stands, else try again.
        found = Redemption.objects.filter(shop_id=member.shop_id, idempotency_key=key).first()
        if found is not None:
            return found
        return reward_redeem(member=member, reward=reward, key=key)
    return redemption_issue_soon(redemption_id=redemption.pk)


def redemptions_expire(*, now: datetime | None = None) -> int:
    """Codes unused by their end date (and the grace): the points they cost return (a RETURN
    entry, once), the redemption is `expired`, and the Shopify discount is deleted afterwards,
    best effort. A granted code (no points) just expires. Returns how many expired."""
    now = now or timezone.now()
    due = list(
        Redemption.objects.filter(status=RedemptionStatus.ISSUED, ends_at__lte=now - EXPIRY_GRACE)
        .order_by("ends_at")
        .values_list("pk", flat=True)[:EXPIRY_BATCH]
    )
    expired = 0
    for redemption_id in due:
        redemption = _expire_one(redemption_id)
        if redemption is None:
            continue
        expired += 1
        if redemption.platform_discount_id:
            platform_discount_delete(
                shop_id=redemption.shop_id, discount_id=redemption.platform_discount_id
            )
    return expired


@transaction.atomic
def _expire_one(redemption_id: int) -> Redemption | None:
    redemption = (
        Redemption.objects.select_for_update().select_related("reward").get(pk=redemption_id)
    )
    if redemption.status != RedemptionStatus.ISSUED:
        return None
    if redemption.points and redemption.member_id is not None:
        entry_book(
            redemption.member_id,
            Booking(
                kind=EntryKind.RETURN,
                key=f"return:{redemption.pk}",
                subject=Subject.REDEMPTION,
                subject_id=redemption.pk,
                available=redemption.points,
                reason=redemption.reward.name[:300],
            ),
        )
    redemption_status_move(redemption, RedemptionStatus.EXPIRED)
    return redemption


def redemptions_mark_used(*, order: Order) -> list[Redemption]:
    """Mark used the issued codes of the order's customer's shop that the order carries
    (codes compare without case, as Shopify compares them). An order seen again changes
    nothing: a code is used once."""
    codes = {str(code).upper() for code in order.discount_codes or [] if code}
    if not codes:
        return []
    used = []
    with transaction.atomic():
        candidates = Redemption.objects.select_for_update().filter(
            shop_id=order.shop_id, code__in=codes, status=RedemptionStatus.ISSUED
        )
        for redemption in candidates:
            redemption.used_at = order.placed_at
            redemption.used_order = order
            redemption_status_move(redemption, RedemptionStatus.USED, ("used_at", "used_order"))
            used.append(redemption)
    return used


def order_placed_mark_rewards_used(event: Event) -> int:
    """Subscriber of `order_placed` and `order_paid`: the reward codes the order carries."""
    order = Order.objects.filter(pk=event.payload["order_id"]).first()
    if order is None:
        return 0
    return len(redemptions_mark_used(order=order))
