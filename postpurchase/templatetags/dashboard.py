from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.template import defaultfilters

from postpurchase import message_kinds

register = template.Library()

CENT = Decimal("0.01")


@register.filter
def money(amount: Decimal | None, currency: str = "") -> str:
    """`1234.5|money:"USD"` → "1,234.50 USD": grouped digits, two places, then the code."""
    if amount is None:
        return ""
    value = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    return f"{value:,.2f} {currency}".strip()


# The dashboard's one way to write a day and a moment, on every page (a day alone: "Dec 6,
# 2026"; a moment: "Dec 6, 2026, 19:30", in the shop's zone the layout activates).
DASHBOARD_DATE_FORMAT = "M j, Y"
DASHBOARD_DATETIME_FORMAT = "M j, Y, H:i"


@register.filter(expects_localtime=True, is_safe=False)
def dashboard_date(value: date | datetime | None) -> str:
    """`order.placed_at|dashboard_date` → "Dec 6, 2026"."""
    return defaultfilters.date(value, DASHBOARD_DATE_FORMAT) if value else ""


@register.filter(expects_localtime=True, is_safe=False)
def dashboard_datetime(value: datetime | None) -> str:
    """`message.sent_at|dashboard_datetime` → "Dec 6, 2026, 19:30"."""
    return defaultfilters.date(value, DASHBOARD_DATETIME_FORMAT) if value else ""


@register.filter
def identifier_words(name: str) -> str:
    """`"shipment_status_changed"|identifier_words` → "Shipment status changed": a stored name
    that has no label of its own, read as words."""
    words = str(name).replace("_", " ").strip()
    return words[:1].upper() + words[1:]


@register.filter
def kind_label(name: str) -> str:
    """`"order_confirmation"|kind_label` → "Order confirmation"."""
    return message_kinds.kind_label(str(name))
