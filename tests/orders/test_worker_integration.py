"""A real Celery worker consuming from Redis delivers what the services enqueue."""

import time

import pytest

from orders.events import OrderEventName
from orders.models import Order, WebhookEvent, WebhookStatus
from orders.services import order_ingest
from postpurchase.models import DomainEvent
from tests.factories import ShopFactory
from tests.orders.test_flow import an_order
from tests.orders.test_shopify_webhooks import deliver, fixture


def wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_worker_delivers_a_domain_event_after_commit(celery_worker_live, shop, subscribed):
    got = subscribed(OrderEventName.ORDER_PLACED)

    order = order_ingest(shop=shop, data=an_order()).order

    assert wait_for(lambda: DomainEvent.objects.filter(is_fully_delivered=True).exists())
    assert [event.payload["order_id"] for event in got] == [order.pk]


@pytest.mark.django_db(transaction=True)
def test_worker_processes_a_shopify_webhook_into_an_order(celery_worker_live, client, subscribed):

    shop = ShopFactory()
    got = subscribed(OrderEventName.ORDER_PLACED)
    payload = fixture("orders_create")

    response = deliver(client, shop, "orders/create", payload)

    assert response.status_code == 200
    assert wait_for(lambda: WebhookEvent.objects.filter(status=WebhookStatus.PROCESSED).exists()), (
        WebhookEvent.objects.values("status", "error").first()
    )
    order = Order.objects.get(shop=shop)
    assert order.number == payload["name"]
    assert order.line_items.count() == len(payload["line_items"])
    # The worker then delivered the order_placed event the processing published.
    assert wait_for(lambda: len(got) == 1)
    assert got[0].payload["order_id"] == order.pk
