"""The demo customer: the one member whose loyalty page the seed's summary links to, picked so
that the walk through the programme works from their page. A Silver member (the next tier, with
its perks, in reach) with an order delivered in the last days, whose points are pending and
confirm when its return window closes, with items that can still be returned; and enough
points, once that order confirms, to buy a reward (customer service's goodwill for a late
parcel tops them up when their year left them short)."""

from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.db.models import Q

from loyalty.demo.history import Account, DemoOrder, History
from loyalty.ledger import Booking
from loyalty.models import EntryKind, LedgerEntry, Member, Subject
from orders.models import Customer, FinancialStatus, OrderStatus, Shop

# The staff adjustment that marks the demo customer: `demo_customer_find` looks for it.
GOODWILL_KEY = "adjust:demo-goodwill"
GOODWILL_REASON = "Goodwill from customer service: a parcel arrived late"


@dataclass(frozen=True)
class DemoCustomer:
    customer_id: int
    order: DemoOrder


def demo_customer_pick(history: History) -> DemoCustomer | None:
    """After `history.run`: a Silver member (else a Bronze one) with the most orders in the
    year among those with such a delivered order."""
    now, window = history.now, history.window
    returned = set(
        apps.get_model("returns", "ReturnRequest")
        .objects.filter(shop=history.shop)
        .values_list("order_id", flat=True)
    )
    candidates = []
    for customer_id, orders in history.by_customer.items():
        account = history.accounts.get(customer_id)
        tier = account.member.tier if account is not None else None
        if tier is None or tier.rank == history.tiers[-1].rank:
            continue
        recent = [
            o
            for o in orders
            if o.status == OrderStatus.DELIVERED
            and o.financial_status == FinancialStatus.PAID
            and o.delivered_at is not None
            and now - window + timedelta(days=7) <= o.delivered_at <= now - timedelta(days=1)
            and o.paid_at > history.launched_at
            and o.pk not in returned
            and o.lines
        ]
        if recent:
            since = sum(1 for o in orders if o.paid_at > history.launched_at)
            candidates.append((-tier.rank, -since, customer_id, recent[-1]))
    # Whose page is in English: the language of the seed's summary and of the walk.
    english = set(
        Customer.objects.filter(pk__in=[c[2] for c in candidates])
        .filter(Q(locale="") | Q(locale__startswith="en"))
        .values_list("pk", flat=True)
    )
    candidates = [c for c in candidates if c[2] in english]
    if not candidates:
        return None
    *_, customer_id, order = min(candidates, key=lambda c: c[:3])
    return DemoCustomer(customer_id, order)


def demo_customer_goodwill(history: History, demo: DemoCustomer) -> Account | None:
    """After `history.run`: the staff adjustment, last in the customer's year, enough for a
    reward once their delivered order confirms."""
    account = history.accounts.get(demo.customer_id)
    if account is None:
        return None
    member = account.member
    cheapest = history.demo.rewards[0].points_price
    short = cheapest + 100 - member.available - account.order_pending.get(demo.order.pk, 0)
    points = max(100, -(-short // 50) * 50)
    at = max(member.updated_at + timedelta(minutes=5), history.now - timedelta(days=2))
    history.ledger.book(
        account,
        Booking(
            kind=EntryKind.ADJUST,
            key=GOODWILL_KEY,
            subject=Subject.STAFF,
            available=points,
            reason=GOODWILL_REASON,
            at=at,
        ),
    )
    return account


def demo_customer_find(shop: Shop) -> Member | None:
    """The demo customer's membership in `shop` (None in any other shop)."""
    entry = (
        LedgerEntry.objects.filter(shop=shop, idempotency_key=GOODWILL_KEY)
        .select_related("member__customer")
        .first()
    )
    return entry.member if entry is not None else None
