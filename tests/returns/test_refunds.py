"""Refunds of returned Shopify orders through Shopify's refunds API (a local fake Shopify),
after commit and once; other orders are refunded by hand."""

import json
from decimal import Decimal

import pytest

from orders.models import OrderSource
from postpurchase.queue import Enqueue
from returns.models import ReturnRequest
from returns.services import (
    Inspection,
    return_policy_for,
    return_request_approve,
    return_request_inspect,
    return_request_receive,
    return_request_resolve,
)
from returns.services.refunds import SHOPIFY_PENDING, return_refund_request
from returns.tasks import return_refund_request_task
from tests.returns.test_services import choice, delivered_order, file, line

pytestmark = pytest.mark.django_db


@pytest.fixture
def shopify(httpserver, settings):
    settings.RETURNS_SHOPIFY_REFUNDS = True
    settings.SHOPIFY_ADMIN_API_URL = httpserver.url_for("/admin/api/2024-10")
    return httpserver


def resolved(order, staff, django_capture_on_commit_callbacks) -> tuple[ReturnRequest, list]:
    policy = return_policy_for(order.shop)
    policy.auto_approve = False
    policy.save()
    item = line(order, price="40.00")
    item.external_id = "777001"
    item.save()
    request = return_request_approve(return_request=file(order, choice(item)))
    request = return_request_receive(return_request=request, actor=staff)
    request = return_request_inspect(
        return_request=request,
        actor=staff,
        inspections={i.pk: Inspection("resellable") for i in request.items.all()},
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request = return_request_resolve(return_request=request, actor=staff)
    return request, callbacks


def refund_enqueues(callbacks: list) -> list[Enqueue]:
    return [
        c for c in callbacks if isinstance(c, Enqueue) and c.name == return_refund_request_task.name
    ]


def shopify_order(shop):
    shop.shopify_access_token = "shpat_test"
    shop.save()
    return delivered_order(shop, source=OrderSource.SHOPIFY, external_id="450789469")


def test_a_shopify_order_is_refunded_through_shopify_after_commit_and_once(
    shop, staff, shopify, django_capture_on_commit_callbacks
):
    base = "/admin/api/2024-10/orders/450789469/refunds"
    shopify.expect_oneshot_request(f"{base}/calculate.json", method="POST").respond_with_json(
        {"refund": {"transactions": [{"parent_id": 801, "amount": "45.00", "gateway": "bogus"}]}}
    )
    shopify.expect_oneshot_request(f"{base}.json", method="POST").respond_with_json(
        {"refund": {"id": 509562969}}, status=201
    )
    request, callbacks = resolved(shopify_order(shop), staff, django_capture_on_commit_callbacks)

    assert request.refund_reference == SHOPIFY_PENDING
    assert len(shopify.log) == 0  # nothing asked inside the transaction
    assert return_refund_request_task(request.pk) == "shopify:509562969"
    assert return_refund_request(return_id=request.pk) == "shopify:509562969"  # a repeat

    calculate, create = (json.loads(req.get_data()) for req, _ in shopify.log)
    assert len(shopify.log) == 2
    assert shopify.log[0][0].headers["X-Shopify-Access-Token"] == "shpat_test"
    assert calculate["refund"]["refund_line_items"] == [
        {"line_item_id": 777001, "quantity": 1, "restock_type": "return"}
    ]
    # Capped at what the return owes, not what Shopify would allow.
    assert create["refund"]["transactions"] == [
        {"parent_id": 801, "amount": "40.00", "kind": "refund", "gateway": "bogus"}
    ]
    (enqueue,) = refund_enqueues(callbacks)
    assert enqueue.args == (request.pk,)


def test_a_refusal_is_recorded_for_staff_and_not_retried(
    shop, staff, shopify, django_capture_on_commit_callbacks
):
    shopify.expect_request(
        "/admin/api/2024-10/orders/450789469/refunds/calculate.json", method="POST"
    ).respond_with_json({"errors": "order is already refunded"}, status=422)
    request, _ = resolved(shopify_order(shop), staff, django_capture_on_commit_callbacks)

    assert return_refund_request(return_id=request.pk) == "shopify:refused"
    request.refresh_from_db()
    assert "already refunded" in request.status_reason


def test_a_shopify_outage_is_retried(shop, staff, shopify, django_capture_on_commit_callbacks):
    from returns.services.refunds import TransientRefundError

    shopify.expect_request(
        "/admin/api/2024-10/orders/450789469/refunds/calculate.json", method="POST"
    ).respond_with_data("busy", status=503)
    request, _ = resolved(shopify_order(shop), staff, django_capture_on_commit_callbacks)

    with pytest.raises(TransientRefundError):
        return_refund_request(return_id=request.pk)
    request.refresh_from_db()
    assert request.refund_reference == SHOPIFY_PENDING


def test_with_the_setting_off_staff_refund_by_hand(
    shop, staff, settings, django_capture_on_commit_callbacks
):
    settings.RETURNS_SHOPIFY_REFUNDS = False
    request, callbacks = resolved(shopify_order(shop), staff, django_capture_on_commit_callbacks)

    assert request.refund_reference == ""
    assert request.refund_total == Decimal("40.00")
    assert refund_enqueues(callbacks) == []
    assert "by hand" in request.events.last().note
