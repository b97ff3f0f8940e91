"""A few referrals in the demo's year: friends whose first order came through a member's link
(the referrer rewarded once that order passed its return window, or still waiting for it), and
one refused by the self-referral guard: the "friend" gave the referrer's own email with a tag.
The refusal's reason is the guard's own words (`referrals.services._invite_refusal`)."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from loyalty.demo.history import Account, History
from loyalty.models import Referral, ReferralStatus
from loyalty.referrals.matching import address_fingerprint
from loyalty.referrals.services import _invite_refusal
from orders.models import Order, OrderStatus, Shop
from orders.services.customers import customer_upsert
from orders.services.data import CustomerData

REFERRALS = 4


@dataclass
class _Planned:
    referral: Referral
    referrer_customer_id: int


def demo_referrals_plan(history: History, rng: random.Random) -> list[_Planned]:
    """Pair new customers (their first order after the launch, delivered) with members who
    ordered before them, and put each referrer's reward in their year; before `history.run`."""
    window = history.window
    firsts = []
    for orders in history.by_customer.values():
        first = orders[0]
        if first.paid_at > history.launched_at + timedelta(days=30) and first.delivered_at:
            firsts.append(first)
    firsts.sort(key=lambda o: o.pk)
    planned: list[_Planned] = []
    for first in rng.sample(firsts, min(REFERRALS, len(firsts))):
        referrers = sorted(
            cid
            for cid, orders in history.by_customer.items()
            if cid != first.customer_id
            and any(history.launched_at < o.paid_at < first.placed_at for o in orders)
        )
        if not referrers:
            continue
        referrer = rng.choice(referrers)
        confirm_at = first.delivered_at + window if first.delivered_at else None
        rewarded = (
            confirm_at is not None
            and confirm_at <= history.now
            and first.status in (OrderStatus.DELIVERED, OrderStatus.CLOSED)
        )
        invited_at = first.placed_at - timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 9))
        referral = Referral(
            shop=history.shop,
            friend_id=first.customer_id,
            friend_order_id=first.pk,
            status=ReferralStatus.REWARDED if rewarded else ReferralStatus.ORDERED,
            address_fingerprint=_address(first.pk),
            created_at=invited_at,
            updated_at=confirm_at if rewarded and confirm_at else first.placed_at,
        )
        if rewarded and confirm_at is not None:
            history.push(
                referrer, confirm_at, "referral", (referral, history.programme.referral_points)
            )
        planned.append(_Planned(referral, referrer))
    return planned


def _address(order_id: int) -> str:
    order = Order.objects.get(pk=order_id)
    return address_fingerprint(
        address1=order.shipping_address1,
        address2=order.shipping_address2,
        postcode=order.shipping_postcode,
        country=order.shipping_country,
    )


def demo_referral_refused(
    *, shop: Shop, account: Account, email: str, now: datetime
) -> Referral | None:
    """The member's own email with a `+tag`, given on their referral page two days ago: the
    guard refuses it and says why."""
    local, at, domain = email.partition("@")
    if not at:
        return None
    tagged = f"{local}+friends@{domain}"
    friend = customer_upsert(shop=shop, data=CustomerData(email=tagged), publish=False)
    reason = _invite_refusal(account.member, friend, tagged, "")
    if not reason:
        return None
    when = now - timedelta(days=2, hours=3)
    return Referral(
        shop=shop,
        referrer=account.member,
        friend=friend,
        status=ReferralStatus.REFUSED,
        reason=reason,
        created_at=when,
        updated_at=when,
    )


def demo_referrals_save(history: History, planned: list[_Planned], refused: Referral | None) -> int:
    """After the members are saved, before the entries (whose keys name the referrals)."""
    rows = []
    for plan in planned:
        account = history.accounts.get(plan.referrer_customer_id)
        if account is None:
            continue
        plan.referral.referrer = account.member
        rows.append(plan.referral)
    if refused is not None:
        rows.append(refused)
    Referral.objects.bulk_create(rows)
    return len(rows)
