"""`Idempotency-Key` on POST: retries replay the first answer and never repeat the work."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from orders.api import idempotency
from orders.api import views as api_views
from orders.models import IdempotencyRecord, Order, OrderEvent
from orders.services.api_keys import api_key_create
from orders.tasks import idempotency_keys_purge_task
from tests.factories import IdempotencyRecordFactory, OrderPayloadFactory, ShopFactory

pytestmark = pytest.mark.django_db
ORDERS = "/api/v1/orders/"


def _client_for(shop) -> APIClient:
    _, raw = api_key_create(shop=shop, name="Storefront")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api(shop):
    return _client_for(shop)


def _post(api, body, key, path=ORDERS):
    return api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_retry_returns_the_first_response_without_doing_the_work_again(api, shop):
    payload = OrderPayloadFactory()

    first = _post(api, payload, "key-1")
    retry = _post(api, payload, "key-1")

    assert first.status_code == 201
    # Doing the work again would have answered 200 ("updated"), not the stored 201.
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Order.objects.filter(shop=shop).count() == 1
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.CREATED).count() == 1


def test_without_a_key_a_repeat_is_processed_again(api):
    payload = OrderPayloadFactory()

    api.post(ORDERS, payload, format="json")
    repeat = api.post(ORDERS, payload, format="json")

    assert repeat.status_code == 200
    assert not IdempotencyRecord.objects.exists()


def test_same_key_with_a_different_body_is_422(api):
    _post(api, OrderPayloadFactory(external_id="a"), "key-2")

    response = _post(api, OrderPayloadFactory(external_id="b"), "key-2")

    assert response.status_code == 422
    assert response.json()["error"] == "idempotency key reused"
    assert not Order.objects.filter(external_id="b").exists()


def test_same_key_on_another_endpoint_is_422(api):
    order = _post(api, OrderPayloadFactory(), "key-3").json()

    response = _post(api, {}, "key-3", path=f"{ORDERS}{order['id']}/cancel/")

    assert response.status_code == 422
    assert Order.objects.get().status == "placed"


def test_keys_belong_to_their_shop(api):
    other = _client_for(ShopFactory())

    mine = _post(api, OrderPayloadFactory(), "shared-key")
    theirs = _post(other, OrderPayloadFactory(), "shared-key")

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert Order.objects.count() == 2


def test_request_while_the_key_is_in_flight_is_409(api, shop):
    payload = OrderPayloadFactory()
    IdempotencyRecordFactory(
        shop=shop,
        key="busy",
        request_hash=idempotency.request_fingerprint(method="POST", path=ORDERS, body=payload),
        response_status=None,
        response_body=None,
    )

    response = _post(api, payload, "busy")

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert not Order.objects.exists()


def test_claim_abandoned_by_a_dead_request_is_taken_over(api, shop):
    payload = OrderPayloadFactory()
    record = IdempotencyRecordFactory(
        shop=shop,
        key="orphan",
        request_hash=idempotency.request_fingerprint(method="POST", path=ORDERS, body=payload),
        response_status=None,
        response_body=None,
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        created_at=timezone.now() - idempotency.ABANDONED_AFTER - timedelta(seconds=1)
    )

    response = _post(api, payload, "orphan")

    assert response.status_code == 201
    record.refresh_from_db()
    assert record.response_status == 201
    assert record.response_body["id"] == response.json()["id"]


def test_invalid_request_frees_the_key_for_a_corrected_retry(api):
    payload = OrderPayloadFactory()

    bad = _post(api, {**payload, "total": "1.234"}, "key-4")
    fixed = _post(api, payload, "key-4")

    assert bad.status_code == 400
    assert fixed.status_code == 201
    assert Order.objects.count() == 1


def test_refusal_by_a_business_rule_is_replayed(api):
    order = _post(api, OrderPayloadFactory(), "create").json()
    api.post(f"{ORDERS}{order['id']}/shipments/", {"tracking_number": "1Z"}, format="json")
    cancel = f"{ORDERS}{order['id']}/cancel/"

    first = _post(api, {}, "cancel-1", path=cancel)
    retry = _post(api, {}, "cancel-1", path=cancel)

    assert first.status_code == 422
    assert (retry.status_code, retry.json()) == (422, first.json())
    assert retry["Idempotent-Replayed"] == "true"


def test_overlong_key_is_400(api):
    response = _post(api, OrderPayloadFactory(), "k" * 256)

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["Idempotency-Key"]
    assert not Order.objects.exists()


def test_purge_task_forgets_keys_older_than_a_day(shop):
    old = IdempotencyRecordFactory(shop=shop)
    recent = IdempotencyRecordFactory(shop=shop)
    IdempotencyRecord.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(hours=25)
    )

    deleted = idempotency_keys_purge_task()

    assert deleted == 1
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [recent.pk]


@pytest.mark.django_db(transaction=True)
def test_concurrent_request_with_the_same_key_gets_409(monkeypatch):
    """Two real requests on two connections: the second arrives while the first is working."""
    api = _client_for(ShopFactory())
    payload = OrderPayloadFactory()
    working, release = threading.Event(), threading.Event()
    real_ingest = api_views.order_ingest

    def slow_ingest(**kwargs):
        working.set()
        assert release.wait(timeout=10)
        return real_ingest(**kwargs)

    monkeypatch.setattr(api_views, "order_ingest", slow_ingest)
    answers = {}

    def first_request():
        try:
            answers["first"] = _post(api, payload, "race")
        finally:
            connection.close()

    thread = threading.Thread(target=first_request)
    thread.start()
    assert working.wait(timeout=10)
    second = _post(api, payload, "race")
    release.set()
    thread.join(timeout=10)

    assert second.status_code == 409
    assert answers["first"].status_code == 201
    assert Order.objects.count() == 1
