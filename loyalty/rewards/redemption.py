"""Redeeming a reward with points: the points are held first, the code issued, then the points
booked out of the held ones, all under the member's row lock (`points_reserve` takes it and the
transaction keeps it), so two redemptions racing for the same points give one code and one
`NotEnoughPoints`, never a negative balance.

This is the plain path for a code the shop types into its own checkout; creating the code in
Shopify (and releasing the hold when that fails) belongs to the rewards part's version of this
module, which keeps `reward_redeem`'s signature and its refusals (NotEnoughPoints, or a
DomainError for a reward that cannot be redeemed)."""

from django.db import transaction

from loyalty.ledger import Booking, entry_book, points_reserve
from loyalty.models import (
    EntryKind,
    Member,
    Redemption,
    RedemptionSource,
    Reward,
    Subject,
)
from loyalty.rewards.codes import reward_grant
from postpurchase.exceptions import DomainError


class RewardNotRedeemable(DomainError):
    """The reward cannot be redeemed (inactive, or another shop's)."""


def reward_redeem(*, member: Member, reward: Reward, key: str) -> Redemption:
    """Spend `reward.points_price` of the member's points on a code for `reward`. Idempotent:
    the same `key` returns the redemption made the first time. Raises NotEnoughPoints (nothing
    held, nothing booked) or RewardNotRedeemable."""
    with transaction.atomic():
        existing = Redemption.objects.filter(shop_id=member.shop_id, idempotency_key=key).first()
        if existing is not None:
            return existing
        if reward.shop_id != member.shop_id or not reward.is_active:
            raise RewardNotRedeemable("This reward is not available.")
        price = reward.points_price
        points_reserve(member.pk, price)  # locks the member's row until the commit
        redemption = reward_grant(
            customer=member.customer,
            reward=reward,
            source=RedemptionSource.POINTS,
            key=key,
            member=member,
        )
        entry_book(
            member.pk,
            Booking(
                kind=EntryKind.REDEEM,
                key=f"redeem:{redemption.pk}",
                subject=Subject.REDEMPTION,
                subject_id=redemption.pk,
                available=-price,
                release_reserved=price,
                reason=reward.name,
            ),
        )
        Redemption.objects.filter(pk=redemption.pk).update(points=price)
        redemption.points = price
        return redemption
