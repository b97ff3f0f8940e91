"""`/api/v1/customers/{id}/loyalty/`: balances, tier and the ledger paginated; adjustments
booked once per Idempotency-Key, refused beyond the balance, another shop's customer a 404."""

import pytest
from rest_framework.test import APIClient

from loyalty.ledger import member_for
from loyalty.models import EntryKind, LedgerEntry, Member
from orders.services.api_keys import api_key_create
from tests.factories import CustomerFactory, ShopFactory
from tests.loyalty.factories import LoyaltyProgrammeFactory, TierFactory
from tests.loyalty.page_helpers import credit, member_with_history

pytestmark = pytest.mark.django_db


def _client_for(shop) -> APIClient:
    _, raw = api_key_create(shop=shop, name="Storefront")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api(shop):
    LoyaltyProgrammeFactory(shop=shop)
    return _client_for(shop)


def _account(customer) -> str:
    return f"/api/v1/customers/{customer.pk}/loyalty/"


def _adjust(api, customer, body, key="adj-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(_account(customer) + "adjustments/", body, format="json", **headers)


def test_the_account_shows_balances_tier_and_the_newest_entries_first(api, shop):
    member = member_with_history(shop)
    gold = TierFactory(shop=shop, name="Gold", rank=1)
    Member.objects.filter(pk=member.pk).update(tier=gold)

    response = api.get(_account(member.customer))

    body = response.json()
    assert response.status_code == 200
    assert body["customer"] == member.customer.pk
    assert (body["available"], body["pending"], body["reserved"], body["spendable"]) == (
        120,
        80,
        0,
        120,
    )
    assert body["tier"] == {"id": gold.pk, "name": "Gold", "rank": 1}
    entries = body["entries"]
    assert entries["count"] == 8
    newest = entries["results"][0]
    assert (newest["kind"], newest["points"], newest["pending_delta"]) == ("earn", 80, 80)
    assert newest["idempotency_key"] == "earn:line:2"


def test_the_ledger_is_paginated(api, shop):
    member = member_for(CustomerFactory(shop=shop))
    for n in range(7):
        credit(member, n + 1, f"k{n}")

    first = api.get(_account(member.customer), {"page_size": 5}).json()["entries"]
    second = api.get(_account(member.customer), {"page_size": 5, "page": 2}).json()["entries"]

    assert first["count"] == 7
    assert [e["points"] for e in first["results"]] == [7, 6, 5, 4, 3]
    assert [e["points"] for e in second["results"]] == [2, 1]
    assert "page=2" in first["next"]
    assert second["next"] is None
    assert api.get(_account(member.customer), {"page": 3, "page_size": 5}).status_code == 404


def test_a_customer_who_never_earned_has_zero_and_no_row_is_made(api, shop):
    customer = CustomerFactory(shop=shop)

    body = api.get(_account(customer)).json()

    assert (body["available"], body["pending"], body["tier"]) == (0, 0, None)
    assert body["entries"] == {"count": 0, "next": None, "previous": None, "results": []}
    assert not Member.objects.filter(customer=customer).exists()


def test_an_adjustment_is_booked_once_and_a_retry_gets_the_same_answer(api, shop):
    customer = CustomerFactory(shop=shop)
    body = {"points": 250, "reason": "Goodwill after a late parcel"}

    first = _adjust(api, customer, body)
    retry = _adjust(api, customer, body)

    assert first.status_code == 201
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    entry = LedgerEntry.objects.get(member__customer=customer)
    assert (entry.kind, entry.available_delta, entry.reason) == (
        EntryKind.ADJUST,
        250,
        "Goodwill after a late parcel",
    )
    assert entry.idempotency_key == "adjust:adj-1"
    assert Member.objects.get(customer=customer).available == 250


def test_the_same_key_with_another_body_is_refused(api, shop):
    customer = CustomerFactory(shop=shop)
    _adjust(api, customer, {"points": 10, "reason": "first"})

    response = _adjust(api, customer, {"points": 99, "reason": "first"})

    assert response.status_code == 422
    assert response.json()["error"] == "idempotency key reused"
    assert Member.objects.get(customer=customer).available == 10


def test_a_debit_beyond_the_balance_is_a_conflict_and_books_nothing(api, shop):
    member = member_for(CustomerFactory(shop=shop))
    credit(member, 40, "start")

    response = _adjust(api, member.customer, {"points": -50, "reason": "Fraud"}, key="d1")
    retry = _adjust(api, member.customer, {"points": -50, "reason": "Fraud"}, key="d1")

    assert response.status_code == 409
    assert response.json() == {
        "error": "not enough points",
        "detail": "Not enough points: 50 to take, 40 spendable. Nothing was booked.",
    }
    assert retry.status_code == 409
    assert LedgerEntry.objects.filter(member=member).count() == 1
    assert Member.objects.get(pk=member.pk).available == 40


def test_an_adjustment_without_a_key_is_refused(api, shop):
    customer = CustomerFactory(shop=shop)

    response = _adjust(api, customer, {"points": 10, "reason": "x"}, key=None)

    assert response.status_code == 400
    assert response.json()["fields"] == {"Idempotency-Key": ["This header is required."]}
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"points": 0, "reason": "x"}, "points"),
        ({"points": 5}, "reason"),
        ({"points": 5, "reason": ""}, "reason"),
    ],
)
def test_an_adjustment_needs_points_and_a_reason(api, shop, body, field):
    customer = CustomerFactory(shop=shop)

    response = _adjust(api, customer, body)

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not LedgerEntry.objects.exists()


def test_another_shops_customer_is_a_404(api, shop):
    other_shop = ShopFactory()
    LoyaltyProgrammeFactory(shop=other_shop)
    stranger = member_for(CustomerFactory(shop=other_shop))
    credit(stranger, 100, "start")

    read = api.get(_account(stranger.customer))
    write = _adjust(api, stranger.customer, {"points": 5, "reason": "x"})

    assert read.status_code == 404
    assert write.status_code == 404
    assert Member.objects.get(pk=stranger.pk).available == 100


def test_a_shop_without_a_programme_answers_404(shop):
    customer = CustomerFactory(shop=shop)
    api = _client_for(shop)

    response = api.get(_account(customer))

    assert response.status_code == 404
    assert response.json()["detail"] == "This shop runs no loyalty programme."


def test_the_schema_documents_both_operations():
    schema = APIClient().get("/api/v1/openapi.json").json()

    account = schema["paths"]["/api/v1/customers/{id}/loyalty/"]["get"]
    adjust = schema["paths"]["/api/v1/customers/{id}/loyalty/adjustments/"]["post"]
    key = next(p for p in adjust["parameters"] if p["name"] == "Idempotency-Key")
    assert key["required"] is True
    assert {"200", "404"} <= set(account["responses"])
    assert {"201", "400", "409", "422"} <= set(adjust["responses"])
