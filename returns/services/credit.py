"""The store-credit ledger: credit issued for returns (and later spent or granted by loyalty)."""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum

from orders.models import Customer
from returns.models import ReturnRequest, StoreCreditEntry


def store_credit_issue(
    *,
    customer: Customer,
    amount: Decimal,
    currency: str,
    reason: str,
    dedupe_key: str,
    return_request: ReturnRequest | None = None,
) -> tuple[StoreCreditEntry, bool]:
    """Add an entry once: a repeat with the same key returns the first."""
    try:
        with transaction.atomic():
            entry = StoreCreditEntry.objects.create(
                shop_id=customer.shop_id,
                customer=customer,
                amount=amount,
                currency=currency,
                reason=reason[:200],
                return_request=return_request,
                dedupe_key=dedupe_key,
            )
    except IntegrityError:
        return StoreCreditEntry.objects.get(dedupe_key=dedupe_key), False
    return entry, True


def store_credit_balance(*, customer: Customer, currency: str) -> Decimal:
    total = StoreCreditEntry.objects.filter(customer=customer, currency=currency).aggregate(
        total=Sum("amount")
    )["total"]
    return total or Decimal("0.00")
