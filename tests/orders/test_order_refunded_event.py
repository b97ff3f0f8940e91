"""`order_refunded`: published once per update that lists a new refund or moves the payment to
partially refunded, refunded or voided; a repeat of the same update publishes nothing."""

from decimal import Decimal

import pytest

from orders.events import OrderEventName
from orders.services import order_ingest
from orders.services.data import RefundData
from postpurchase.models import DomainEvent
from tests.factories import CustomerFactory
from tests.loyalty.tiers_helpers import order_data

pytestmark = pytest.mark.django_db


def _refunded_events() -> list[dict]:
    return list(
        DomainEvent.objects.filter(name=OrderEventName.ORDER_REFUNDED)
        .order_by("pk")
        .values_list("payload", flat=True)
    )


def test_each_new_refund_and_each_move_to_money_back_is_announced_once(shop):
    customer = CustomerFactory(shop=shop)
    paid = order_ingest(shop=shop, data=order_data(customer, "R1", "90.00")).order
    first = RefundData(external_id="rf1", amount=Decimal("30.00"))
    second = RefundData(external_id="rf2", amount=Decimal("60.00"))

    partly = order_data(
        customer, "R1", "90.00", financial_status="partially_refunded", refunds=(first,)
    )
    order_ingest(shop=shop, data=partly)
    order_ingest(shop=shop, data=partly)  # the same update again
    whole = order_data(
        customer, "R1", "90.00", financial_status="refunded", refunds=(first, second)
    )
    order_ingest(shop=shop, data=whole)

    assert _refunded_events() == [
        {
            "order_id": paid.pk,
            "customer_id": customer.pk,
            "financial_status": "partially_refunded",
            "refunds_added": 1,
        },
        {
            "order_id": paid.pk,
            "customer_id": customer.pk,
            "financial_status": "refunded",
            "refunds_added": 1,
        },
    ]


def test_a_voided_payment_is_announced_and_backfilled_history_is_not(shop):
    customer = CustomerFactory(shop=shop)
    order_ingest(shop=shop, data=order_data(customer, "V1", "20.00", financial_status="authorized"))
    order_ingest(shop=shop, data=order_data(customer, "V1", "20.00", financial_status="voided"))
    order_ingest(
        shop=shop,
        data=order_data(customer, "H1", "20.00", financial_status="refunded"),
        publish=False,
    )

    assert [event["financial_status"] for event in _refunded_events()] == ["voided"]
