"""Through a real Celery worker on Redis: an order paid books its points pending, its delivery
sets when they confirm, the confirmation sweep makes them available once the return window has
closed, and a refunded return takes back exactly the returned item's points; points confirmed
buy a reward whose code the worker creates in (a local fake of) Shopify."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from loyalty.messages import POINTS_EARNED, REWARD_AVAILABLE
from loyalty.models import (
    EarningStatus,
    EntryKind,
    LedgerEntry,
    Member,
    OrderEarning,
    Redemption,
    RedemptionStatus,
    RewardKind,
)
from loyalty.rewards.redemption import reward_redeem
from loyalty.tasks import earnings_confirm_due_task
from loyalty.tokens import loyalty_path
from notifications.models import Message
from orders.services.orders import order_mark_paid
from orders.services.shipments import shipment_transition
from returns.services import (
    Inspection,
    return_policy_for,
    return_request_approve,
    return_request_inspect,
    return_request_receive,
    return_request_resolve,
)
from tests.factories import CustomerFactory, OrderFactory, ShipmentFactory, StaffMembershipFactory
from tests.loyalty.factories import LoyaltyProgrammeFactory, RewardFactory
from tests.orders.test_worker_integration import wait_for
from tests.returns.test_services import choice, file, line


def _balance(customer) -> tuple[int, int] | None:
    member = Member.objects.filter(customer=customer).first()
    return (member.available, member.pending) if member else None


def _paid_delivered_confirmed(order, *, points: int) -> None:
    """Paid (the points pending), delivered 15 days ago (a 14-day window: they confirm when
    the sweep runs), then the sweep run: each step by the worker."""
    customer = order.customer
    with transaction.atomic():
        order_mark_paid(order=order)
    assert wait_for(lambda: _balance(customer) == (0, points)), _balance(customer)

    delivered_at = timezone.now() - timedelta(days=15)
    with transaction.atomic():
        shipment_transition(
            shipment=ShipmentFactory(order=order, status="in_transit"),
            to="delivered",
            at=delivered_at,
        )
    assert wait_for(
        lambda: OrderEarning.objects.filter(
            order=order, confirm_at=delivered_at + timedelta(days=14)
        ).exists()
    )

    earnings_confirm_due_task.delay()
    assert wait_for(lambda: _balance(customer) == (points, 0)), _balance(customer)


@pytest.mark.django_db(transaction=True)
def test_points_go_from_paid_to_confirmed_to_taken_back_through_the_worker(celery_worker_live):
    programme = LoyaltyProgrammeFactory()
    shop = programme.shop
    shop.return_window_days = 14
    shop.save()
    staff = StaffMembershipFactory(shop=shop).user
    customer = CustomerFactory(shop=shop)
    order = OrderFactory(shop=shop, customer=customer, status="shipped")
    kept = line(order, price="30.00")
    returned = line(order, price="10.00", quantity=2)

    _paid_delivered_confirmed(order, points=50)
    assert OrderEarning.objects.get(order=order).status == EarningStatus.CONFIRMED

    # A late return the shop accepts after all: the points were confirmed, so they come back
    # out of the available ones.
    shop.return_window_days = 30
    shop.save()
    policy = return_policy_for(shop)
    policy.auto_approve = False
    policy.save()
    order.refresh_from_db()
    with transaction.atomic():
        request = return_request_approve(return_request=file(order, choice(returned, quantity=1)))
        request = return_request_receive(return_request=request, actor=staff)
        request = return_request_inspect(
            return_request=request,
            actor=staff,
            inspections={i.pk: Inspection("resellable") for i in request.items.all()},
        )
        return_request_resolve(return_request=request, actor=staff)
    assert wait_for(lambda: _balance(customer) == (40, 0)), _balance(customer)

    keys = set(LedgerEntry.objects.filter(order=order).values_list("idempotency_key", flat=True))
    item = request.items.get()
    assert keys == {
        f"earn:line:{kept.pk}",
        f"earn:line:{returned.pk}",
        f"confirm:order:{order.pk}",
        f"clawback:return_item:{item.pk}",
    }


GRAPHQL = "/admin/api/2026-10/graphql.json"
NODE = "gid://shopify/DiscountCodeNode/1057371271"


@pytest.mark.django_db(transaction=True)
def test_points_paid_confirmed_then_redeemed_for_a_shopify_code_through_the_worker(
    celery_worker_live, httpserver, settings, client
):
    programme = LoyaltyProgrammeFactory(points_per_unit=Decimal("10.00"))
    shop = programme.shop
    shop.return_window_days = 14
    shop.shopify_access_token = "shpat_worker"
    shop.save()
    settings.SHOPIFY_ADMIN_API_URL = httpserver.url_for("/admin/api/2026-10")
    customer = CustomerFactory(shop=shop)
    order = OrderFactory(shop=shop, customer=customer, status="shipped")
    line(order, price="60.00")
    reward = RewardFactory(
        shop=shop, name="10% off", kind=RewardKind.PERCENT_OFF, value=10, points_price=500
    )

    _paid_delivered_confirmed(order, points=600)
    # The customer accepts no marketing: told of the points once they are theirs, not before.
    (earned,) = Message.objects.filter(kind=POINTS_EARNED, customer=customer)
    assert (earned.about_type, earned.about_id, earned.context["is_pending"]) == (
        "order",
        order.pk,
        False,
    )

    httpserver.expect_oneshot_request(GRAPHQL, method="POST").respond_with_json(
        {"data": {"discountCodeBasicCreate": {"codeDiscountNode": {"id": NODE}, "userErrors": []}}}
    )
    member = Member.objects.get(customer=customer)
    # Redeemed inside a transaction (as a request that commits would): the code is created in
    # Shopify by the worker, after the commit, never under a lock.
    with transaction.atomic():
        redemption = reward_redeem(member=member, reward=reward, key="worker-click")
        assert redemption.status == RedemptionStatus.RESERVED
    member.refresh_from_db()
    assert (member.available, member.reserved) == (600, 500)

    assert wait_for(
        lambda: Redemption.objects.filter(pk=redemption.pk, status="issued").exists()
    ), Redemption.objects.get(pk=redemption.pk).failure_reason
    redemption.refresh_from_db()
    assert redemption.platform_discount_id == NODE
    member.refresh_from_db()
    assert (member.available, member.pending, member.reserved) == (100, 0, 0)
    (redeemed,) = LedgerEntry.objects.filter(member=member, kind=EntryKind.REDEEM)
    assert (redeemed.available_delta, redeemed.idempotency_key) == (-500, f"redeem:{redemption.pk}")
    (request, _response) = httpserver.log[0]
    discount = json.loads(request.get_data())["variables"]["basicCodeDiscount"]
    assert discount["code"] == redemption.code
    assert discount["usageLimit"] == 1
    assert discount["context"] == {
        "customers": {"add": [f"gid://shopify/Customer/{customer.external_id}"]}
    }
    # A code bought with points is shown on the page at once; no message is owed for it (a
    # code granted by a perk or a gift is the one the customer is told of).
    assert not Message.objects.filter(kind=REWARD_AVAILABLE, customer=customer).exists()
    page = client.get(loyalty_path(customer) + f"?redeemed={redemption.pk}")
    assert redemption.code in page.content.decode()
