"""The later flows through a real Celery worker on Redis: a parcel's delivery, published as a
domain event, becomes the follow-ups timed from it; the nightly affinity run fans out per
shop; the hourly delay check schedules its apology."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from notifications.models import Message, Purpose
from notifications.tasks import shipments_delayed_schedule_task
from orders.models import OrderStatus, ProductAffinity
from orders.services.shipments import shipment_transition
from orders.tasks import product_affinities_compute_all_task
from tests.factories import (
    ConsentFactory,
    LineItemFactory,
    OrderFactory,
    ProductFactory,
    ShipmentFactory,
    ShopFactory,
)
from tests.orders.test_worker_integration import wait_for


@pytest.mark.django_db(transaction=True)
def test_a_delivery_schedules_its_follow_ups_through_the_worker(celery_worker_live, daytime):
    # Marketing email obeys quiet hours: delivered in the afternoon, its follow-ups fall in
    # the day too and keep the delays they are configured with.
    shop = ShopFactory()
    order = OrderFactory(shop=shop, status=OrderStatus.SHIPPED)
    ConsentFactory(customer=order.customer, channel="email", purpose=Purpose.MARKETING)
    teapot = ProductFactory(shop=shop, title="Teapot", care_guide="Rinse with hot water only.")
    tea = ProductFactory(shop=shop, title="Sencha", is_consumable=True, days_of_use=20)
    LineItemFactory(order=order, product=teapot)
    LineItemFactory(order=order, product=tea, quantity=2)
    shipment = ShipmentFactory(order=order, status="in_transit")
    delivered_at = timezone.now() - timedelta(hours=2)

    with transaction.atomic():
        shipment_transition(shipment=shipment, to="delivered", at=delivered_at)

    kinds = {
        "shipment_delivered",
        "care_guide",
        "replenishment",
        "review_request",
        "survey_request",
    }

    def scheduled() -> dict[str, Message]:
        return {m.kind: m for m in Message.objects.filter(order=order)}

    assert wait_for(lambda: set(scheduled()) == kinds), list(scheduled())
    messages = scheduled()
    assert messages["care_guide"].send_at == delivered_at + timedelta(days=3)
    assert messages["review_request"].send_at == delivered_at + timedelta(days=7)
    assert messages["survey_request"].send_at == delivered_at + timedelta(days=3)
    # No history: 20 days of use x 2, reminded 5 days before.
    assert messages["replenishment"].send_at == delivered_at + timedelta(days=35)


@pytest.mark.django_db(transaction=True)
def test_the_nightly_and_hourly_tasks_run_on_the_worker(celery_worker_live):
    shop = ShopFactory()
    a, b, other = (ProductFactory(shop=shop) for _ in range(3))
    for products in ((a, b), (a, b), (other,)):
        order = OrderFactory(shop=shop)
        for product in products:
            LineItemFactory(order=order, product=product)
    quiet = ShipmentFactory(
        order=OrderFactory(shop=shop),
        status="in_transit",
        last_event_at=timezone.now() - timedelta(days=4),
    )

    product_affinities_compute_all_task.delay()
    shipments_delayed_schedule_task.delay()

    assert wait_for(lambda: ProductAffinity.objects.filter(shop=shop).count() == 2)
    assert wait_for(
        lambda: Message.objects.filter(kind="shipment_delayed", about_id=quiet.pk).exists()
    )
