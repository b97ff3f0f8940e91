"""Telling a member a reward is theirs to take: a code granted to them once it is issued, or a
reward their points now afford (`loyalty_reward_available`, scheduled through the shop's flow
of that kind, which staff may switch off). Each is told once: the message is about the
redemption, or about the reward (a member hears of each reward they can afford once)."""

from typing import Any

from django.db.models import Exists, F, OuterRef

from loyalty.messages import REWARD_AVAILABLE, member_message_schedule
from loyalty.models import Member, Redemption, RedemptionStatus, Reward
from notifications.models import Flow, Message
from notifications.services import flows_enabled_for_kind
from orders.models import Customer, Shop

# Members told per shop and run; the next run takes the rest.
AFFORDABLE_BATCH = 1000


def _context(shop: Shop, customer: Customer, reward: Reward, **values: Any) -> dict[str, Any]:
    return {
        "shop_name": shop.name,
        "shop_url": shop.website_url,
        "customer_first_name": customer.first_name,
        "reward_name": reward.name,
        "points_price": reward.points_price,
        "points_available": 0,
        "code": "",
        "ends_on": "",
        **values,
    }


def reward_available_notify(*, redemption_id: int) -> list[Message]:
    """Tell the customer of a code granted to them, once it is issued."""
    redemption = Redemption.objects.select_related("shop", "customer", "reward").get(
        pk=redemption_id
    )
    if redemption.status != RedemptionStatus.ISSUED or redemption.customer.redacted_at:
        return []
    context = _context(
        redemption.shop,
        redemption.customer,
        redemption.reward,
        points_price=0,
        code=redemption.code,
        ends_on=redemption.ends_at.date().isoformat(),
    )
    return member_message_schedule(
        kind=REWARD_AVAILABLE,
        customer=redemption.customer,
        about=("redemption", redemption.pk),
        context=context,
    )


def rewards_affordable_notify() -> int:
    """Tell members whose spendable points now afford a reward they have not heard of: one
    message about the dearest reward they can afford, and none about a reward no dearer than
    one they heard of. Returns how many were told."""
    told = 0
    for shop_id, flow in flows_enabled_for_kind(kind=REWARD_AVAILABLE).items():
        told += _shop_affordable_notify(flow, shop_id)
    return told


def _shop_affordable_notify(flow: Flow, shop_id: int) -> int:
    rewards = list(
        Reward.objects.filter(shop_id=shop_id, is_active=True, points_price__gt=0)
        .select_related("shop")
        .order_by("-points_price", "pk")
    )
    picked: set[int] = set()
    dearer_or_same: list[int] = []
    told = 0
    for reward in rewards:
        # Told of this reward or of a dearer one: a cheaper one is no news.
        dearer_or_same.append(reward.pk)
        heard = Message.objects.filter(
            kind=REWARD_AVAILABLE,
            customer_id=OuterRef("customer_id"),
            about_type="reward",
            about_id__in=list(dearer_or_same),
        )
        members = (
            Member.objects.filter(shop_id=shop_id, customer__redacted_at__isnull=True)
            .annotate(spendable_now=F("available") - F("reserved"))
            .filter(spendable_now__gte=reward.points_price)
            .exclude(pk__in=picked)
            .exclude(Exists(heard))
            .select_related("customer")
            .order_by("pk")[:AFFORDABLE_BATCH]
        )
        for member in members:
            picked.add(member.pk)
            context = _context(
                reward.shop, member.customer, reward, points_available=member.spendable
            )
            if member_message_schedule(
                kind=REWARD_AVAILABLE,
                customer=member.customer,
                about=("reward", reward.pk),
                context=context,
                flow=flow,
            ):
                told += 1
    return told
