"""The expected delivery date reads the same in a message and in the editor's preview: a date
as the customer reads it, and in the preview one still to come."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from notifications.engine.templating import template_preview_context
from orders.messages import shipment_context
from tests.factories import CustomerFactory, OrderFactory, ShipmentFactory, ShopFactory

pytestmark = pytest.mark.django_db


def test_a_message_gives_the_expected_date_as_a_customer_reads_it():
    buyer = CustomerFactory(locale="en")
    shipment = ShipmentFactory(
        order=OrderFactory(shop=buyer.shop, customer=buyer),
        estimated_delivery_date=date(2026, 12, 9),
    )

    assert shipment_context(shipment)["estimated_delivery_date"] == "Dec. 9, 2026"


def test_a_german_customer_reads_it_in_german():
    buyer = CustomerFactory(locale="de")
    shipment = ShipmentFactory(
        order=OrderFactory(shop=buyer.shop, customer=buyer),
        estimated_delivery_date=date(2026, 12, 9),
    )

    assert shipment_context(shipment)["estimated_delivery_date"] == "9. Dezember 2026"


@time_machine.travel(datetime(2026, 12, 7, 12, 0, tzinfo=UTC), tick=False)
def test_the_previews_sample_date_is_to_come_and_formatted_as_a_message_formats_it():
    context = template_preview_context(shop=ShopFactory(), kind="shipment_shipped", order=None)

    sample = context["estimated_delivery_date"]
    assert sample == "Dec. 10, 2026"
