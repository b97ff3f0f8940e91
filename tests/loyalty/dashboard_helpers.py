"""A shop's programme with a member who has a history, for the dashboard's tests (and the
access matrix's world)."""

from datetime import datetime

from loyalty.ledger import Booking, entry_book, member_for
from loyalty.models import EntryKind, Member, Programme, Subject
from loyalty.programme.services import programme_start
from orders.models import Customer, Order


def programme_with_member(shop, customer: Customer, order: Order | None = None) -> Member:
    """The shop's default programme, and `customer` as a member in its lowest tier with 300
    points: 120 pending on `order` (when given), a 200-point birthday bonus and a staff
    adjustment of +100."""
    programme_start(shop_id=shop.pk, actor=None)
    member = member_for(customer)
    lowest = Programme.objects.get(shop=shop).shop.loyalty_tiers.order_by("rank").first()
    Member.objects.filter(pk=member.pk).update(tier=lowest)
    if order is not None:
        earn(member, 120, key=f"earn:order:{order.pk}", order=order)
    entry_book(
        member.pk,
        Booking(
            kind=EntryKind.EARN,
            key=f"birthday:{customer.pk}:2026",
            subject=Subject.BIRTHDAY,
            available=200,
        ),
    )
    entry_book(
        member.pk,
        Booking(
            kind=EntryKind.ADJUST,
            key=f"adjust:world-{member.pk}",
            subject=Subject.STAFF,
            available=100,
            reason="Welcome gift",
        ),
    )
    member.refresh_from_db()
    return member


def earn(
    member: Member, points: int, *, key: str, order: Order | None = None, at: datetime | None = None
):
    return entry_book(
        member.pk,
        Booking(
            kind=EntryKind.EARN,
            key=key,
            subject=Subject.ORDER,
            subject_id=order.pk if order else None,
            order_id=order.pk if order else None,
            pending=points,
            at=at,
        ),
    ).entry
