from decimal import ROUND_HALF_UP, Decimal

from django import template

register = template.Library()

CENT = Decimal("0.01")


@register.filter
def money(amount: Decimal | None, currency: str = "") -> str:
    """`1234.5|money:"USD"` → "1,234.50 USD": grouped digits, two places, then the code."""
    if amount is None:
        return ""
    value = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    return f"{value:,.2f} {currency}".strip()
