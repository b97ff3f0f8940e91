"""The flows' message kinds: the engagement messages the platform plans on top of the order's
own updates, declared once here and registered from `NotificationsConfig.ready()`.

Why here and not in the app whose event starts them: the care guide and the replenishment
reminder start on `orders`' delivery events, but `orders` is the commerce core and plans no
engagement of its own (the review request and the surveys are `feedback`'s); the
apology for a delayed parcel and the occasions (birthday, first-order anniversary) start on no
event at all, but on the periodic checks of this package (`delays`, `occasions`), run by
`notifications.tasks`. Their default templates are this app's
(`notifications/templates/notifications/<kind>/`).
"""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from notifications.flows.delays import KIND as SHIPMENT_DELAYED
from notifications.flows.followups import care_guide_plan
from notifications.flows.occasions import ANNIVERSARY, BIRTHDAY
from notifications.flows.replenishment import KIND as REPLENISHMENT
from notifications.flows.replenishment import replenishment_plan
from orders.events import OrderEventName
from orders.messages import (
    ORDER_UPDATE_WHATSAPP,
    ORDER_VARIABLES,
    SHIPMENT_VARIABLES,
    order_preview_context,
)
from orders.models import Channel, Purpose
from postpurchase.message_kinds import MessageKind, TemplateVariable

# The periodic checks that find who is owed a kind no event starts (a kind's trigger then
# names its check: never an event, so no event ever plans it).
TRIGGER_CUSTOMER_DATE = "customer_date"
TRIGGER_SHIPMENT_OVERDUE = "shipment_overdue"

CARE_GUIDE = "care_guide"

_TEXTS = (Channel.EMAIL.value, Channel.SMS.value)
# Guides are long texts with formatting: email only.
_EMAIL = (Channel.EMAIL.value,)

_SHOP_URL = TemplateVariable("shop_url", "The shop's website", "https://example.com/")
_CUSTOMER_VARIABLES = (
    TemplateVariable("shop_name", "The shop's name", "Acme Tea"),
    TemplateVariable("customer_first_name", "The customer's first name (may be blank)", "Ada"),
    _SHOP_URL,
)
_PREFERENCES_URL = ORDER_VARIABLES[-1]
_OCCASION_WHATSAPP = ("customer_first_name", "shop_name")

# The delay counts from the start of the customer's local day: sent from 10:00 their time.
_FROM_LOCAL_MIDNIGHT = (
    "Time after the start of the customer's local day (10 hours: from 10:00 their time)."
)

KINDS: tuple[MessageKind, ...] = (
    # Proactive apology for a parcel with no scan for days or past its estimated date, found by
    # the hourly check (`notifications.flows.delays`).
    MessageKind(
        name=SHIPMENT_DELAYED,
        label=_("Shipment delayed"),
        trigger=TRIGGER_SHIPMENT_OVERDUE,
        channels=_TEXTS,
        purpose=Purpose.TRANSACTIONAL,
        useful_for=timedelta(days=2),
        variables=(
            *ORDER_VARIABLES,
            *SHIPMENT_VARIABLES,
            TemplateVariable(
                "delay_reason",
                'Why it is late: "no_scan" (no tracking update for days) or "past_estimate"',
                "no_scan",
            ),
        ),
        preview_context=order_preview_context,
        whatsapp_variables=ORDER_UPDATE_WHATSAPP,
    ),
    # Follow-ups about the product in the customer's hands are timed from delivery.
    MessageKind(
        name=CARE_GUIDE,
        label=_("Care guide"),
        trigger=OrderEventName.SHIPMENT_STATUS_CHANGED,
        channels=_EMAIL,
        purpose=Purpose.TRANSACTIONAL,
        delay=timedelta(days=3),
        useful_for=timedelta(days=7),
        conditions=(("to_status", "delivered"),),
        variables=(
            *ORDER_VARIABLES,
            TemplateVariable(
                "guides",
                "The care guides of the parcel's products: each has title and care_guide",
                [{"title": "Green tea", "care_guide": "Keep it dry and away from light."}],
            ),
        ),
        planner=care_guide_plan,
        preview_context=order_preview_context,
        whatsapp_variables=ORDER_UPDATE_WHATSAPP,
    ),
    # The delay is a lead time: the reminder goes five days *before* the predicted run-out (a
    # flow's delay is never negative).
    MessageKind(
        name=REPLENISHMENT,
        label=_("Replenishment"),
        trigger=OrderEventName.SHIPMENT_STATUS_CHANGED,
        channels=_TEXTS,
        purpose=Purpose.MARKETING,
        delay=timedelta(days=5),
        useful_for=timedelta(days=10),
        conditions=(("to_status", "delivered"),),
        variables=(
            *ORDER_VARIABLES,
            TemplateVariable("product_title", "The product running out", "Green tea"),
            TemplateVariable(
                "product_url", "Link to reorder the product", "https://example.com/tea"
            ),
            TemplateVariable("product_image_url", "The product's image (may be blank)", ""),
            TemplateVariable("quantity", "How many the customer bought last time", 2),
            TemplateVariable("runs_out_on", "When it should run out, YYYY-MM-DD", "2026-07-01"),
        ),
        planner=replenishment_plan,
        preview_context=order_preview_context,
        delay_meaning=(
            "How long before the customer is predicted to run out the reminder goes out."
        ),
        whatsapp_variables=("customer_first_name", "product_title", "product_url"),
    ),
    MessageKind(
        name=BIRTHDAY,
        label=_("Birthday"),
        trigger=TRIGGER_CUSTOMER_DATE,
        channels=_TEXTS,
        purpose=Purpose.MARKETING,
        delay=timedelta(hours=10),
        useful_for=timedelta(hours=12),
        conditions=(("occasion", BIRTHDAY),),
        variables=(*_CUSTOMER_VARIABLES, _PREFERENCES_URL),
        preview_context=order_preview_context,
        delay_meaning=_FROM_LOCAL_MIDNIGHT,
        whatsapp_variables=_OCCASION_WHATSAPP,
    ),
    MessageKind(
        name=ANNIVERSARY,
        label=_("First order anniversary"),
        trigger=TRIGGER_CUSTOMER_DATE,
        channels=_TEXTS,
        purpose=Purpose.MARKETING,
        delay=timedelta(hours=10),
        useful_for=timedelta(hours=12),
        conditions=(("occasion", ANNIVERSARY),),
        variables=(
            *_CUSTOMER_VARIABLES,
            TemplateVariable("years", "How many years since their first order", 1),
            TemplateVariable("order_number", "Their first order's number", "#1001"),
            TemplateVariable(
                "first_order_date", "The date of their first order, YYYY-MM-DD", "2025-06-10"
            ),
            _PREFERENCES_URL,
        ),
        preview_context=order_preview_context,
        delay_meaning=_FROM_LOCAL_MIDNIGHT,
        whatsapp_variables=_OCCASION_WHATSAPP,
    ),
)
