"""The messages `loyalty` owes customers, declared in the kernel's terms
(`postpurchase.message_kinds`) and registered from `LoyaltyConfig.ready()`; the messaging engine
schedules, renders and sends them without naming this app. Default templates:
`loyalty/templates/notifications/<kind>/`.

No domain event starts them: loyalty's own services schedule each one when the ledger moves
(`flow_schedule` through the shop's flow of the kind), so each kind's trigger names the check
that finds who is owed it.

- `loyalty_points_earned`: one per order, when its points are booked (pending, only to
  customers who accept marketing) or, for the others, when they are confirmed.
- `loyalty_points_expiring`: points about to expire (`Programme.expiry_reminder_days` before),
  once per group of lots the reminder covers.
- `loyalty_reward_available`: a reward the member's points now afford, or a code granted to
  them (a tier perk, a birthday gift, a referred friend's introduction) once it is issued.
"""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from orders.models import Channel, Purpose
from postpurchase.message_kinds import MessageKind, TemplateVariable

POINTS_EARNED = "loyalty_points_earned"
POINTS_EXPIRING = "loyalty_points_expiring"
# The checks that schedule them (not domain events).
TRIGGER_POINTS_BOOKED = "loyalty_points_booked"
TRIGGER_POINTS_EXPIRING = "loyalty_points_expiry_check"

_COMMON = (
    TemplateVariable("shop_name", "The shop's name", "Northwind Outfitters"),
    TemplateVariable("customer_first_name", "The customer's first name (may be blank)", "Ada"),
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


# --- Rewards: loyalty_reward_available ------------------------------------------------------
# A reward the member can now afford (found by the periodic check
# `loyalty.tasks.rewards_affordable_notify_task`), or a code granted to them (a tier perk, a
# birthday gift, a referred friend's introduction) once it is issued.

REWARD_AVAILABLE = "loyalty_reward_available"
# The periodic check and the grant that schedule it (no event starts it).
TRIGGER_REWARD_AVAILABLE = "loyalty_reward_available"

REWARD_VARIABLES = (
    TemplateVariable("shop_name", "The shop's name", "Acme Tea"),
    TemplateVariable("customer_first_name", "The customer's first name (may be blank)", "Ada"),
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

KINDS: tuple[MessageKind, ...] = (*EARNING_KINDS, *REWARD_KINDS)
