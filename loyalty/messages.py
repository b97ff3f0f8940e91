"""The messages `loyalty` owes customers, declared in the kernel's terms
(`postpurchase.message_kinds`) and registered from `LoyaltyConfig.ready()`; the messaging engine
schedules, renders and sends them without naming this app. Default templates:
`loyalty/templates/notifications/<kind>/`.

No domain event starts them: loyalty's own services schedule each one when the ledger moves,
all through `member_message_schedule` (the shop's flow of the kind), so each kind's trigger
names the check that finds who is owed it.

- `loyalty_points_earned`: one per order, when its points are booked (pending, only to
  customers who accept marketing) or, for the others, when they are confirmed.
- `loyalty_points_expiring`: points about to expire (`Programme.expiry_reminder_days` before),
  once per group of lots the reminder covers.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loyalty.models import Referral, TierChange
from notifications.engine.planning import customer_as_recipient
from notifications.models import Flow, Message
from notifications.services import flow_enabled_of_kind, flow_schedule
from orders.models import Channel, Customer, Order, Purpose
from postpurchase.message_kinds import MessageKind, MessagePlan, TemplateVariable

POINTS_EARNED = "loyalty_points_earned"
POINTS_EXPIRING = "loyalty_points_expiring"
# The checks that schedule them (not domain events).
TRIGGER_POINTS_BOOKED = "loyalty_points_booked"
TRIGGER_POINTS_EXPIRING = "loyalty_points_expiry_check"

# What every one of loyalty's messages may use.
_MEMBER_VARIABLES = (
    TemplateVariable("shop_name", "The shop's name", "Acme Tea"),
    TemplateVariable("customer_first_name", "The customer's first name (may be blank)", "Ada"),
)
_COMMON = (
    *_MEMBER_VARIABLES,
    TemplateVariable("available", "Points the customer can spend now", 420),
)

EARNING_KINDS: tuple[MessageKind, ...] = (
    MessageKind(
        name=POINTS_EARNED,
        label=_("Loyalty points earned"),
        trigger=TRIGGER_POINTS_BOOKED,
        channels=(Channel.EMAIL.value, Channel.SMS.value),
        # A statement of the customer's own points; the pending one goes only to customers
        # who accept marketing (`loyalty.earning.notices`).
        purpose=Purpose.TRANSACTIONAL,
        useful_for=timedelta(days=3),
        variables=(
            *_COMMON,
            TemplateVariable("order_number", "The order number", "#1001"),
            TemplateVariable("points", "Points the order earned", 120),
            TemplateVariable(
                "is_pending", "True while the points wait for the return window to close", True
            ),
            TemplateVariable("pending", "Points waiting for their orders' return windows", 120),
        ),
        delay_meaning="How long after the points are booked the message goes out.",
    ),
    MessageKind(
        name=POINTS_EXPIRING,
        label=_("Loyalty points expiring"),
        trigger=TRIGGER_POINTS_EXPIRING,
        channels=(Channel.EMAIL.value, Channel.SMS.value),
        purpose=Purpose.TRANSACTIONAL,
        useful_for=timedelta(days=7),
        variables=(
            *_COMMON,
            TemplateVariable("points", "Points that expire", 150),
            TemplateVariable(
                "expires_on", "The day they expire, as the customer reads it", "1 July 2027"
            ),
        ),
        delay_meaning=(
            "How long after the reminder is due (the programme's days before expiry) it goes."
        ),
    ),
)


# --- Tiers and referrals ----------------------------------------------------------------
# Neither starts on an event: the tier's move and the referral's reward schedule them, in the
# transaction that makes the change, so each kind's trigger names that action. One message per
# move up (about the TierChange) and per rewarded referral (about the Referral).

LOYALTY_TIER_UP = "loyalty_tier_up"
LOYALTY_REFERRAL_REWARDED = "loyalty_referral_rewarded"

TIER_REFERRAL_KINDS: tuple[MessageKind, ...] = (
    MessageKind(
        name=LOYALTY_TIER_UP,
        label=_("Loyalty: tier up"),
        trigger="loyalty_tier_reached",
        channels=(Channel.EMAIL.value,),
        purpose=Purpose.TRANSACTIONAL,
        useful_for=timedelta(days=7),
        variables=(
            *_MEMBER_VARIABLES,
            TemplateVariable("tier_name", "The tier reached", "Gold"),
            TemplateVariable("previous_tier_name", "The tier left (may be blank)", "Silver"),
            TemplateVariable("earn_multiplier", "Points per unit, times this", "1.5"),
            TemplateVariable(
                "free_shipping_quarterly", "Whether the tier gives free shipping each quarter", True
            ),
            TemplateVariable("early_access", "Whether the tier opens early access", True),
        ),
        delay_meaning="Sent as soon as the member reaches a higher tier; the delay is not used.",
    ),
    MessageKind(
        name=LOYALTY_REFERRAL_REWARDED,
        label=_("Loyalty: referral rewarded"),
        trigger="loyalty_referral_confirmed",
        channels=(Channel.EMAIL.value,),
        purpose=Purpose.TRANSACTIONAL,
        useful_for=timedelta(days=7),
        variables=(
            *_MEMBER_VARIABLES,
            TemplateVariable("points", "The points the referral earned", 500),
            TemplateVariable("balance", "The member's points to spend now", 1240),
        ),
        delay_meaning=(
            "Sent when the friend's first order has passed its return window and the points "
            "are booked; the delay is not used."
        ),
    ),
)


def member_message_schedule(
    *,
    kind: str,
    customer: Customer,
    about: tuple[str, int],
    context: dict[str, Any] | Callable[[], dict[str, Any]],
    order: Order | None = None,
    flow: Flow | None = None,
    about_is_new: bool = False,
) -> list[Message]:
    """Schedule one of loyalty's kinds for a member on the shop's enabled flow of it (none
    when staff turned it off), after the flow's delay, on the channels the customer can
    receive for the kind's purpose (marketing or transactional consent, quiet hours: the
    engine's rules). About the customer unless `order` is given; `context` may be a callable,
    so nothing is read for it when the flow is off; `flow` spares the look-up to a caller
    going through many members. The message's dedupe key makes a second call a no-op;
    `about_is_new` says the object it is about was just made (`MessagePlan.about_is_new`)."""
    flow = flow or flow_enabled_of_kind(shop_id=customer.shop_id, kind=kind)
    if flow is None:
        return []
    values = context() if callable(context) else context
    plan = MessagePlan(
        about=about, due=timezone.now() + flow.delay, context=values, about_is_new=about_is_new
    )
    return flow_schedule(flow=flow, order=order or customer_as_recipient(customer), plan=plan)


def tier_up_message_schedule(change: TierChange) -> list[Message]:
    customer = Customer.objects.select_related("shop").get(pk=change.member.customer_id)
    tier = change.to_tier
    context = {
        "shop_name": customer.shop.name,
        "customer_first_name": customer.first_name,
        "tier_name": tier.name,
        "previous_tier_name": change.from_tier.name if change.from_tier else "",
        "earn_multiplier": format(tier.earn_multiplier.normalize(), "f"),  # 1.5, 2, 10
        "free_shipping_quarterly": tier.free_shipping_quarterly,
        "early_access": bool(tier.early_access_tag),
    }
    return member_message_schedule(
        kind=LOYALTY_TIER_UP, customer=customer, about=("tier_change", change.pk), context=context
    )


def referral_rewarded_message_schedule(referral: Referral, *, points: int) -> list[Message]:
    member = referral.referrer
    customer = Customer.objects.select_related("shop").get(pk=member.customer_id)
    member.refresh_from_db(fields=["available", "reserved"])
    context = {
        "shop_name": customer.shop.name,
        "customer_first_name": customer.first_name,
        "points": points,
        "balance": member.spendable,
    }
    return member_message_schedule(
        kind=LOYALTY_REFERRAL_REWARDED,
        customer=customer,
        about=("referral", referral.pk),
        context=context,
    )


# --- end of tiers and referrals ---


# --- Rewards: loyalty_reward_available ------------------------------------------------------
# A reward the member can now afford (found by the periodic check
# `loyalty.tasks.rewards_affordable_notify_task`), or a code granted to them (a tier perk, a
# birthday gift, a referred friend's introduction) once it is issued.

REWARD_AVAILABLE = "loyalty_reward_available"
# The periodic check and the grant that schedule it (no event starts it).
TRIGGER_REWARD_AVAILABLE = "loyalty_reward_available"

REWARD_VARIABLES = (
    *_MEMBER_VARIABLES,
    TemplateVariable("shop_url", "The shop's website", "https://example.com/"),
    TemplateVariable("reward_name", "The reward", "10% off your next order"),
    TemplateVariable("points_price", "Its price in points (0 for a code given)", 500),
    TemplateVariable("points_available", "The customer's points to spend", 620),
    TemplateVariable("code", "The code to enter at checkout, when it was given (else blank)", ""),
    TemplateVariable("ends_on", "The last day the code is valid, YYYY-MM-DD (else blank)", ""),
)

REWARD_KINDS: tuple[MessageKind, ...] = (
    MessageKind(
        name=REWARD_AVAILABLE,
        label=_("Loyalty reward available"),
        trigger=TRIGGER_REWARD_AVAILABLE,
        channels=(Channel.EMAIL.value, Channel.SMS.value),
        # It invites the customer to buy again: the marketing consent and quiet hours apply.
        purpose=Purpose.MARKETING,
        useful_for=timedelta(days=7),
        variables=REWARD_VARIABLES,
        delay_meaning=(
            "How long after the reward became affordable, or the code was given, the message "
            "goes out."
        ),
        whatsapp_variables=("customer_first_name", "reward_name"),
        single_channel=True,
    ),
)


# --- All of loyalty's kinds -------------------------------------------------------------------

KINDS: tuple[MessageKind, ...] = (*EARNING_KINDS, *REWARD_KINDS, *TIER_REFERRAL_KINDS)
