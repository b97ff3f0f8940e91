"""The members list (search, filters, sorting, pagination, empty state) and a member's page
(balances, tier history, the ledger in words, lots) with the staff adjustment: a manager's,
with its reason, booked once however often it is submitted; refused for an agent in the view
and in the service; an overdraft refused with a clear error."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from loyalty.dashboard.selectors import MemberFilters, member_list_for_shop
from loyalty.ledger import Booking, entry_book, member_for
from loyalty.models import EntryKind, LedgerEntry, Member, PointLot, Subject, Tier, TierChange
from loyalty.programme.services import member_points_adjust
from orders.models import StaffRole
from postpurchase.exceptions import DomainError
from postpurchase.permissions import StaffPermissionDenied
from tests.factories import CustomerFactory, OrderFactory, ShopFactory, StaffMembershipFactory
from tests.loyalty.dashboard_helpers import programme_with_member

pytestmark = pytest.mark.django_db

MEMBERS = "/dashboard/loyalty/members/"


@pytest.fixture
def shop():
    return ShopFactory()


def _login(client, shop, role=StaffRole.MANAGER):
    user = StaffMembershipFactory(shop=shop, role=role).user
    client.force_login(user)
    return user


def _member(shop, email: str, first: str, last: str, points: int = 0, tier: Tier | None = None):
    member = member_for(CustomerFactory(shop=shop, email=email, first_name=first, last_name=last))
    if points:
        entry_book(
            member.pk,
            Booking(
                kind=EntryKind.ADJUST, key=f"seed:{email}", subject=Subject.STAFF, available=points
            ),
        )
    if tier is not None:
        Member.objects.filter(pk=member.pk).update(tier=tier)
    return member


def _names(html: str) -> list[str]:
    return re.findall(r'<a href="/dashboard/loyalty/members/\d+/">([^<]+)</a>', html)


@pytest.fixture
def members(shop):
    ada = programme_with_member(
        shop,
        CustomerFactory(shop=shop, email="ada@example.org", first_name="Ada", last_name="Lovelace"),
    )
    gold = Tier.objects.get(shop=shop, name="Gold")
    bob = _member(shop, "bob@example.org", "Bob", "Byte", points=50, tier=gold)
    cy = _member(shop, "cy@example.org", "Cy", "Cipher", points=900)
    # A member from before the programme had tiers: not yet placed in one.
    Member.objects.filter(pk=cy.pk).update(tier=None)
    # Cy's points expire within 30 days, Ada's in a year.
    PointLot.objects.filter(member=cy).update(expires_at=timezone.now() + timedelta(days=10))
    PointLot.objects.filter(member=ada).update(expires_at=timezone.now() + timedelta(days=365))
    return {"ada": ada, "bob": bob, "cy": cy}


def test_members_are_listed_by_balance_and_searched_by_email_or_name(client, shop, members):
    _login(client, shop, StaffRole.AGENT)

    assert _names(client.get(MEMBERS).content.decode()) == [
        "Cy Cipher",
        "Ada Lovelace",
        "Bob Byte",
    ]
    assert _names(client.get(MEMBERS, {"q": "BOB@example"}).content.decode()) == ["Bob Byte"]
    assert _names(client.get(MEMBERS, {"q": "lovelace"}).content.decode()) == ["Ada Lovelace"]


def test_members_are_filtered_by_tier_balance_and_points_expiring(client, shop, members):
    _login(client, shop)
    gold = Tier.objects.get(shop=shop, name="Gold")

    assert _names(client.get(MEMBERS, {"tier": gold.pk}).content.decode()) == ["Bob Byte"]
    assert _names(client.get(MEMBERS, {"tier": "none"}).content.decode()) == ["Cy Cipher"]
    assert _names(
        client.get(MEMBERS, {"balance_min": "100", "balance_max": "500"}).content.decode()
    ) == ["Ada Lovelace"]
    expiring = client.get(MEMBERS, {"expiring": "soon"}).content.decode()
    assert _names(expiring) == ["Cy Cipher"]
    assert "Expiring: Points expiring within 30 days" in expiring  # its removable chip


def test_members_sort_by_a_column_and_a_bad_sort_falls_back(client, shop, members):
    _login(client, shop)

    by_name = _names(client.get(MEMBERS, {"sort": "name"}).content.decode())
    assert by_name == ["Bob Byte", "Cy Cipher", "Ada Lovelace"]
    assert _names(client.get(MEMBERS, {"sort": "drop table"}).content.decode())[0] == "Cy Cipher"


def test_the_selector_annotates_points_expiring_soon(shop, members):
    rows = member_list_for_shop(shop=shop, filters=MemberFilters(), ordering=["pk"])
    expiring = {m.customer.first_name: m.expiring_points for m in rows}
    assert expiring == {"Ada": 0, "Bob": 0, "Cy": 900}


def test_a_shop_without_members_gets_an_empty_state(client, shop):
    _login(client, shop)
    html = client.get(MEMBERS).content.decode()
    assert "No members yet" in html
    html = client.get(MEMBERS, {"q": "nobody"}).content.decode()
    assert "No members match" in html


def test_the_members_list_paginates(client, shop):
    _login(client, shop)
    for n in range(52):
        member_for(CustomerFactory(shop=shop, email=f"m{n}@example.org"))

    first = client.get(MEMBERS).content.decode()
    second = client.get(MEMBERS, {"page": 2}).content.decode()

    assert "1–50 of 52" in first
    assert "51–52 of 52" in second


# A member's page ------------------------------------------------------------------------------


def test_a_members_page_shows_balances_tier_history_ledger_in_words_and_lots(client, shop):
    customer = CustomerFactory(shop=shop, email="ada@example.org", first_name="Ada")
    order = OrderFactory(shop=shop, customer=customer, number="#1042")
    member = programme_with_member(shop, customer, order)
    bronze, silver = Tier.objects.filter(shop=shop).order_by("rank")[:2]
    TierChange.objects.create(
        shop=shop,
        member=member,
        from_tier=bronze,
        to_tier=silver,
        reason="qualified",
        at=timezone.now(),
    )
    _login(client, shop, StaffRole.AGENT)

    html = client.get(reverse("loyalty_dashboard:member", args=[member.pk])).content.decode()

    assert '<dd id="available">300</dd>' in html
    assert '<dd id="pending">120</dd>' in html
    assert "+120 for order #1042 (pending)" in html
    assert "+200 birthday bonus" in html
    assert "+100 by staff: Welcome gift" in html
    assert "Bronze → Silver" in html
    assert "Qualified for a higher tier" in html
    # Agents read; they get no adjustment form.
    assert "Adjust points" not in html


def test_another_shops_member_is_not_found(client, shop):
    other = ShopFactory()
    member = programme_with_member(other, CustomerFactory(shop=other))
    _login(client, shop, StaffRole.OWNER)

    assert client.get(reverse("loyalty_dashboard:member", args=[member.pk])).status_code == 404
    response = client.post(
        reverse("loyalty_dashboard:member_adjust", args=[member.pk]),
        {"points": "10", "reason": "x", "key": "k"},
    )
    assert response.status_code == 404
    assert not LedgerEntry.objects.filter(member=member, idempotency_key="adjust:k").exists()


# Adjustments ----------------------------------------------------------------------------------


def _adjust(client, member, **data):
    return client.post(reverse("loyalty_dashboard:member_adjust", args=[member.pk]), data)


def test_a_managers_adjustment_is_booked_with_its_reason_and_actor_once(client, shop):
    member = programme_with_member(shop, CustomerFactory(shop=shop))
    manager = _login(client, shop, StaffRole.MANAGER)
    page = client.get(reverse("loyalty_dashboard:member", args=[member.pk])).content.decode()
    key = re.search(r'name="key" value="([0-9a-f]+)"', page).group(1)

    first = _adjust(client, member, points="-40", reason="Duplicate bonus", key=key)
    again = _adjust(client, member, points="-40", reason="Duplicate bonus", key=key)

    assert first.status_code == again.status_code == 302
    entry = LedgerEntry.objects.get(member=member, idempotency_key=f"adjust:{key}")
    assert (entry.kind, entry.available_delta, entry.reason, entry.actor) == (
        "adjust",
        -40,
        "Duplicate bonus",
        manager,
    )
    member.refresh_from_db()
    assert member.available == 260
    html = client.get(reverse("loyalty_dashboard:member", args=[member.pk])).content.decode()
    assert f"−40 by {manager.email}: Duplicate bonus" in html


def test_an_adjustment_is_refused_for_an_agent_in_the_view_and_the_service(client, shop):
    member = programme_with_member(shop, CustomerFactory(shop=shop))
    agent = _login(client, shop, StaffRole.AGENT)

    assert _adjust(client, member, points="10", reason="Nice", key="a1").status_code == 403
    with pytest.raises(StaffPermissionDenied):
        member_points_adjust(
            shop_id=shop.pk, member_id=member.pk, actor=agent, points=10, reason="Nice", key="a2"
        )
    assert not LedgerEntry.objects.filter(member=member, kind="adjust", actor=agent).exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"points": "0", "reason": "Nothing"}, "other than 0"),
        ({"points": "10", "reason": "   "}, "This field is required"),
        ({"points": "-301", "reason": "Too much"}, "Not enough points: the member can spend 300"),
    ],
)
def test_a_bad_adjustment_is_refused_next_to_the_form_and_books_nothing(client, shop, data, error):
    member = programme_with_member(shop, CustomerFactory(shop=shop))
    _login(client, shop, StaffRole.OWNER)
    entries = LedgerEntry.objects.filter(member=member).count()

    response = _adjust(client, member, key="bad-1", **data)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert LedgerEntry.objects.filter(member=member).count() == entries
    member.refresh_from_db()
    assert member.available == 300


def test_the_service_refuses_an_overdraft_with_a_domain_error(shop):
    member = programme_with_member(shop, CustomerFactory(shop=shop))
    owner = StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user

    with pytest.raises(DomainError, match="can spend 300"):
        member_points_adjust(
            shop_id=shop.pk, member_id=member.pk, actor=owner, points=-500, reason="x", key="o1"
        )
    with pytest.raises(DomainError, match="reason"):
        member_points_adjust(
            shop_id=shop.pk, member_id=member.pk, actor=owner, points=5, reason=" ", key="o2"
        )
