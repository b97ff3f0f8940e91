"""The demo shop's loyalty programme, added by `seed_demo` (through
`orders.demo.demo_shop_seeded`, after the returns and reviews it reads): the programme launched
a year ago with three tiers and a catalogue, and its year replayed member by member
(`history`), a few referrals (`referrals`), this quarter's free-shipping perk for Gold members,
and the demo customer whose page the seed's summary links to (`customer`).

Deterministic (every draw from the seed), and a few seconds at the default scale: the year is
booked in memory with the ledger's arithmetic and written in bulk (`book`)."""

import random
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.dispatch import receiver

from loyalty.demo.customer import demo_customer_goodwill, demo_customer_pick
from loyalty.demo.history import History, draw_code
from loyalty.demo.programme import demo_programme_create
from loyalty.demo.referrals import (
    demo_referral_refused,
    demo_referrals_plan,
    demo_referrals_save,
)
from loyalty.models import (
    LineEarning,
    Member,
    OrderEarning,
    Programme,
    Redemption,
    RedemptionSource,
    RedemptionStatus,
    Referral,
    Reward,
    Tier,
)
from loyalty.tiers.perks import free_shipping_key, free_shipping_perk_reward, shop_quarter
from loyalty.tokens import loyalty_url
from orders.demo import DemoLink, demo_shop_seeded, explicit_timestamps
from orders.models import Customer, Shop

LAUNCHED_BEFORE = timedelta(days=365)

# This part reads the returns and reviews of the other apps' demo parts, so their receivers must
# be connected first (a signal calls its receivers in the order they were connected), even when
# this module is imported before `seed_demo` discovers them. By name: loyalty imports neither.
for _app in ("returns", "feedback"):
    import_module(f"{_app}.demo")


@receiver(demo_shop_seeded, dispatch_uid="loyalty.demo")
def demo_loyalty_seed(*, shop: Shop, now: datetime, seed: int, **kwargs: Any) -> dict[str, Any]:
    if Programme.objects.filter(shop=shop).exists():  # seeded already: nothing twice
        return {}
    rng = random.Random(f"{seed}:loyalty")  # noqa: S311 - demo data, not secrets
    launched_at = now - LAUNCHED_BEFORE
    timed = (Programme, Tier, Reward, Member, OrderEarning, LineEarning, Redemption, Referral)
    with explicit_timestamps(*timed):
        demo = demo_programme_create(shop=shop, launched_at=launched_at)
        history = History(rng=rng, shop=shop, demo=demo, launched_at=launched_at, now=now)
        history.load()
        referrals = demo_referrals_plan(history, rng)
        history.run()
        walker = demo_customer_pick(history)
        account = demo_customer_goodwill(history, walker) if walker else None
        counts: dict[str, Any] = history.save()
        refused = None
        if account is not None:
            customer = Customer.objects.get(pk=account.customer_id)
            refused = demo_referral_refused(
                shop=shop, account=account, email=customer.email, now=now
            )
        counts["loyalty_referrals"] = demo_referrals_save(history, referrals, refused)
        counts["loyalty_entries"] = history.save_entries()
    counts["loyalty_perk_codes"] = _free_shipping_perks(shop, rng, now)
    if account is not None:
        customer = Customer.objects.get(pk=account.customer_id)
        tier = account.member.tier
        counts["loyalty_demo_customer"] = DemoLink(
            label=(
                f"Loyalty:    {customer.full_name} ({customer.email}), "
                f"{tier.name if tier else 'member'}, on their loyalty page:"
            ),
            url=loyalty_url(customer),
        )
    return counts


def _free_shipping_perks(shop: Shop, rng: random.Random, now: datetime) -> int:
    """This quarter's free-shipping code of each Gold member, as the daily perk run issued it
    the day after they reached the tier (or the quarter began)."""
    quarter = shop_quarter(shop, now)
    # The day after the previous quarter's last moment.
    starts = shop_quarter(shop, quarter.ends_at - timedelta(days=100)).ends_at
    members = list(
        Member.objects.filter(shop=shop, tier__free_shipping_quarterly=True).order_by("pk")
    )
    if not members:
        return 0
    reward = free_shipping_perk_reward(shop.pk)
    codes = []
    with explicit_timestamps(Redemption):
        for member in members:
            since = member.tier_since or now
            at = min(max(since, starts) + timedelta(days=1), now)
            codes.append(
                Redemption(
                    shop=shop,
                    customer_id=member.customer_id,
                    member=member,
                    reward=reward,
                    source=RedemptionSource.TIER_PERK,
                    status=RedemptionStatus.ISSUED,
                    code=draw_code(rng, "RW", 12),
                    ends_at=max(quarter.ends_at, at + timedelta(days=7)),
                    issued_at=at,
                    idempotency_key=free_shipping_key(member.pk, quarter),
                    created_at=at,
                    updated_at=at,
                )
            )
        Redemption.objects.bulk_create(codes)
    return len(codes)
