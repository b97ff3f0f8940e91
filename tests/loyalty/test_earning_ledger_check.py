"""The nightly check finds a balance row that is not the sum of its entries, records it and
logs the member's id (and nothing personal)."""

import logging

import pytest
from django.db import connection
from django.urls import reverse

from loyalty.earning.ledger_check import ledger_check
from loyalty.ledger import Booking, entry_book, member_for
from loyalty.models import EntryKind, LedgerCheck, Subject
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_a_ledger_that_adds_up_shows_no_drift(shop):
    for n in range(3):
        member = member_for(CustomerFactory(shop=shop))
        entry_book(
            member.pk, Booking(EntryKind.EARN, f"e{n}", Subject.REVIEW, available=10 * n + 1)
        )
        entry_book(member.pk, Booking(EntryKind.EARN, f"p{n}", Subject.ORDER_LINE, pending=5))

    run = ledger_check(batch=2)

    assert (run.members_checked, run.drift) == (3, [])


def test_a_balance_changed_by_hand_is_found_and_logged_by_member_id(shop, caplog):
    customer = CustomerFactory(shop=shop, email="private@example.org")
    honest = member_for(CustomerFactory(shop=shop))
    drifted = member_for(customer)
    for member in (honest, drifted):
        entry_book(
            member.pk, Booking(EntryKind.EARN, f"e{member.pk}", Subject.REVIEW, available=50)
        )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE loyalty_member SET available = 500 WHERE id = %s", [drifted.pk])

    with caplog.at_level(logging.ERROR, logger="loyalty.earning.ledger_check"):
        run = ledger_check()

    assert run.drift == [
        {
            "member_id": drifted.pk,
            "shop_id": shop.pk,
            "stored": {"available": 500, "pending": 0},
            "summed": {"available": 50, "pending": 0, "lots": 50},
        }
    ]
    assert LedgerCheck.objects.get() == run
    (record,) = caplog.records
    assert str(drifted.pk) in record.getMessage()
    assert "private@example.org" not in record.getMessage()


def test_ops_read_the_checks_in_admin_and_cannot_change_them(admin_client):
    run = LedgerCheck.objects.create(
        members_checked=2,
        drift=[{"member_id": 41, "shop_id": 1, "stored": {}, "summed": {}}],
    )
    listed = admin_client.get(reverse("admin:loyalty_ledgercheck_changelist"))
    shown = admin_client.get(reverse("admin:loyalty_ledgercheck_change", args=[run.pk]))

    assert listed.status_code == shown.status_code == 200
    assert "&quot;member_id&quot;: 41" in shown.content.decode()
    assert admin_client.get(reverse("admin:loyalty_ledgercheck_add")).status_code == 403
    admin_client.post(reverse("admin:loyalty_ledgercheck_delete", args=[run.pk]), {"post": "yes"})
    assert LedgerCheck.objects.filter(pk=run.pk).exists()
