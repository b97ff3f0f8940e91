"""Ops' admin of the ledger: they may read and search it, never add, change or delete."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from loyalty.models import LedgerEntry, Member, OrderEarning, PointLot
from tests.factories import ShopFactory
from tests.loyalty.page_helpers import member_with_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(client):
    user = User.objects.create_superuser("ops", "ops@example.com", "pass-word-123")
    client.force_login(user)
    return client


def test_ops_find_entries_by_key_and_by_customer_email(ops):
    member = member_with_history(ShopFactory())
    other = member_with_history(ShopFactory())
    url = reverse("admin:loyalty_ledgerentry_changelist")

    by_key = ops.get(url, {"q": "review:1"})
    by_email = ops.get(url, {"q": member.customer.email})
    by_kind = ops.get(url, {"kind__exact": "expire"})

    assert by_key.status_code == 200
    assert by_email.context["cl"].result_count == 8
    assert other.customer.email not in str(by_email.content)
    assert by_kind.context["cl"].result_count == 2


def test_entries_cannot_be_changed_or_deleted_from_admin(ops):
    member = member_with_history(ShopFactory())
    entry = LedgerEntry.objects.filter(member=member).first()

    change = ops.post(
        reverse("admin:loyalty_ledgerentry_change", args=[entry.pk]), {"reason": "edited"}
    )
    delete = ops.post(reverse("admin:loyalty_ledgerentry_delete", args=[entry.pk]), {"post": "yes"})
    add = ops.get(reverse("admin:loyalty_ledgerentry_add"))

    assert change.status_code == 403
    assert delete.status_code == 403
    assert add.status_code == 403
    entry.refresh_from_db()
    assert entry.reason == ""
    assert LedgerEntry.objects.filter(member=member).count() == 8


@pytest.mark.parametrize("model", [Member, PointLot, OrderEarning])
def test_members_lots_and_earnings_are_read_only(ops, model):
    member_with_history(ShopFactory())
    name = model._meta.model_name
    row = model.objects.first()

    listing = ops.get(reverse(f"admin:loyalty_{name}_changelist"))
    detail = ops.get(reverse(f"admin:loyalty_{name}_change", args=[row.pk]))

    assert listing.status_code == 200
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert (
        ops.post(
            reverse(f"admin:loyalty_{name}_delete", args=[row.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_members_are_found_by_email(ops):
    member = member_with_history(ShopFactory())
    member_with_history(ShopFactory())

    response = ops.get(reverse("admin:loyalty_member_changelist"), {"q": member.customer.email})

    assert response.context["cl"].result_count == 1
