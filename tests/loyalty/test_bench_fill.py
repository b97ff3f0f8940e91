"""The benchmark's bulk fill of the ledger leaves what `entry_book` would: every member row
equal to the sum of its entries and its open lots holding its available points, so the
nightly check over the filled ledger measures a ledger that adds up."""

import pytest

from bench.loyalty import ledger_fill
from loyalty.earning.ledger_check import ledger_check
from loyalty.ledger import balances_summed
from loyalty.models import LedgerEntry, Member
from tests.factories import ShopFactory

pytestmark = pytest.mark.django_db


def test_the_filled_ledger_adds_up():
    shop = ShopFactory()

    inserted = ledger_fill(shop_id=shop.pk, customers=5, entries_per_member=8)

    members = list(Member.objects.filter(shop=shop))
    assert len(members) == 5
    assert inserted == 40 == LedgerEntry.objects.filter(shop=shop).count()
    summed = balances_summed([m.pk for m in members])
    for member in members:
        assert (member.available, member.pending) == summed[member.pk]
        assert member.available > 0
    run = ledger_check()
    assert (run.members_checked, run.drift) == (5, [])
