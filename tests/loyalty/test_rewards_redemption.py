"""Redeeming points for a reward: the points are held first and booked only once the code
exists (in Shopify when the shop is connected, else the shop's own code), released when Shopify
refuses it, never released blindly when the outcome is unknown; two redemptions racing for the
same points get one code and one "not enough points"."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from loyalty.ledger import Booking, NotEnoughPoints, entry_book, member_for
from loyalty.models import EntryKind, LedgerEntry, Member, Redemption, RewardKind, Subject
from loyalty.rewards import issuing
from loyalty.rewards.issuing import RETRY_COUNTDOWNS, STUCK_AFTER, redemptions_settle_stuck
from loyalty.rewards.redemption import RewardNotAffordable, RewardNotRedeemable, reward_redeem
from loyalty.tasks import redemption_issue_task
from postpurchase.queue import Enqueue
from tests.factories import CustomerFactory, ProductFactory, ShopFactory, VariantFactory
from tests.loyalty.factories import RewardFactory

pytestmark = pytest.mark.django_db

GRAPHQL = "/admin/api/2026-10/graphql.json"
NODE = "gid://shopify/DiscountCodeNode/1057371270"


def funded(shop, points: int) -> Member:
    member = member_for(CustomerFactory(shop=shop))
    entry_book(
        member.pk, Booking(EntryKind.ADJUST, f"fund:{member.pk}", Subject.STAFF, available=points)
    )
    member.refresh_from_db()
    return member


def balances(member: Member) -> tuple[int, int]:
    member.refresh_from_db()
    return member.available, member.reserved


def redeemed_entries(member: Member) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(member=member, kind=EntryKind.REDEEM))


def issue_tasks(callbacks: list) -> list[Enqueue]:
    return [
        callback
        for callback in callbacks
        if isinstance(callback, Enqueue) and callback.name == redemption_issue_task.name
    ]


@pytest.fixture
def shopify(httpserver, settings, shop):
    """The shop connected to a local fake Shopify."""
    settings.SHOPIFY_ADMIN_API_URL = httpserver.url_for("/admin/api/2026-10")
    shop.shopify_access_token = "shpat_loyal"
    shop.save()
    return httpserver


def answers(shopify, data=None, *, status: int = 200) -> None:
    shopify.expect_oneshot_request(GRAPHQL, method="POST").respond_with_json(
        {"data": data}, status=status
    )


def created(name: str = "discountCodeBasicCreate") -> dict:
    return {name: {"codeDiscountNode": {"id": NODE}, "userErrors": []}}


def sent(shopify, index: int) -> dict:
    return json.loads(shopify.log[index][0].get_data())


# --- The shop's own code -----------------------------------------------------------------------


def test_without_shopify_the_code_is_issued_at_once_and_the_points_booked(shop):
    member = funded(shop, 1000)
    reward = RewardFactory(shop=shop, points_price=400, valid_days=30)

    redemption = reward_redeem(member=member, reward=reward, key="click-1")

    assert redemption.status == "issued"
    assert redemption.code.startswith("RW-")
    assert redemption.platform_discount_id == ""
    assert redemption.ends_at.date() == (timezone.now() + timedelta(days=30)).date()
    assert balances(member) == (600, 0)
    [entry] = redeemed_entries(member)
    assert entry.idempotency_key == f"redeem:{redemption.pk}"
    assert entry.available_delta == -400


def test_the_same_click_twice_redeems_once(shop):
    member = funded(shop, 1000)
    reward = RewardFactory(shop=shop, points_price=400)

    first = reward_redeem(member=member, reward=reward, key="click-1")
    again = reward_redeem(member=member, reward=reward, key="click-1")

    assert again.pk == first.pk
    assert balances(member) == (600, 0)


def test_not_enough_points_is_refused_with_a_clear_message_and_changes_nothing(shop):
    member = funded(shop, 300)
    reward = RewardFactory(shop=shop, points_price=400)

    with pytest.raises(RewardNotAffordable) as refused:
        reward_redeem(member=member, reward=reward, key="click-1")

    assert isinstance(refused.value, NotEnoughPoints)
    assert str(refused.value) == (
        "Not enough points: this reward costs 400 points and 300 are available."
    )
    assert balances(member) == (300, 0)
    assert not Redemption.objects.exists()


def test_another_shops_or_an_inactive_reward_cannot_be_redeemed(shop, other_shop):
    member = funded(shop, 1000)
    for reward in (
        RewardFactory(shop=other_shop),
        RewardFactory(shop=shop, is_active=False),
    ):
        with pytest.raises(RewardNotRedeemable):
            reward_redeem(member=member, reward=reward, key=f"click-{reward.pk}")
    assert balances(member) == (1000, 0)


@pytest.mark.django_db(transaction=True)
def test_two_redemptions_racing_for_the_same_points_one_wins_the_other_is_refused():
    shop = ShopFactory()
    member = funded(shop, 600)
    reward = RewardFactory(shop=shop, points_price=500)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def redeem(key: str) -> None:
        barrier.wait()
        try:
            outcomes.append(reward_redeem(member=member, reward=reward, key=key).status)
        except NotEnoughPoints:
            outcomes.append("not enough points")
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem, args=(key,)) for key in ("tab-1", "tab-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["issued", "not enough points"]
    assert balances(member) == (100, 0)
    assert Redemption.objects.filter(member=member).count() == 1
    assert (
        min(LedgerEntry.objects.filter(member=member).values_list("available_after", flat=True))
        >= 0
    )


# --- A Shopify code ------------------------------------------------------------------------------


def test_with_shopify_the_points_are_held_until_the_code_is_created_for_that_customer_once(
    shop, shopify, django_capture_on_commit_callbacks
):
    member = funded(shop, 1000)
    reward = RewardFactory(shop=shop, kind=RewardKind.PERCENT_OFF, value=15, points_price=400)

    with django_capture_on_commit_callbacks() as callbacks:
        redemption = reward_redeem(member=member, reward=reward, key="click-1")
    assert redemption.status == "reserved"
    assert balances(member) == (1000, 400)
    assert not redeemed_entries(member)
    [task] = issue_tasks(callbacks)

    answers(shopify, created())
    redemption_issue_task(*task.args)

    redemption.refresh_from_db()
    assert redemption.status == "issued"
    assert redemption.platform_discount_id == NODE
    assert balances(member) == (600, 0)
    assert len(redeemed_entries(member)) == 1
    discount = sent(shopify, 0)["variables"]["basicCodeDiscount"]
    assert discount["code"] == redemption.code
    assert discount["context"] == {
        "customers": {"add": [f"gid://shopify/Customer/{member.customer.external_id}"]}
    }
    assert discount["usageLimit"] == 1
    assert discount["appliesOncePerCustomer"] is True
    assert discount["endsAt"] == redemption.ends_at.isoformat()
    assert discount["customerGets"]["value"] == {"percentage": 0.15}


def test_a_code_shopify_refuses_releases_the_points_with_the_reason(shop, shopify):
    member = funded(shop, 1000)
    reward = RewardFactory(shop=shop, points_price=400)
    redemption = reward_redeem(member=member, reward=reward, key="click-1")
    refusal = {
        "discountCodeBasicCreate": {
            "codeDiscountNode": None,
            "userErrors": [{"field": ["code"], "code": "TAKEN", "message": "Code must be unique"}],
        }
    }
    answers(shopify, refusal)

    redemption_issue_task(redemption.pk)

    redemption.refresh_from_db()
    assert redemption.status == "failed"
    assert "Code must be unique" in redemption.failure_reason
    assert balances(member) == (1000, 0)
    assert not redeemed_entries(member)


def test_an_unknown_outcome_is_looked_up_by_code_and_issued_when_found(shop, shopify):
    member = funded(shop, 1000)
    reward = RewardFactory(shop=shop, points_price=400)
    redemption = reward_redeem(member=member, reward=reward, key="click-1")
    answers(shopify, status=502)  # the create may have reached Shopify
    answers(shopify, {"codeDiscountNodeByCode": {"id": NODE}})

    redemption_issue_task(redemption.pk)

    redemption.refresh_from_db()
    assert sent(shopify, 1)["variables"] == {"code": redemption.code}
    assert redemption.status == "issued"
    assert redemption.platform_discount_id == NODE
    assert balances(member) == (600, 0)


def test_an_unknown_outcome_not_found_keeps_the_points_held_and_asks_again(
    shop, shopify, django_capture_on_commit_callbacks
):
    member = funded(shop, 1000)
    reward = RewardFactory(shop=shop, points_price=400)
    redemption = reward_redeem(member=member, reward=reward, key="click-1")
    answers(shopify, status=502)
    answers(shopify, {"codeDiscountNodeByCode": None})

    with django_capture_on_commit_callbacks() as callbacks:
        redemption_issue_task(redemption.pk)

    redemption.refresh_from_db()
    assert redemption.status == "reserved"
    assert balances(member) == (1000, 400)
    [task] = issue_tasks(callbacks)
    assert task.args == (redemption.pk, 1)


def test_a_transient_failure_is_asked_again_later_looking_the_code_up_first(
    shop, shopify, django_capture_on_commit_callbacks
):
    member = funded(shop, 1000)
    reward = RewardFactory(shop=shop, kind=RewardKind.FREE_SHIPPING, value=0, points_price=400)
    redemption = reward_redeem(member=member, reward=reward, key="click-1")
    answers(shopify, status=429)

    with django_capture_on_commit_callbacks() as callbacks:
        redemption_issue_task(redemption.pk)

    redemption.refresh_from_db()
    assert redemption.status == "reserved"
    assert "not created yet" in redemption.failure_reason
    [retry] = issue_tasks(callbacks)
    assert (retry.args, retry.countdown) == ((redemption.pk, 1), RETRY_COUNTDOWNS[0])

    answers(shopify, {"codeDiscountNodeByCode": None})
    answers(shopify, created("discountCodeFreeShippingCreate"))
    redemption_issue_task(*retry.args)

    redemption.refresh_from_db()
    assert redemption.status == "issued"
    assert "freeShippingCodeDiscount" in sent(shopify, 2)["variables"]
    assert balances(member) == (600, 0)


def test_the_sweep_settles_stuck_redemptions_by_asking_shopify_for_their_code(shop, shopify):
    member = funded(shop, 1000)
    reward = RewardFactory(shop=shop, points_price=300)
    found = reward_redeem(member=member, reward=reward, key="click-1")
    lost = reward_redeem(member=member, reward=reward, key="click-2")
    recent = reward_redeem(member=member, reward=reward, key="click-3")
    early = timezone.now() - STUCK_AFTER - timedelta(minutes=1)
    Redemption.objects.filter(pk__in=[found.pk, lost.pk]).update(created_at=early)
    answers(shopify, {"codeDiscountNodeByCode": {"id": NODE}})
    answers(shopify, {"codeDiscountNodeByCode": None})

    assert redemptions_settle_stuck() == 2

    statuses = dict(Redemption.objects.values_list("pk", "status"))
    assert statuses == {found.pk: "issued", lost.pk: "failed", recent.pk: "reserved"}
    assert balances(member) == (700, 300)
    assert [e.idempotency_key for e in redeemed_entries(member)] == [f"redeem:{found.pk}"]


def test_a_code_created_while_the_sweep_released_it_is_deleted_again(shop, shopify, monkeypatch):
    member = funded(shop, 1000)
    reward = RewardFactory(shop=shop, points_price=300)
    redemption = reward_redeem(member=member, reward=reward, key="click-1")
    Redemption.objects.filter(pk=redemption.pk).update(
        created_at=timezone.now() - STUCK_AFTER - timedelta(minutes=1)
    )
    create = issuing.discount_code_create

    def sweep_meanwhile(*args, **kwargs):
        redemptions_settle_stuck()  # a slow create: the sweep finds no code yet
        return create(*args, **kwargs)

    monkeypatch.setattr(issuing, "discount_code_create", sweep_meanwhile)
    answers(shopify, {"codeDiscountNodeByCode": None})
    answers(shopify, created())
    answers(shopify, {"discountCodeDelete": {"deletedCodeDiscountId": NODE, "userErrors": []}})

    redemption_issue_task(redemption.pk)

    redemption.refresh_from_db()
    assert redemption.status == "failed"
    assert sent(shopify, 2)["variables"] == {"id": NODE}
    assert balances(member) == (1000, 0)
    assert not redeemed_entries(member)


def test_the_sweep_releases_a_stuck_redemption_shopify_will_not_look_up(shop, shopify):
    member = funded(shop, 1000)
    redemption = reward_redeem(member=member, reward=RewardFactory(shop=shop), key="click-1")
    Redemption.objects.filter(pk=redemption.pk).update(
        created_at=timezone.now() - STUCK_AFTER - timedelta(minutes=1)
    )
    shopify.expect_oneshot_request(GRAPHQL, method="POST").respond_with_data("", status=401)

    assert redemptions_settle_stuck() == 1

    redemption.refresh_from_db()
    assert redemption.status == "failed"
    assert "could not be looked up" in redemption.failure_reason
    assert balances(member) == (1000, 0)


def test_a_free_product_code_takes_one_units_price_off_that_product_only(shop, shopify):
    product = ProductFactory(shop=shop)
    VariantFactory(product=product, shop=shop, price="12.50")
    VariantFactory(product=product, shop=shop, price="14.00")
    member = funded(shop, 1000)
    reward = RewardFactory(
        shop=shop, kind=RewardKind.FREE_PRODUCT, value=0, product=product, points_price=700
    )
    redemption = reward_redeem(member=member, reward=reward, key="click-1")
    answers(shopify, created())

    redemption_issue_task(redemption.pk)

    gets = sent(shopify, 0)["variables"]["basicCodeDiscount"]["customerGets"]
    assert gets["items"] == {
        "products": {"productsToAdd": [f"gid://shopify/Product/{product.external_id}"]}
    }
    assert gets["value"]["discountAmount"]["amount"] == "14.00"
    assert balances(member) == (300, 0)
