"""Staff see what was refused or flagged and why, filter by it, and clear or refuse a flagged
referral through its service; tiers' history is read-only."""

import pytest
from django.urls import reverse

from loyalty.models import Referral, ReferralStatus, TierChange
from loyalty.referrals.services import referral_invite
from tests.factories import CustomerFactory
from tests.loyalty.factories import three_tiers
from tests.loyalty.referral_helpers import (
    referral_programme,
    referral_shop,
    referrer_with_history,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def referrer():
    shop = referral_shop()
    referral_programme(shop)
    return referrer_with_history(shop)


def test_refused_and_flagged_referrals_are_listed_with_their_reasons(admin_client, referrer):
    referral_invite(member_id=referrer.pk, email="annasmith+x@gmail.com")
    referral_invite(member_id=referrer.pk, email="ben@example.com", device="d" * 64)
    referral_invite(member_id=referrer.pk, email="cleo@example.com", device="d" * 64)
    url = reverse("admin:loyalty_referral_changelist")

    refused = admin_client.get(url, {"status__exact": "refused"}).content.decode()
    flagged = admin_client.get(url, {"status__exact": "flagged"}).content.decode()

    assert "the friend&#x27;s email is the referrer&#x27;s" in refused
    assert "Flagged: the same device is behind 2 referrals." in flagged
    assert "ben@example.com" in flagged
    assert "ben@example.com" not in refused


def test_staff_clear_a_flagged_referral_with_the_action(admin_client, referrer):
    referral_invite(member_id=referrer.pk, email="ben@example.com", device="d" * 64)
    referral_invite(member_id=referrer.pk, email="cleo@example.com", device="d" * 64)
    ben = Referral.objects.get(friend__email="ben@example.com")

    admin_client.post(
        reverse("admin:loyalty_referral_changelist"),
        {"action": "clear_referrals", "_selected_action": [ben.pk]},
    )

    ben.refresh_from_db()
    assert ben.status == ReferralStatus.INVITED
    assert ben.reason.startswith("Cleared by admin")
    assert Referral.objects.get(friend__email="cleo@example.com").status == "flagged"


def test_tier_changes_are_read_only(admin_client):
    customer = CustomerFactory()
    three_tiers(customer.shop)
    from loyalty.ledger import member_for

    member_for(customer)
    change = TierChange.objects.get()

    page = admin_client.get(reverse("admin:loyalty_tierchange_change", args=[change.pk]))
    assert page.status_code == 200
    assert admin_client.get(reverse("admin:loyalty_tierchange_add")).status_code == 403
    assert admin_client.get(reverse("admin:loyalty_tier_changelist")).status_code == 200
