"""Through a real Celery worker on Redis: an order paid books its points pending, its delivery
sets when they confirm, the confirmation sweep makes them available once the return window has
closed, and a refunded return takes back exactly the returned item's points."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from loyalty.models import EarningStatus, LedgerEntry, Member, OrderEarning
from loyalty.tasks import earnings_confirm_due_task
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
from tests.loyalty.factories import LoyaltyProgrammeFactory
from tests.orders.test_worker_integration import wait_for
from tests.returns.test_services import choice, file, line


def _balance(customer) -> tuple[int, int] | None:
    member = Member.objects.filter(customer=customer).first()
    return (member.available, member.pending) if member else None


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

    with transaction.atomic():
        order_mark_paid(order=order)
    assert wait_for(lambda: _balance(customer) == (0, 50)), _balance(customer)

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
    assert wait_for(lambda: _balance(customer) == (50, 0)), _balance(customer)
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
