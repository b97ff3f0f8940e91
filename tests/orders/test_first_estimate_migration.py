"""Shipments stored before the first promised date was kept get their current estimate as
their first one: the best the database holds."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("orders", "0015_product_brand_variant_gtin")]


def _migrate(targets) -> MigrationExecutor:
    MigrationExecutor(connection).migrate(targets)
    return MigrationExecutor(connection)


@pytest.mark.django_db(transaction=True)
def test_existing_shipments_take_their_current_estimate_as_the_first():
    executor = _migrate(BEFORE)
    old = executor.loader.project_state(BEFORE[0]).apps
    shop = old.get_model("orders", "Shop").objects.create(name="Before", slug="before-estimate")
    order = old.get_model("orders", "Order").objects.create(
        shop=shop,
        external_id="1",
        number="#1",
        currency="USD",
        source="api",
        placed_at=timezone.now(),
    )
    Shipment = old.get_model("orders", "Shipment")
    promised = Shipment.objects.create(
        shop=shop, order=order, tracking_number="A", estimated_delivery_date=date(2026, 5, 9)
    )
    unknown = Shipment.objects.create(shop=shop, order=order, tracking_number="B")

    _migrate(executor.loader.graph.leaf_nodes())

    from orders.models import Shipment as Current

    assert Current.objects.get(pk=promised.pk).first_estimated_delivery_date == date(2026, 5, 9)
    assert Current.objects.get(pk=unknown.pk).first_estimated_delivery_date is None
