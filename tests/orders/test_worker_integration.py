"""A real Celery worker consuming from Redis delivers what the services enqueue."""

import time

import pytest

from orders.models import DomainEvent, EventName
from orders.services import order_ingest
from tests.orders.test_flow import an_order


def wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_worker_delivers_a_domain_event_after_commit(celery_worker_live, shop, subscribed):
    got = subscribed(EventName.ORDER_PLACED)

    order = order_ingest(shop=shop, data=an_order()).order

    assert wait_for(lambda: DomainEvent.objects.filter(is_fully_delivered=True).exists())
    assert [event.payload["order_id"] for event in got] == [order.pk]
