"""A customer reads every time about their return in their own zone and language, as on the
tracking page: on the returns portal and in the message about the return."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from returns.models import ReturnRequest
from tests.notifications.test_flows_returns import (
    awaiting_approval,
    choice,
    deliver_events,
    delivered_order,
    line,
    rendered,
)

pytestmark = pytest.mark.django_db

# 03:30 UTC on 7 December is 19:30 on 6 December in Los Angeles (22:30 in New York, the shop's).
FILED_AT = datetime(2026, 12, 7, 3, 30, tzinfo=UTC)


@pytest.fixture
def filed() -> ReturnRequest:
    order = delivered_order(timezone="America/Los_Angeles")
    order.shop.timezone = "America/New_York"
    order.shop.save(update_fields=["timezone"])
    with time_machine.travel(FILED_AT, tick=False):
        request = awaiting_approval(order, choice(line(order)))
        deliver_events()
    return request


def test_the_portal_shows_the_returns_times_in_the_customers_zone(client, filed):
    order = filed.order
    url = reverse("returns:detail", args=[order.tracking_token, filed.rma])

    html = client.get(url).content.decode()

    assert "requested on Dec. 6, 2026" in html
    assert "Dec. 6, 2026, 7:30 p.m." in html
    assert "3:30 a.m." not in html
    assert "Dec. 7, 2026" not in html


def test_the_return_message_gives_the_time_in_the_customers_zone(filed):
    text = rendered(filed, "return_requested")

    assert "Dec. 6, 2026, 7:30 p.m." in text.body_text
    assert "Dec. 6, 2026, 7:30 p.m." in text.body_html
