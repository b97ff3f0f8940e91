"""What becomes of a reward's code: a Shopify order carrying it marks it used, once; unused by
its end date, its points return, once, and its Shopify discount is deleted; a granted code goes
through the same code creation as one bought with points."""

import json
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from loyalty.ledger import Booking, entry_book, member_for
from loyalty.models import EntryKind, LedgerEntry, Member, RedemptionSource, RewardKind, Subject
from loyalty.rewards.codes import reward_grant
from loyalty.rewards.redemption import EXPIRY_GRACE, redemptions_expire, reward_redeem
from loyalty.tasks import redemption_issue_task
from orders.events import OrderEventName
from orders.models import Order
from orders.services.api_keys import api_key_create
from postpurchase.events import domain_event_deliver
from postpurchase.models import DomainEvent
from postpurchase.queue import Enqueue
from tests.factories import CustomerFactory, OrderPayloadFactory
from tests.loyalty.factories import RewardFactory
from tests.orders.test_shopify_webhooks import CUSTOMER_ID, apply, order_payload

pytestmark = pytest.mark.django_db

GRAPHQL = "/admin/api/2026-10/graphql.json"
NODE = "gid://shopify/DiscountCodeNode/1057371270"


def funded(shop, points: int, **customer) -> Member:
    member = member_for(CustomerFactory(shop=shop, **customer))
    entry_book(
        member.pk, Booking(EntryKind.ADJUST, f"fund:{member.pk}", Subject.STAFF, available=points)
    )
    member.refresh_from_db()
    return member


def available(member: Member) -> int:
    member.refresh_from_db()
    return member.available


@pytest.fixture
def shopify(httpserver, settings, shop):
    settings.SHOPIFY_ADMIN_API_URL = httpserver.url_for("/admin/api/2026-10")
    shop.shopify_access_token = "shpat_loyal"
    shop.save()
    return httpserver


def answers(shopify, data) -> None:
    shopify.expect_oneshot_request(GRAPHQL, method="POST").respond_with_json({"data": data})


def deliver_events(name: str) -> None:
    for event in DomainEvent.objects.filter(name=name, is_fully_delivered=False):
        domain_event_deliver(event_id=event.pk)


# --- Used by an order ---------------------------------------------------------------------------


def test_a_shopify_order_with_the_code_marks_the_reward_used_once(client, shop):
    member = funded(shop, 1000, external_id=CUSTOMER_ID)
    reward = RewardFactory(shop=shop, points_price=400)
    redemption = reward_redeem(member=member, reward=reward, key="click-1")
    code = {"code": redemption.code.lower(), "amount": "5.00", "type": "fixed_amount"}

    apply(client, shop, "orders/create", order_payload(discount_codes=[code]))
    deliver_events(OrderEventName.ORDER_PLACED)

    order = Order.objects.get(shop=shop)
    assert order.discount_codes == [redemption.code.lower()]
    redemption.refresh_from_db()
    assert redemption.status == "used"
    assert redemption.used_order == order
    assert redemption.used_at == order.placed_at

    paid = order_payload(
        discount_codes=[code], financial_status="paid", updated_at="2030-01-01T00:00:00Z"
    )
    apply(client, shop, "orders/updated", paid)
    deliver_events(OrderEventName.ORDER_PAID)
    redemption.refresh_from_db()
    assert (redemption.status, redemption.used_order) == ("used", order)
    assert available(member) == 600


def test_an_order_without_the_code_leaves_the_reward_issued(client, shop):
    member = funded(shop, 1000, external_id=CUSTOMER_ID)
    redemption = reward_redeem(member=member, reward=RewardFactory(shop=shop), key="click-1")
    other = {"code": "SUMMER10", "amount": "5.00", "type": "fixed_amount"}

    apply(client, shop, "orders/create", order_payload(discount_codes=[other]))
    deliver_events(OrderEventName.ORDER_PLACED)

    assert Order.objects.get(shop=shop).discount_codes == ["SUMMER10"]
    redemption.refresh_from_db()
    assert redemption.status == "issued"


def test_an_api_order_with_the_shops_own_code_marks_the_reward_used(shop):
    member = funded(shop, 1000)
    redemption = reward_redeem(member=member, reward=RewardFactory(shop=shop), key="click-1")
    _, raw = api_key_create(shop=shop, name="Checkout")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    created = api.post(
        "/api/v1/orders/", OrderPayloadFactory(discount_codes=[redemption.code]), format="json"
    )
    deliver_events(OrderEventName.ORDER_PLACED)
    patched = api.patch(
        f"/api/v1/orders/{created.json()['id']}/", {"total": "35.00"}, format="json"
    )

    assert created.status_code == 201
    assert patched.json()["discount_codes"] == [redemption.code]
    redemption.refresh_from_db()
    assert redemption.status == "used"
    assert redemption.used_order_id == created.json()["id"]


# --- Unused by its end date ---------------------------------------------------------------------


def test_an_unused_code_returns_its_points_once_after_its_end_date(shop):
    member = funded(shop, 1000)
    reward = RewardFactory(shop=shop, points_price=400, valid_days=10)
    redemption = reward_redeem(member=member, reward=reward, key="click-1")
    used = reward_redeem(member=member, reward=reward, key="click-2")
    used.status = "used"
    used.save()
    assert available(member) == 200

    assert redemptions_expire(now=redemption.ends_at) == 0  # within the grace
    later = redemption.ends_at + EXPIRY_GRACE + timedelta(minutes=1)
    assert redemptions_expire(now=later) == 1
    assert redemptions_expire(now=later) == 0

    redemption.refresh_from_db()
    assert redemption.status == "expired"
    assert available(member) == 600
    [returned] = LedgerEntry.objects.filter(member=member, kind=EntryKind.RETURN)
    assert returned.idempotency_key == f"return:{redemption.pk}"
    assert returned.available_delta == 400


def test_an_expired_shopify_code_is_deleted_after_its_points_are_back(shop, shopify):
    member = funded(shop, 1000)
    reward = RewardFactory(shop=shop, points_price=400, valid_days=10)
    redemption = reward_redeem(member=member, reward=reward, key="click-1")
    answers(
        shopify, {"discountCodeBasicCreate": {"codeDiscountNode": {"id": NODE}, "userErrors": []}}
    )
    redemption_issue_task(redemption.pk)
    answers(shopify, {"discountCodeDelete": {"deletedCodeDiscountId": NODE, "userErrors": []}})

    redemptions_expire(now=redemption.ends_at + EXPIRY_GRACE + timedelta(minutes=1))

    assert json.loads(shopify.log[1][0].get_data())["variables"] == {"id": NODE}
    assert available(member) == 1000


def test_a_granted_code_expires_without_points(shop):
    customer = CustomerFactory(shop=shop)
    reward = RewardFactory(shop=shop, kind=RewardKind.FREE_SHIPPING, value=0, points_price=0)
    granted = reward_grant(
        customer=customer, reward=reward, source=RedemptionSource.BIRTHDAY, key="bday:2026"
    )

    assert redemptions_expire(now=granted.ends_at + EXPIRY_GRACE + timedelta(minutes=1)) == 1

    granted.refresh_from_db()
    assert granted.status == "expired"
    assert not LedgerEntry.objects.exists()


# --- Granted codes ------------------------------------------------------------------------------


def test_a_granted_code_is_created_in_shopify_after_the_callers_commit(
    shop, shopify, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(shop=shop)
    reward = RewardFactory(shop=shop, kind=RewardKind.FREE_SHIPPING, value=0, points_price=0)

    with django_capture_on_commit_callbacks() as callbacks:
        granted = reward_grant(
            customer=customer, reward=reward, source=RedemptionSource.TIER_PERK, key="q:2026-4"
        )
    assert granted.status == "reserved"
    [task] = [
        c for c in callbacks if isinstance(c, Enqueue) and c.name == redemption_issue_task.name
    ]

    answers(
        shopify,
        {"discountCodeFreeShippingCreate": {"codeDiscountNode": {"id": NODE}, "userErrors": []}},
    )
    redemption_issue_task(*task.args)

    granted.refresh_from_db()
    assert (granted.status, granted.platform_discount_id, granted.points) == ("issued", NODE, 0)
    discount = json.loads(shopify.log[0][0].get_data())["variables"]["freeShippingCodeDiscount"]
    assert discount["code"] == granted.code
    assert discount["usageLimit"] == 1
    assert not LedgerEntry.objects.exists()
