"""Points expire by lot on their own date, what redemption left of each; the reminder goes
out the programme's days before, once for the lots it covers."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from loyalty.earning.expiry import expiry_reminders_send, lots_expire_due
from loyalty.ledger import Booking, entry_book, member_for
from loyalty.models import EntryKind, LedgerEntry, PointLot, Subject
from notifications.models import Message
from tests.factories import CustomerFactory
from tests.loyalty.earning_helpers import balance
from tests.loyalty.factories import LoyaltyProgrammeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(shop):
    LoyaltyProgrammeFactory(shop=shop, expiry_months=12, expiry_reminder_days=30)
    return member_for(CustomerFactory(shop=shop))


def _credit(member, points, key, at):
    booking = Booking(EntryKind.EARN, key, Subject.BIRTHDAY, available=points, at=at)
    return PointLot.objects.get(entry=entry_book(member.pk, booking).entry)


def test_three_lots_spent_soonest_first_then_each_expires_on_its_own_date(member):
    now = timezone.now()
    oldest = _credit(member, 100, "a", now - timedelta(days=300))
    middle = _credit(member, 100, "b", now - timedelta(days=200))
    newest = _credit(member, 100, "c", now - timedelta(days=100))
    entry_book(member.pk, Booking(EntryKind.REDEEM, "r", Subject.REDEMPTION, available=-150))
    remaining = [PointLot.objects.get(pk=lot.pk).remaining for lot in (oldest, middle, newest)]
    assert remaining == [0, 50, 100]

    assert lots_expire_due(now=oldest.expires_at + timedelta(hours=1)) == 0  # spent already
    assert lots_expire_due(now=middle.expires_at + timedelta(hours=1)) == 1
    assert balance(member) == (100, 0)
    assert lots_expire_due(now=middle.expires_at + timedelta(hours=2)) == 0
    assert lots_expire_due(now=newest.expires_at + timedelta(hours=1)) == 1

    expired = LedgerEntry.objects.filter(kind=EntryKind.EXPIRE).order_by("pk")
    assert [(e.available_delta, e.idempotency_key) for e in expired] == [
        (-50, f"expire:lot:{middle.pk}"),
        (-100, f"expire:lot:{newest.pk}"),
    ]
    member.refresh_from_db()
    assert (member.available, member.lifetime_expired) == (0, 150)


def test_the_expiry_reminder_goes_once_for_the_lots_it_covers(member):
    now = timezone.now()
    first = _credit(member, 80, "a", now - timedelta(days=350))  # expires in ~15 days
    second = _credit(member, 40, "b", now - timedelta(days=345))  # in ~20 days
    later = _credit(member, 10, "c", now - timedelta(days=100))

    assert expiry_reminders_send(now=now) == 1
    assert expiry_reminders_send(now=now) == 0
    (message,) = Message.objects.filter(kind="loyalty_points_expiring")
    assert message.context["points"] == 120
    assert (message.about_type, message.about_id) == ("lot", first.pk)
    reminded = PointLot.objects.filter(reminded_at__isnull=False)
    assert set(reminded.values_list("pk", flat=True)) == {first.pk, second.pk}

    # The later lot has its own reminder, when its day comes.
    with time_machine.travel(later.expires_at - timedelta(days=29), tick=False):
        assert expiry_reminders_send() == 1
    assert PointLot.objects.get(pk=later.pk).reminded_at is not None
