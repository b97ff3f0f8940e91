"""Filing and moving returns: the window and final-sale rules, quantities across returns and
under concurrency, exact amounts, exchanges, auto-approval, every transition, resolutions."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from orders.events import OrderEventName
from orders.models import Order, OrderSource, OrderStatus
from postpurchase.exceptions import DomainError, IllegalTransition
from postpurchase.models import DomainEvent
from postpurchase.states import transition
from returns.events import ReturnEventName
from returns.models import (
    RETURN_TRANSITIONS,
    ReturnEvent,
    ReturnRequest,
    ReturnStatus,
    StoreCreditEntry,
)
from returns.services import (
    Inspection,
    ItemChoice,
    return_policy_for,
    return_quote,
    return_request_approve,
    return_request_cancel,
    return_request_create,
    return_request_inspect,
    return_request_mark_in_transit,
    return_request_receive,
    return_request_reject,
    return_request_resolve,
    returnable_lines,
    store_credit_balance,
)
from returns.services.amounts import line_values
from tests.factories import LineItemFactory, OrderFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def delivered_order(shop, *, days_ago: int = 3, **kwargs) -> Order:
    return OrderFactory(
        shop=shop,
        status=OrderStatus.DELIVERED,
        delivered_at=timezone.now() - timedelta(days=days_ago),
        **kwargs,
    )


def line(order, *, price="40.00", quantity=1, discount="0.00", variant=None):
    variant = variant or VariantFactory(product=ProductFactory(shop=order.shop), price=price)
    return LineItemFactory(
        order=order,
        product=variant.product,
        variant=variant,
        title=variant.product.title,
        unit_price=Decimal(price),
        quantity=quantity,
        discount_total=Decimal(discount),
    )


def choice(line_item, *, quantity=1, reason="too_small", resolution="refund", **kwargs):
    return ItemChoice(
        line_item_id=line_item.pk,
        quantity=quantity,
        reason_code=reason,
        resolution=resolution,
        **kwargs,
    )


def file(order, *items, method="drop_off", key=None):
    return return_request_create(
        order=order, items=list(items), method=method, submission_key=key or f"k-{id(items)}"
    )[0]


@pytest.fixture
def policy(shop):
    policy = return_policy_for(shop)
    policy.auto_approve = False
    policy.save()
    return policy


# --- What can be returned --------------------------------------------------------------------


def test_the_window_counts_from_delivery(shop, policy):
    fresh = line(delivered_order(shop, days_ago=29))
    late = line(delivered_order(shop, days_ago=31))

    assert returnable_lines(fresh.order, policy)[0].is_returnable
    (closed,) = returnable_lines(late.order, policy)
    assert not closed.is_returnable
    assert closed.blocked_by == "return window closed"
    with pytest.raises(DomainError, match="return window closed"):
        file(late.order, choice(late))
    assert not ReturnRequest.objects.exists()


def test_final_sale_products_and_variants_cannot_be_returned(shop, policy):
    order = delivered_order(shop)
    final_product = line(order)
    final_variant = line(order)
    normal = line(order)
    policy.non_returnable_products.add(final_product.product)
    policy.non_returnable_variants.add(final_variant.variant)

    blocked = {entry.line.pk: entry.blocked_by for entry in returnable_lines(order, policy)}

    assert blocked == {
        final_product.pk: "final sale",
        final_variant.pk: "final sale",
        normal.pk: "",
    }


def test_nothing_undelivered_can_be_returned(shop, policy):
    order = OrderFactory(shop=shop, status=OrderStatus.SHIPPED)
    item = line(order)

    with pytest.raises(DomainError, match="not delivered yet"):
        file(order, choice(item))


def test_quantities_add_up_across_several_returns_and_a_rejection_frees_them(shop, policy, staff):
    item = line(delivered_order(shop), quantity=3)
    first = file(item.order, choice(item, quantity=2), key="a" * 20)

    with pytest.raises(DomainError, match="At most 1"):
        file(item.order, choice(item, quantity=2), key="b" * 20)
    return_request_reject(return_request=first, actor=staff, reason="Not in the window")
    again = file(item.order, choice(item, quantity=3), key="c" * 20)

    assert again.items.get().quantity == 3


def test_the_same_submission_twice_is_one_return(shop, policy):
    item = line(delivered_order(shop))

    first, created = return_request_create(
        order=item.order, items=[choice(item)], method="drop_off", submission_key="k" * 20
    )
    again, created_again = return_request_create(
        order=item.order, items=[choice(item)], method="drop_off", submission_key="k" * 20
    )

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert ReturnRequest.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_submissions_racing_for_the_last_unit_one_wins(shop):
    return_policy_for(shop)
    item = line(delivered_order(shop))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit(key: str) -> None:
        barrier.wait()
        try:
            file(Order.objects.get(pk=item.order_id), choice(item), key=key)
            outcomes.append("filed")
        except DomainError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(k * 20,)) for k in "xy"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["filed", "refused"]
    assert ReturnRequest.objects.count() == 1


# --- Amounts ---------------------------------------------------------------------------------


def test_order_discounts_are_spread_over_the_lines_to_the_cent(shop):
    order = delivered_order(shop, discount_total=Decimal("10.00"))
    a = line(order, price="33.33")
    b = line(order, price="33.33")
    c = line(order, price="33.34", discount="0.00")

    values = line_values(order, [a, b, c])

    assert sum(values.values()) == Decimal("90.00")
    assert values == {a.pk: Decimal("30.00"), b.pk: Decimal("30.00"), c.pk: Decimal("30.00")}


def test_a_quote_is_exact_with_line_and_order_discounts_a_fee_and_a_credit_bonus(shop, policy):
    order = delivered_order(shop, discount_total=Decimal("15.00"))
    shoes = line(order, price="60.00", quantity=2, discount="5.00")  # net 115
    hat = line(order, price="35.00")  # net 35; order-level discount 10 over 150
    policy.store_credit_bonus_percent = Decimal("10")
    policy.save()

    quote = return_quote(
        order=order,
        method="drop_off",
        items=[
            choice(shoes, quantity=1, reason="changed_mind", resolution="refund"),
            choice(hat, reason="too_small", resolution="store_credit"),
        ],
    )

    # The order-level 10.00 splits 7.666… / 2.333…; the odd cent goes to the larger remainder:
    # shoes 115 - 7.67 = 107.33 for two, 53.665 → 53.67 for one (half up); hat 35 - 2.33 =
    # 32.67, with a 10% bonus 35.937 → 35.94 in credit.
    assert [item.value for item in quote.items] == [Decimal("53.67"), Decimal("32.67")]
    assert [item.amount for item in quote.items] == [Decimal("53.67"), Decimal("35.94")]
    assert quote.fee_total == Decimal("4.95")  # changed mind pays return shipping, once
    assert quote.refund_total == Decimal("48.72")
    assert quote.credit_total == Decimal("35.94")


def test_an_exchange_to_an_out_of_stock_variant_is_refused(shop, policy):
    product = ProductFactory(shop=shop)
    small = VariantFactory(product=product, title="S", inventory_quantity=5)
    large = VariantFactory(product=product, title="L", inventory_quantity=0)
    medium = VariantFactory(product=product, title="M", inventory_quantity=2)
    item = line(delivered_order(shop), variant=small)

    with pytest.raises(DomainError, match="out of stock"):
        file(item.order, choice(item, resolution="exchange", exchange_variant_id=large.pk))
    (entry,) = returnable_lines(item.order, policy)
    assert [v.pk for v in entry.exchange_variants] == [medium.pk]
    assert file(item.order, choice(item, resolution="exchange", exchange_variant_id=medium.pk))


def test_a_reason_that_needs_a_photo_refuses_a_return_without_one(shop, policy):
    item = line(delivered_order(shop))

    with pytest.raises(DomainError, match="photo"):
        file(item.order, choice(item, reason="damaged"))
    assert file(
        item.order,
        choice(item, reason="damaged", photo=b"\xff\xd8jpeg", photo_content_type="image/jpeg"),
    )


# --- Auto-approval ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_total", "reasons", "approved"),
    [
        (None, [], True),
        (Decimal("50.00"), [], True),
        (Decimal("30.00"), [], False),
        (None, ["too_small"], True),
        (None, ["defective"], False),
    ],
)
def test_auto_approval_rules(shop, policy, max_total, reasons, approved):
    policy.auto_approve = True
    policy.auto_approve_max_total = max_total
    policy.auto_approve_reasons = reasons
    policy.save()
    item = line(delivered_order(shop), price="40.00")

    request = file(item.order, choice(item))

    assert request.status == (ReturnStatus.APPROVED if approved else ReturnStatus.REQUESTED)


# --- Transitions -----------------------------------------------------------------------------

PAIRS = [(a, b) for a in ReturnStatus.values for b in ReturnStatus.values if a != b]


@pytest.mark.parametrize(("current", "to"), PAIRS)
def test_only_the_tables_transitions_are_allowed(shop, policy, current, to):
    item = line(delivered_order(shop))
    request = file(item.order, choice(item))
    ReturnRequest.objects.filter(pk=request.pk).update(status=current)
    request.refresh_from_db()

    if to in RETURN_TRANSITIONS[current]:
        transition(request, to=to, table=RETURN_TRANSITIONS)
        request.refresh_from_db()
        assert request.status == to
    else:
        with pytest.raises(IllegalTransition):
            transition(request, to=to, table=RETURN_TRANSITIONS)
        request.refresh_from_db()
        assert request.status == current


def test_a_return_travels_from_request_to_refund_with_its_history_and_events(shop, policy, staff):
    item = line(delivered_order(shop))
    request = file(item.order, choice(item))

    request = return_request_approve(return_request=request, actor=staff)
    request = return_request_mark_in_transit(return_request=request)
    request = return_request_receive(return_request=request, actor=staff)
    (returned,) = request.items.all()
    request = return_request_inspect(
        return_request=request,
        actor=staff,
        inspections={returned.pk: Inspection("resellable", restock=True, note="as new")},
    )
    request = return_request_resolve(return_request=request, actor=staff)

    assert request.status == ReturnStatus.RESOLVED
    assert request.refund_total == Decimal("40.00")
    assert request.resolved_at is not None
    returned.refresh_from_db()
    assert (returned.condition, returned.restock) == ("resellable", True)
    assert [e.to_status for e in ReturnEvent.objects.filter(return_request=request)] == [
        "requested",
        "approved",
        "in_transit",
        "received",
        "inspected",
        "resolved",
    ]
    published = DomainEvent.objects.filter(payload__return_id=request.pk).values_list(
        "name", flat=True
    )
    assert sorted(published) == sorted(
        [
            ReturnEventName.REQUESTED,
            ReturnEventName.APPROVED,
            ReturnEventName.IN_TRANSIT,
            ReturnEventName.RECEIVED,
            ReturnEventName.INSPECTED,
            ReturnEventName.RESOLVED,
        ]
    )


def test_a_customer_can_cancel_only_before_the_parcel_leaves(shop, policy):
    item = line(delivered_order(shop))
    request = return_request_mark_in_transit(
        return_request=return_request_approve(return_request=file(item.order, choice(item)))
    )

    with pytest.raises(IllegalTransition):
        return_request_cancel(return_request=request)
    request.refresh_from_db()
    assert request.status == ReturnStatus.IN_TRANSIT
    waiting = line(delivered_order(shop))
    cancelled = return_request_cancel(return_request=file(waiting.order, choice(waiting)))
    assert cancelled.status == ReturnStatus.CANCELLED


def test_a_rejection_needs_a_reason(shop, policy, staff):
    item = line(delivered_order(shop))
    request = file(item.order, choice(item))

    with pytest.raises(DomainError):
        return_request_reject(return_request=request, actor=staff, reason="  ")
    request.refresh_from_db()
    assert request.status == ReturnStatus.REQUESTED


# --- Resolutions -----------------------------------------------------------------------------


def _inspected(request, staff):
    request = return_request_receive(
        return_request=return_request_approve(return_request=request), actor=staff
    )
    return return_request_inspect(
        return_request=request,
        actor=staff,
        inspections={i.pk: Inspection("resellable") for i in request.items.all()},
    )


def test_store_credit_is_issued_once_with_its_bonus(shop, policy, staff):
    item = line(delivered_order(shop), price="50.00")
    request = _inspected(file(item.order, choice(item, resolution="store_credit")), staff)

    return_request_resolve(return_request=request, actor=staff)
    with pytest.raises(DomainError):
        return_request_resolve(return_request=request, actor=staff)

    assert StoreCreditEntry.objects.count() == 1
    assert store_credit_balance(customer=item.order.customer, currency="USD") == Decimal("55.00")


def test_an_exchange_becomes_a_new_order_for_the_replacement(shop, policy, staff):
    product = ProductFactory(shop=shop)
    small = VariantFactory(product=product, title="S")
    medium = VariantFactory(product=product, title="M", inventory_quantity=3)
    item = line(delivered_order(shop), variant=small)
    request = _inspected(
        file(item.order, choice(item, resolution="exchange", exchange_variant_id=medium.pk)), staff
    )

    resolved = return_request_resolve(return_request=request, actor=staff)

    replacement = resolved.exchange_order
    assert replacement.source == OrderSource.EXCHANGE
    assert replacement.customer_id == item.order.customer_id
    assert [(li.variant_id, li.quantity) for li in replacement.line_items.all()] == [(medium.pk, 1)]
    assert DomainEvent.objects.filter(
        name=OrderEventName.ORDER_PLACED, payload__order_id=replacement.pk
    ).exists()


def test_a_kept_item_is_resolved_straight_from_approval(shop, policy, staff):
    policy.methods = ["drop_off", "keep_item"]
    policy.keep_item_max_value = Decimal("15.00")
    policy.save()
    cheap = line(delivered_order(shop), price="9.00")
    dear = line(delivered_order(shop), price="90.00")

    with pytest.raises(DomainError, match="low-value"):
        file(dear.order, choice(dear), method="keep_item")
    request = return_request_approve(
        return_request=file(cheap.order, choice(cheap), method="keep_item")
    )
    resolved = return_request_resolve(return_request=request, actor=staff)

    assert resolved.status == ReturnStatus.RESOLVED
    assert resolved.refund_total == Decimal("9.00")


def test_an_exchange_alone_pays_no_fee(shop, policy):
    product = ProductFactory(shop=shop)
    small = VariantFactory(product=product, title="S")
    medium = VariantFactory(product=product, title="M", inventory_quantity=3)
    item = line(delivered_order(shop), variant=small)

    quote = return_quote(
        order=item.order,
        method="drop_off",
        items=[
            choice(
                item, reason="changed_mind", resolution="exchange", exchange_variant_id=medium.pk
            )
        ],
    )

    assert (quote.fee_total, quote.refund_total, quote.credit_total) == (0, 0, 0)
