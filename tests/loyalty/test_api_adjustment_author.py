"""An adjustment made through the API names the key that made it, wherever the entry is read:
the API's answer and ledger, the member's page in the dashboard and the ops admin. A staff
adjustment still names the staff member."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from rest_framework.test import APIClient

from loyalty.models import LedgerEntry, Member
from loyalty.programme.services import member_points_adjust, programme_start
from orders.models import StaffRole
from orders.services.api_keys import api_key_create
from tests.factories import CustomerFactory, ShopFactory, StaffMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    shop = ShopFactory()
    programme_start(shop_id=shop.pk, actor=None)
    return shop


def _api_adjust(shop, customer, *, name: str = "Helpdesk sync", idempotency: str = "ticket-881"):
    key, raw = api_key_create(shop=shop, name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.post(
        f"/api/v1/customers/{customer.pk}/loyalty/adjustments/",
        {"points": 40, "reason": "Parcel arrived damaged"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency,
    )
    return key, client, response


def test_an_api_adjustment_names_its_key_in_the_answer_and_the_ledger(shop):
    customer = CustomerFactory(shop=shop)

    key, client, response = _api_adjust(shop, customer)

    assert response.status_code == 201
    named = {"id": key.pk, "name": "Helpdesk sync", "prefix": key.prefix}
    assert response.json()["api_key"] == named
    entry = LedgerEntry.objects.get(member__customer=customer)
    assert (entry.api_key, entry.actor) == (key, None)
    ledger = client.get(f"/api/v1/customers/{customer.pk}/loyalty/").json()["entries"]["results"]
    assert ledger[0]["api_key"]["name"] == "Helpdesk sync"


def test_the_members_page_and_the_admin_show_the_key_and_the_staff_member(client, shop):
    customer = CustomerFactory(shop=shop)
    _api_adjust(shop, customer)
    owner = StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user
    member = Member.objects.get(customer=customer)
    member_points_adjust(
        shop_id=shop.pk,
        member_id=member.pk,
        actor=owner,
        points=10,
        reason="Birthday mix-up",
        key="staff-1",
    )
    client.force_login(owner)

    page = client.get(reverse("loyalty_dashboard:member", args=[member.pk])).content.decode()

    assert "+40 by API key “Helpdesk sync”: Parcel arrived damaged" in page
    assert f"+10 by {owner.email}: Birthday mix-up" in page
    staff_entry = LedgerEntry.objects.get(idempotency_key="adjust:staff-1")
    assert (staff_entry.actor, staff_entry.api_key) == (owner, None)

    ops = User.objects.create_superuser("ops", "ops@example.com", "pass-word-123")
    client.force_login(ops)
    listing = client.get(reverse("admin:loyalty_ledgerentry_changelist"), {"q": "adjust:"})
    assert "API key Helpdesk sync (" in listing.content.decode()
    assert str(owner) in listing.content.decode()


def test_a_dashboard_visit_to_a_member_with_api_entries_reads_a_fixed_number_of_queries(
    client, shop, django_assert_max_num_queries
):
    customer = CustomerFactory(shop=shop)
    for n in range(3):
        _api_adjust(shop, customer, name=f"Key {n}", idempotency=f"ticket-{n}")
    owner = StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user
    client.force_login(owner)
    member = Member.objects.get(customer=customer)
    url = reverse("loyalty_dashboard:member", args=[member.pk])
    client.get(url)

    with django_assert_max_num_queries(40) as captured:
        client.get(url)
    assert not [q for q in captured.captured_queries if 'FROM "orders_apikey"' in q["sql"]]
