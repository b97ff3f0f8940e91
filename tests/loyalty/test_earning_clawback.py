"""A return resolved with a refund or store credit takes back exactly what the returned
quantity earned, from pending or confirmed points; points already spent go negative and are
repaid first (or are written off, as the shop's policy says); an exchange takes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty.earning.orders import ReturnedItem, earnings_confirm_due, returned_item_clawback
from loyalty.ledger import Booking, entry_book
from loyalty.models import DebtPolicy, EntryKind, LineEarning, Member, PointLot, Subject
from orders.models import OrderStatus
from postpurchase.models import DomainEvent
from returns.services import (
    Inspection,
    return_policy_for,
    return_request_approve,
    return_request_inspect,
    return_request_receive,
    return_request_resolve,
)
from tests.factories import CustomerFactory, ProductFactory, VariantFactory
from tests.loyalty.earning_helpers import (
    balance,
    delivered,
    entries,
    events_deliver,
    order_with_lines,
    paid,
)
from tests.loyalty.factories import LoyaltyProgrammeFactory
from tests.returns.test_services import choice, file, line

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme(shop):
    shop.return_window_days = 14
    shop.save()
    return LoyaltyProgrammeFactory(shop=shop)


@pytest.fixture
def customer(shop):
    return CustomerFactory(shop=shop)


def _returned(line, quantity, item_id, resolution="refund") -> int:
    return returned_item_clawback(
        item=ReturnedItem(
            return_item_id=item_id,
            line_item_id=line.pk,
            quantity=quantity,
            resolution=resolution,
        )
    )


def _confirmed(order):
    delivered(order, at=timezone.now() - timedelta(days=15))
    assert earnings_confirm_due() == 1
    return order


def test_returning_one_unit_then_two_takes_back_33_then_67_exactly_the_100_earned(
    programme, customer
):
    order = paid(order_with_lines(programme.shop, customer, ("33.34", 3)))  # 100.02 -> 100
    line = order.line_items.get()
    assert balance(customer) == (0, 100)

    assert _returned(line, 1, item_id=9001) == 33
    assert _returned(line, 2, item_id=9002) == 67
    assert _returned(line, 2, item_id=9002) == 0  # the same item again takes nothing

    assert balance(customer) == (0, 0)
    assert [e[2] for e in entries(customer, kind=EntryKind.CLAWBACK)] == [-33, -67]
    earned = LineEarning.objects.get(line_item=line)
    assert (earned.returned_quantity, earned.clawed_back) == (3, 100)


def test_a_confirmed_lines_return_takes_from_the_available_points(programme, customer):
    order = _confirmed(paid(order_with_lines(programme.shop, customer, ("10.00", 4))))
    assert balance(customer) == (40, 0)
    assert _returned(order.line_items.get(), 1, item_id=9101, resolution="store_credit") == 10
    assert balance(customer) == (30, 0)
    assert sum(PointLot.objects.values_list("remaining", flat=True)) == 30


def test_an_exchange_takes_nothing_back(programme, customer):
    order = paid(order_with_lines(programme.shop, customer, ("10.00", 2)))
    assert _returned(order.line_items.get(), 1, item_id=9201, resolution="exchange") == 0
    assert balance(customer) == (0, 20)


def test_spent_points_returned_go_negative_and_the_next_earnings_repay_them_first(
    programme, customer
):
    order = _confirmed(paid(order_with_lines(programme.shop, customer, ("50.00", 1))))
    member = Member.objects.get(customer=customer)
    entry_book(
        member.pk,
        Booking(EntryKind.REDEEM, "redeem:1", Subject.REDEMPTION, available=-40),
    )
    assert balance(customer) == (10, 0)

    assert _returned(order.line_items.get(), 1, item_id=9301) == 50
    assert balance(customer) == (-40, 0)

    # The next order's 60 points: 40 pay the debt, 20 are spendable (and in a lot).
    _confirmed(paid(order_with_lines(programme.shop, customer, ("60.00", 1))))
    assert balance(customer) == (20, 0)
    assert sum(PointLot.objects.filter(member=member).values_list("remaining", flat=True)) == 20


def test_under_the_write_off_policy_what_was_spent_is_written_off(programme, customer):
    programme.debt_policy = DebtPolicy.WRITE_OFF
    programme.save()
    order = _confirmed(paid(order_with_lines(programme.shop, customer, ("50.00", 1))))
    member = Member.objects.get(customer=customer)
    entry_book(member.pk, Booking(EntryKind.REDEEM, "redeem:1", Subject.REDEMPTION, available=-40))

    assert _returned(order.line_items.get(), 1, item_id=9401) == 10

    assert balance(customer) == (0, 0)
    (clawback,) = member.entries.filter(kind=EntryKind.CLAWBACK)
    assert (clawback.available_delta, clawback.written_off) == (-10, 40)
    assert LineEarning.objects.get().written_off == 40


def test_buy_earn_refund_repeat_leaves_nothing_behind(programme, customer):
    for round_ in range(3):
        order = paid(order_with_lines(programme.shop, customer, ("25.00", 2)))
        line = order.line_items.get()
        _returned(line, 2, item_id=9500 + round_)
    assert balance(customer) == (0, 0)
    assert earnings_confirm_due(now=timezone.now() + timedelta(days=400)) == 0


def test_a_resolved_return_lists_its_items_and_takes_back_the_refunded_ones(
    programme, customer, staff
):
    product = ProductFactory(shop=programme.shop)
    small = VariantFactory(product=product, title="S")
    medium = VariantFactory(product=product, title="M", inventory_quantity=3)
    order = order_with_lines(programme.shop, customer)
    refunded = line(order, price="20.00", quantity=2)
    exchanged = line(order, price="30.00", variant=small)
    order = delivered(paid(order))
    assert order.status == OrderStatus.DELIVERED
    assert balance(customer) == (0, 70)
    policy = return_policy_for(programme.shop)
    policy.auto_approve = False
    policy.save()
    request = return_request_approve(
        return_request=file(
            order,
            choice(refunded, quantity=1),
            choice(exchanged, resolution="exchange", exchange_variant_id=medium.pk),
        )
    )
    request = return_request_receive(return_request=request, actor=staff)
    request = return_request_inspect(
        return_request=request,
        actor=staff,
        inspections={i.pk: Inspection("resellable") for i in request.items.all()},
    )
    return_request_resolve(return_request=request, actor=staff)

    resolved = DomainEvent.objects.get(name="return_resolved")
    items = {i.pk: i for i in request.items.all()}
    assert resolved.payload["items"] == [
        {
            "return_item_id": item.pk,
            "line_item_id": item.line_item_id,
            "quantity": item.quantity,
            "resolution": item.resolution,
        }
        for item in sorted(items.values(), key=lambda i: i.pk)
    ]
    events_deliver()
    # One of two units of the 40-point line went back for a refund: 20 points.
    assert balance(customer) == (0, 50)
    assert entries(customer, kind=EntryKind.CLAWBACK)[0][3].startswith("clawback:return_item:")
