"""Issuing a reward's single-use code to one customer.

`reward_grant` issues a code that no points paid for (a tier's quarterly free shipping, a
birthday gift, a referred friend's introduction); redemption with points reserves the points
first and then issues through the same path. The code is the one the customer types at
checkout: created in the shop's platform when it is connected, else the shop enters it in its
own checkout (`loyalty.rewards.issuing`)."""

import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from loyalty.models import Member, Redemption, RedemptionSource, RedemptionStatus, Reward
from loyalty.rewards.issuing import redemption_issue_soon
from orders.models import Customer

_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def code_new(prefix: str = "RW") -> str:
    """An unguessable code customers can type: 12 characters that cannot be misread."""
    return f"{prefix}-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))


def reward_grant(
    *,
    customer: Customer,
    reward: Reward,
    source: RedemptionSource,
    key: str,
    member: Member | None = None,
    ends_at: datetime | None = None,
) -> Redemption:
    """Issue `reward` to `customer` without points. Idempotent: the same `key` returns the
    redemption issued the first time.

    Not connected to Shopify, the code is issued at once. Connected, it is created there
    (after the caller's commit when called inside a transaction): the redemption is `reserved`
    until then, and `failed` with the reason if Shopify refuses it."""
    existing = Redemption.objects.filter(shop_id=customer.shop_id, idempotency_key=key).first()
    if existing is not None:
        return existing
    now = timezone.now()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                redemption = Redemption.objects.create(
                    shop_id=customer.shop_id,
                    customer=customer,
                    member=member,
                    reward=reward,
                    source=source,
                    points=0,
                    status=RedemptionStatus.RESERVED,
                    code=code_new(),
                    ends_at=ends_at or now + timedelta(days=reward.valid_days),
                    idempotency_key=key,
                )
        except IntegrityError:
            found = Redemption.objects.filter(shop_id=customer.shop_id, idempotency_key=key).first()
            if found is not None:  # a concurrent grant under the same key won
                return found
            continue
        return redemption_issue_soon(redemption_id=redemption.pk)
    raise RuntimeError("could not draw a free reward code")
