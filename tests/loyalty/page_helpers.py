"""A member with a history, for the loyalty page's and the API's tests."""

from datetime import timedelta

from django.utils import timezone

from loyalty.ledger import Booking, entry_book, member_for
from loyalty.models import EarningStatus, EntryKind, Member, OrderEarning, Subject
from tests.factories import CustomerFactory, OrderFactory


def book(member: Member, kind: EntryKind, key: str, subject: Subject, **fields):
    return entry_book(member.pk, Booking(kind=kind, key=key, subject=subject, **fields)).entry


def credit(member: Member, points: int, key: str):
    return book(member, EntryKind.ADJUST, key, Subject.STAFF, available=points)


def member_with_history(shop) -> Member:
    """Order #1042 earned 120 (confirmed), then its item came back; a review earned 50, a
    reward took 500 and 30 expired; order #1043's 80 points are still pending."""
    customer = CustomerFactory(shop=shop)
    member = member_for(customer)
    credit(member, 600, "adjust:opening")
    first = OrderFactory(shop=shop, customer=customer, number="#1042")
    book(member, EntryKind.EARN, "earn:line:1", Subject.ORDER_LINE, pending=120, order_id=first.pk)
    book(
        member,
        EntryKind.CONFIRM,
        f"confirm:order:{first.pk}",
        Subject.ORDER,
        pending=-120,
        available=120,
        order_id=first.pk,
    )
    book(member, EntryKind.CLAWBACK, "clawback:return_item:1", Subject.RETURN_ITEM, available=-120)
    book(member, EntryKind.EARN, "review:1", Subject.REVIEW, available=50, subject_id=1)
    book(member, EntryKind.REDEEM, "redeem:1", Subject.REDEMPTION, available=-500)
    book(member, EntryKind.EXPIRE, "expire:lot:1", Subject.LOT, available=-30)
    second = OrderFactory(shop=shop, customer=customer, number="#1043")
    book(member, EntryKind.EARN, "earn:line:2", Subject.ORDER_LINE, pending=80, order_id=second.pk)
    OrderEarning.objects.create(
        shop=shop,
        member=member,
        order=second,
        status=EarningStatus.PENDING,
        confirm_at=timezone.now() + timedelta(days=20),
    )
    member.refresh_from_db()
    return member
