"""Refunds of returned Shopify orders through Shopify's refunds API (a local fake Shopify),
after commit and once; other orders are refunded by hand."""

import json
import socket
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from celery.exceptions import Retry
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from werkzeug import Request, Response

from orders.models import OrderSource
from postpurchase.queue import Enqueue
from returns.models import ReturnRequest
from returns.services import (
    Inspection,
    refunds,
    return_policy_for,
    return_request_approve,
    return_request_inspect,
    return_request_receive,
    return_request_resolve,
)
from returns.services.refunds import (
    IN_FLIGHT_TIMEOUT,
    SHOPIFY_PENDING,
    SHOPIFY_REQUESTING,
    SHOPIFY_UNKNOWN,
    RefundInFlight,
    TransientRefundError,
    return_refund_request,
)
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


def test_a_token_removed_after_the_refund_was_queued_is_held_for_staff_asking_nothing(
    shop, staff, shopify, django_capture_on_commit_callbacks
):
    request, _ = resolved(shopify_order(shop), staff, django_capture_on_commit_callbacks)
    shop.shopify_access_token = ""
    shop.save()

    assert return_refund_request(return_id=request.pk) == "shopify:refused"
    request.refresh_from_db()
    assert "no Shopify domain or Admin API token" in request.status_reason
    assert len(shopify.log) == 0


def test_a_shopify_outage_is_retried(shop, staff, shopify, django_capture_on_commit_callbacks):
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


# --- Claim, call, record: no lock across the call, never asked twice blindly ----------------

BASE = "/admin/api/2024-10/orders/450789469/refunds"


def calculation_answered(shopify) -> None:
    shopify.expect_request(f"{BASE}/calculate.json", method="POST").respond_with_json(
        {"refund": {"transactions": [{"parent_id": 801, "amount": "45.00", "gateway": "bogus"}]}}
    )


def creates_asked(shopify) -> int:
    return sum(1 for request, _ in shopify.log if request.path == f"{BASE}.json")


def pending_refund(shop, staff, django_capture_on_commit_callbacks) -> ReturnRequest:
    request, _ = resolved(shopify_order(shop), staff, django_capture_on_commit_callbacks)
    assert request.refund_reference == SHOPIFY_PENDING
    return request


@pytest.mark.django_db(transaction=True)
def test_no_row_is_locked_while_shopify_answers_and_a_second_run_asks_nothing(
    shop, staff, shopify, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(return_refund_request_task, "delay", lambda return_id: None)
    request = pending_refund(shop, staff, django_capture_on_commit_callbacks)
    calculation_answered(shopify)
    asked, answer = threading.Event(), threading.Event()

    def create(_request: Request) -> Response:
        asked.set()
        answer.wait(10)
        return Response(json.dumps({"refund": {"id": 509562969}}), 201, mimetype="text/json")

    shopify.expect_request(f"{BASE}.json", method="POST").respond_with_handler(create)
    outcome: list[str] = []

    def run() -> None:
        try:
            outcome.append(return_refund_request(return_id=request.pk))
        finally:
            connection.close()

    first = threading.Thread(target=run)
    first.start()
    try:
        assert asked.wait(10)
        with transaction.atomic():  # the row is free while Shopify answers
            locked = ReturnRequest.objects.select_for_update(nowait=True).get(pk=request.pk)
        assert locked.refund_reference == SHOPIFY_REQUESTING
        with pytest.raises(RefundInFlight):  # a second run (a redelivered task) waits its turn
            return_refund_request(return_id=request.pk)
    finally:
        answer.set()
        first.join(10)

    assert outcome == ["shopify:509562969"]
    assert creates_asked(shopify) == 1
    assert return_refund_request(return_id=request.pk) == "shopify:509562969"


def test_a_run_finding_another_in_flight_asks_the_task_to_look_again(
    shop, staff, shopify, django_capture_on_commit_callbacks
):
    request = pending_refund(shop, staff, django_capture_on_commit_callbacks)
    ReturnRequest.objects.filter(pk=request.pk).update(refund_reference=SHOPIFY_REQUESTING)

    with pytest.raises(Retry):
        return_refund_request_task(request.pk)

    assert len(shopify.log) == 0
    request.refresh_from_db()
    assert request.refund_reference == SHOPIFY_REQUESTING


def test_a_claim_left_by_a_dead_worker_is_held_for_staff_and_never_asked_again(
    shop, staff, shopify, django_capture_on_commit_callbacks
):
    request = pending_refund(shop, staff, django_capture_on_commit_callbacks)
    # A run claimed the refund, then its worker died mid-call: Shopify may have paid.
    ReturnRequest.objects.filter(pk=request.pk).update(
        refund_reference=SHOPIFY_REQUESTING,
        updated_at=timezone.now() - IN_FLIGHT_TIMEOUT - timedelta(seconds=1),
    )

    assert return_refund_request_task(request.pk) == SHOPIFY_UNKNOWN
    assert return_refund_request(return_id=request.pk) == SHOPIFY_UNKNOWN

    assert len(shopify.log) == 0
    request.refresh_from_db()
    assert request.refund_needs_staff
    assert "interrupted" in request.status_reason
    assert "check the order's refunds in Shopify" in request.status_reason


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_create_that_may_have_reached_shopify_is_held_not_asked_again(
    shop, staff, shopify, status, django_capture_on_commit_callbacks
):
    request = pending_refund(shop, staff, django_capture_on_commit_callbacks)
    calculation_answered(shopify)
    shopify.expect_request(f"{BASE}.json", method="POST").respond_with_data("oops", status=status)

    assert return_refund_request_task(request.pk) == SHOPIFY_UNKNOWN
    assert return_refund_request_task(request.pk) == SHOPIFY_UNKNOWN  # a repeat asks nothing

    assert creates_asked(shopify) == 1
    request.refresh_from_db()
    assert request.refund_needs_staff
    assert f"Shopify answered {status}" in request.status_reason


def test_a_create_whose_answer_is_lost_is_held_not_asked_again(
    shop, staff, shopify, monkeypatch, django_capture_on_commit_callbacks
):
    request = pending_refund(shop, staff, django_capture_on_commit_callbacks)
    calculation_answered(shopify)
    monkeypatch.setattr(refunds, "TIMEOUT_SECONDS", 0.2)
    created: list[int] = []

    def slow(_request: Request) -> Response:
        created.append(1)  # Shopify creates the refund; its answer comes too late
        time.sleep(1)
        return Response(json.dumps({"refund": {"id": 1}}), 201, mimetype="text/json")

    shopify.expect_request(f"{BASE}.json", method="POST").respond_with_handler(slow)

    assert return_refund_request(return_id=request.pk) == SHOPIFY_UNKNOWN
    assert return_refund_request(return_id=request.pk) == SHOPIFY_UNKNOWN
    assert created == [1]
    request.refresh_from_db()
    assert "no answer from Shopify" in request.status_reason


def test_a_rate_limited_create_goes_back_to_be_asked_again(
    shop, staff, shopify, django_capture_on_commit_callbacks
):
    request = pending_refund(shop, staff, django_capture_on_commit_callbacks)
    calculation_answered(shopify)
    shopify.expect_oneshot_request(f"{BASE}.json", method="POST").respond_with_data(
        "slow down", status=429
    )
    shopify.expect_oneshot_request(f"{BASE}.json", method="POST").respond_with_json(
        {"refund": {"id": 509562969}}, status=201
    )

    with pytest.raises(TransientRefundError):
        return_refund_request(return_id=request.pk)
    request.refresh_from_db()
    assert request.refund_reference == SHOPIFY_PENDING

    assert return_refund_request(return_id=request.pk) == "shopify:509562969"


def test_shopify_out_of_reach_goes_back_to_be_asked_again(
    shop, staff, settings, django_capture_on_commit_callbacks
):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.RETURNS_SHOPIFY_REFUNDS = True
    settings.SHOPIFY_ADMIN_API_URL = f"http://127.0.0.1:{port}/admin/api/2024-10"
    request = pending_refund(shop, staff, django_capture_on_commit_callbacks)

    with pytest.raises(TransientRefundError):
        return_refund_request(return_id=request.pk)

    request.refresh_from_db()
    assert request.refund_reference == SHOPIFY_PENDING


def test_staff_see_a_refund_held_for_them_on_the_return(
    shop, staff, staff_client, shopify, django_capture_on_commit_callbacks
):
    request = pending_refund(shop, staff, django_capture_on_commit_callbacks)
    calculation_answered(shopify)
    shopify.expect_request(f"{BASE}.json", method="POST").respond_with_data("oops", status=500)
    return_refund_request(return_id=request.pk)

    page = staff_client.get(reverse("returns_dashboard:detail", args=[request.pk]))

    text = page.content.decode()
    assert "Refund: Shopify answered 500; check the order&#x27;s refunds in Shopify" in text
    assert "Rejected:" not in text
