"""Points for what customers buy: pending when paid, per line at the tier's multiplier of that
moment, confirmed when the return window after the tracked delivery has closed, removed when
the order is cancelled or its payment voided or refunded in full."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from loyalty.earning.orders import earnings_confirm_due, order_points_earn
from loyalty.earning.subscribers import order_paid_earn
from loyalty.models import EarningStatus, LedgerEntry, LineEarning, Member, OrderEarning
from notifications.models import Flow, Message
from orders.services.data import CustomerData, LineItemData, OrderData, RefundData
from orders.services.orders import order_cancel, order_ingest
from postpurchase.events import Event, domain_event_deliver
from postpurchase.models import DomainEvent
from tests.factories import ConsentFactory, CustomerFactory
from tests.loyalty.earning_helpers import (
    balance,
    delivered,
    entries,
    events_deliver,
    order_with_lines,
    paid,
)
from tests.loyalty.factories import LoyaltyProgrammeFactory, TierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme(shop):
    return LoyaltyProgrammeFactory(shop=shop, points_per_unit=Decimal("2.00"))


@pytest.fixture
def customer(shop):
    return CustomerFactory(shop=shop)


def test_a_paid_order_books_each_lines_points_pending(programme, customer):
    # 2 x 19.99 less a 4.00 discount = 35.98 -> 71.96 points, rounded down once: 71.
    order = order_with_lines(programme.shop, customer, ("19.99", 2), ("10.00", 1))
    first, second = order.line_items.order_by("pk")
    first.discount_total = Decimal("4.00")
    first.save()

    paid(order)

    assert entries(customer) == [
        ("earn", 0, 71, f"earn:line:{first.pk}"),
        ("earn", 0, 20, f"earn:line:{second.pk}"),
    ]
    assert balance(customer) == (0, 91)
    earning = OrderEarning.objects.get(order=order)
    assert (earning.status, earning.confirm_at) == (EarningStatus.PENDING, None)
    assert sorted(LineEarning.objects.values_list("points", flat=True)) == [20, 71]


def test_shipping_and_tax_earn_only_when_the_programme_says_so(programme, customer):
    order = order_with_lines(
        programme.shop,
        customer,
        ("10.00", 1),
        shipping_total=Decimal("5.00"),
        tax_total=Decimal("2.50"),
    )
    other = order_with_lines(programme.shop, customer, ("10.00", 1), shipping_total=Decimal("5.00"))
    paid(order)
    assert balance(customer) == (0, 20)

    programme.earn_on_shipping = programme.earn_on_tax = True
    programme.save()
    paid(other)
    assert entries(customer, order=other)[1:] == [("earn", 0, 10, f"earn:shipping:{other.pk}")]
    assert balance(customer) == (0, 50)


def test_the_same_order_paid_event_delivered_three_times_books_once(programme, customer):
    order = order_with_lines(programme.shop, customer, ("10.00", 3))
    paid(order)
    event_row = DomainEvent.objects.get(name="order_paid", payload__order_id=order.pk)
    event = Event(event_row.pk, event_row.name, event_row.shop_id, event_row.payload)

    # The bus never hands it over again; a handler called twice more still books nothing.
    assert domain_event_deliver(event_id=event_row.pk) == []
    order_paid_earn(event)
    order_points_earn(order_id=order.pk)

    assert LedgerEntry.objects.filter(order=order).count() == 1
    assert balance(customer) == (0, 60)


def test_the_multiplier_is_the_tier_of_the_member_when_the_points_are_booked(programme, customer):
    TierFactory(shop=programme.shop, name="Bronze", rank=0)
    gold = TierFactory(
        shop=programme.shop,
        name="Gold",
        rank=1,
        threshold=Decimal("1000"),
        earn_multiplier=Decimal("1.50"),
    )
    first = order_with_lines(programme.shop, customer, ("10.00", 1))
    paid(first)
    member = Member.objects.get(customer=customer)
    member.tier = gold  # the tiers part moves members; here, by hand
    member.save()
    second = order_with_lines(programme.shop, customer, ("10.00", 1))
    paid(second)

    earned = LedgerEntry.objects.filter(member=member).order_by("pk")
    assert [(e.pending_delta, e.tier_name, e.multiplier) for e in earned] == [
        (20, "Bronze", Decimal("1.00")),
        (30, "Gold", Decimal("1.50")),
    ]


def test_a_customer_with_no_email_and_no_phone_is_still_a_member(programme):
    customer = CustomerFactory(shop=programme.shop, email="", phone="")
    order = order_with_lines(programme.shop, customer, ("10.00", 1), email="")
    paid(order)
    assert balance(customer) == (0, 20)


def test_nothing_is_earned_without_an_active_programme(shop, customer):
    LoyaltyProgrammeFactory(shop=shop, is_active=False)
    paid(order_with_lines(shop, customer, ("10.00", 1)))
    assert not LedgerEntry.objects.exists()
    assert not Member.objects.exists()


def test_a_cancelled_order_loses_its_pending_points(programme, customer):
    order = order_with_lines(programme.shop, customer, ("10.00", 1), ("5.00", 2), status="placed")
    paid(order)
    order_cancel(order=order, reason="customer changed their mind")
    events_deliver()

    lines = order.line_items.order_by("pk")
    assert entries(customer)[2:] == [
        ("clawback", 0, -20, f"void:line:{lines[0].pk}"),
        ("clawback", 0, -20, f"void:line:{lines[1].pk}"),
    ]
    assert balance(customer) == (0, 0)
    assert OrderEarning.objects.get(order=order).status == EarningStatus.VOIDED
    # A voided earning is never confirmed.
    assert earnings_confirm_due(now=timezone.now() + timedelta(days=400)) == 0


def _shopify_order(financial_status: str, *refund_ids: str) -> OrderData:
    """The same order as the platform reports it at each step: paid, then refunded in part
    (each refund listed by its id), then voided or refunded in full."""
    return OrderData(
        external_id="450789470",
        number="#1043",
        placed_at=timezone.now(),
        currency="USD",
        total=Decimal("42.00"),
        source="shopify",
        customer=CustomerData(external_id="207119552", email="buyer@example.org"),
        line_items=(
            LineItemData(external_id="1", title="Mug", quantity=2, unit_price=Decimal("21.00")),
        ),
        is_paid=financial_status != "voided",
        financial_status=financial_status,
        refunds=tuple(RefundData(external_id=r, amount=Decimal("5.00")) for r in refund_ids),
    )


def _ingested(programme, data: OrderData) -> None:
    order_ingest(shop=programme.shop, data=data)
    events_deliver()


@pytest.mark.parametrize("reversal", ["voided", "refunded"])
def test_a_voided_or_refunded_payment_removes_the_pending_points_a_partial_refund_does_not(
    programme, reversal
):
    _ingested(programme, _shopify_order("paid"))
    _ingested(programme, _shopify_order("partially_refunded", "r1"))
    member = Member.objects.get()
    assert balance(member) == (0, 84)

    _ingested(programme, _shopify_order(reversal, "r1"))

    assert balance(member) == (0, 0)
    assert OrderEarning.objects.get().status == EarningStatus.VOIDED
    (void,) = LedgerEntry.objects.filter(kind="clawback")
    assert (void.pending_delta, void.reason) == (-84, f"payment {reversal}")


def test_a_partial_refund_reported_twice_removes_nothing_and_a_later_void_removes_once(
    programme,
):
    _ingested(programme, _shopify_order("paid"))
    for _ in range(2):
        _ingested(programme, _shopify_order("partially_refunded", "r1"))
    # A second refund listed: the event again, still no money kept back in full.
    _ingested(programme, _shopify_order("partially_refunded", "r1", "r2"))
    member = Member.objects.get()
    assert balance(member) == (0, 84)
    assert DomainEvent.objects.filter(name="order_refunded").count() == 2

    for _ in range(3):
        _ingested(programme, _shopify_order("voided", "r1", "r2"))

    assert balance(member) == (0, 0)
    assert LedgerEntry.objects.filter(kind="clawback").count() == 1


def test_points_confirm_when_the_return_window_after_delivery_has_closed(programme, customer):
    shop = programme.shop
    shop.return_window_days = 30
    shop.save()
    order = order_with_lines(shop, customer, ("10.00", 1))
    paid(order)  # paid today; delivered ten days later: the window counts from delivery
    arrived = timezone.now() + timedelta(days=10)
    with time_machine.travel(arrived, tick=False):
        delivered(order, at=arrived)
    earning = OrderEarning.objects.get(order=order)
    assert earning.confirm_at == arrived + timedelta(days=30)

    with time_machine.travel(arrived + timedelta(days=29), tick=False):
        assert earnings_confirm_due() == 0
    assert balance(customer) == (0, 20)

    with time_machine.travel(arrived + timedelta(days=30, minutes=1), tick=False):
        assert earnings_confirm_due() == 1
        assert earnings_confirm_due() == 0  # a second run confirms nothing more
    assert entries(customer)[-1] == ("confirm", 20, -20, f"confirm:order:{order.pk}")
    assert balance(customer) == (20, 0)
    earning.refresh_from_db()
    assert earning.status == EarningStatus.CONFIRMED


def test_the_earned_message_goes_once_per_order_and_not_for_pending_points_without_marketing(
    programme, customer, shop
):
    shop.return_window_days = 0
    shop.save()
    opted_in = CustomerFactory(shop=shop)
    ConsentFactory(customer=opted_in, channel="email", purpose="marketing")
    for who in (opted_in, customer):
        order = delivered(paid(order_with_lines(shop, who, ("10.00", 1))))
        assert order.delivered_at is not None

    pending_told = Message.objects.filter(kind="loyalty_points_earned")
    assert list(pending_told.values_list("customer_id", "context__is_pending")) == [
        (opted_in.pk, True)
    ]
    earnings_confirm_due(now=timezone.now() + timedelta(minutes=1))
    told = Message.objects.filter(kind="loyalty_points_earned").order_by("pk")
    # The opted-in customer heard already (one message per order); the other hears now.
    assert list(told.values_list("customer_id", "context__is_pending", "context__points")) == [
        (opted_in.pk, True, 20),
        (customer.pk, False, 20),
    ]


def test_the_same_paid_order_ingested_three_times_books_once(programme):
    for _ in range(3):
        _ingested(programme, _shopify_order("paid"))

    (entry,) = LedgerEntry.objects.all()
    assert (entry.pending_delta, entry.idempotency_key) == (84, f"earn:line:{entry.subject_id}")


def test_a_returning_members_order_books_in_a_fixed_number_of_statements(
    programme, customer, django_assert_num_queries, django_capture_on_commit_callbacks
):
    ConsentFactory(customer=customer, channel="email", purpose="marketing")
    with django_capture_on_commit_callbacks(execute=True):  # the shop's flows made sure of
        paid(order_with_lines(programme.shop, customer, ("10.00", 1)))
    order = order_with_lines(programme.shop, customer, ("10.00", 1), ("5.00", 2), ("1.00", 3))

    # In the transaction (a savepoint here, as the test runs in one): the order with its
    # shop, programme, customer, consents, lines, flow and the member locked with its tier;
    # the earning with its lines, entries and balance; the message (no look-up of its key:
    # the earning is new, so is the message about it).
    with django_assert_num_queries(2 + 3):
        order_points_earn(order_id=order.pk)
    with django_assert_num_queries(2 + 3):  # booked already: nothing written, the earning read
        order_points_earn(order_id=order.pk)

    assert balance(customer) == (0, 20 + 40 + 6)
    assert Message.objects.filter(kind="loyalty_points_earned", about_id=order.pk).count() == 1


def test_points_are_booked_without_a_message_when_staff_turned_the_earned_flow_off(
    programme, customer, django_capture_on_commit_callbacks
):
    ConsentFactory(customer=customer, channel="email", purpose="marketing")
    with django_capture_on_commit_callbacks(execute=True):  # the shop's flows made sure of
        paid(order_with_lines(programme.shop, customer, ("10.00", 1)))
    assert Message.objects.filter(kind="loyalty_points_earned").count() == 1
    Flow.objects.filter(shop=programme.shop, kind="loyalty_points_earned").update(is_enabled=False)

    second = paid(order_with_lines(programme.shop, customer, ("5.00", 1)))

    assert balance(customer) == (0, 20 + 10)
    assert not Message.objects.filter(kind="loyalty_points_earned", about_id=second.pk).exists()
