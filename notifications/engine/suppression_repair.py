"""Lifting the suppressions that an earlier send path created from a temporary refusal.

Before temporary SMTP refusals were told apart from permanent ones, a greylisting `451 4.7.1`
at the recipient step put the address on the shop's list as "invalid", so the customer
silently stopped getting order emails. Those suppressions kept smtplib's refusal as their
detail, `recipient_refused: {'ada@example.com': (451, b'4.7.1 Greylisted …')}`: the reply code
says which they are."""

import re

from django.db import transaction

from notifications.models import Suppression, SuppressionReason
from orders.models import Channel

# A reply as smtplib reports a refused recipient: `(451, b'…')`.
_REFUSAL_REPLY_CODE = re.compile(r"\((\d{3}), b['\"]")


def _is_temporary_refusal(detail: str) -> bool:
    codes = _REFUSAL_REPLY_CODE.findall(detail)
    return bool(codes) and all(code.startswith("4") for code in codes)


def suppressions_from_temporary_refusals(*, shop_id: int | None = None) -> list[Suppression]:
    """Email suppressions marked "invalid" whose stored refusal was a 4xx reply (try later)."""
    candidates = Suppression.objects.filter(
        channel=Channel.EMAIL, reason=SuppressionReason.INVALID
    ).select_related("shop")
    if shop_id is not None:
        candidates = candidates.filter(shop_id=shop_id)
    return [s for s in candidates.order_by("shop_id", "pk") if _is_temporary_refusal(s.detail)]


@transaction.atomic
def suppressions_lift_temporary_refusals(*, shop_id: int | None = None) -> list[Suppression]:
    """Take those addresses off their shops' lists, so the customers get their emails again.
    Returns the suppressions lifted."""
    found = suppressions_from_temporary_refusals(shop_id=shop_id)
    Suppression.objects.filter(pk__in=[s.pk for s in found]).delete()
    return found
