"""The messages `loyalty` owes customers, declared in the kernel's terms
(`postpurchase.message_kinds`) and registered from `LoyaltyConfig.ready()`; the messaging engine
schedules, renders and sends them without naming this app. Default templates:
`loyalty/templates/notifications/<kind>/`.

Each part of the programme declares its kinds in its own block below and adds them to `KINDS`
at the end."""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from orders.models import Channel, Purpose
from postpurchase.message_kinds import MessageKind, TemplateVariable

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

KINDS: tuple[MessageKind, ...] = (*REWARD_KINDS,)
