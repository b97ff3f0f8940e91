"""The orders pages built from the UI kit: the overview's KPI cards (change against the previous
period, sparkline, link to the list), the sortable orders list and the order page's chips."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import MessageStatus
from orders.dashboard.figures import Change
from orders.models import FinancialStatus, OrderStatus, ShipmentStatus
from tests.factories import CustomerFactory, OrderFactory, ShipmentFactory
from tests.notifications.test_dashboard import _message

pytestmark = pytest.mark.django_db

LIST_URL = reverse("dashboard:order_list")
HOME_URL = reverse("dashboard:home")
# Noon in New York (the factory shop's zone): "N days ago" is the same calendar day there.
NOW = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)


def _card(html: str, title: str) -> str:
    for block in re.findall(r'<article class="kpi[^"]*"[^>]*>.*?</article>', html, flags=re.S):
        if re.search(rf'<h2 class="kpi__label"[^>]*>{re.escape(title)}</h2>', block):
            return block
    raise AssertionError(f"no KPI card {title!r}")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def test_orders_card_shows_its_rise_against_the_previous_30_days_and_links_to_its_list(
    staff_client, shop, frozen_now
):
    # Six orders in the last 30 days, four in the 30 days before, one older than both.
    for days_ago in (0, 1, 1, 5, 12, 29):
        OrderFactory(shop=shop, placed_at=frozen_now - timedelta(days=days_ago))
    for days_ago in (30, 31, 45, 59):
        OrderFactory(shop=shop, placed_at=frozen_now - timedelta(days=days_ago))
    OrderFactory(shop=shop, placed_at=frozen_now - timedelta(days=75))

    card = _card(staff_client.get(HOME_URL).content.decode(), "Orders")

    link = re.search(r'<p class="kpi__value"><a href="([^"]+)">([^<]+)</a>', card)
    assert link.group(2) == "6"
    # The word and the percentage, not only a colour: 6 against 4 is half as many again.
    change = re.search(r'<p class="kpi__change kpi__change--(\w+)">(.*?)</p>', card, flags=re.S)
    assert change.group(1) == "success"
    assert _text(change.group(2)) == "↑ Up 50 % on the previous 30 days"
    assert '<span aria-hidden="true">↑</span>' in change.group(2)
    # The card's link lists exactly the orders it counts.
    listed = staff_client.get(link.group(1).replace("&amp;", "&"))
    assert listed.context["page_obj"].paginator.count == 6
    # Its sparkline: one reading per day of the 30, yesterday's two orders and today's one last.
    readings = re.search(r'<span class="visually-hidden">Orders per day[^:]*: (.*?)</span>', card)
    values = re.findall(r"\w{3} \d{1,2}, \d{4}: (\d+)", readings.group(1))
    assert len(values) == 30
    assert values[-2:] == ["2", "1"]
    assert sum(int(value) for value in values) == 6


def test_a_fall_in_deliveries_says_down_and_a_figure_without_a_past_says_so(
    staff_client, shop, frozen_now
):
    OrderFactory(
        shop=shop,
        status=OrderStatus.DELIVERED,
        placed_at=frozen_now - timedelta(days=9),
        delivered_at=frozen_now - timedelta(days=2),
    )
    for days_ago in (35, 40, 50, 55):
        OrderFactory(
            shop=shop,
            status=OrderStatus.DELIVERED,
            placed_at=frozen_now - timedelta(days=days_ago + 5),
            delivered_at=frozen_now - timedelta(days=days_ago),
        )

    html = staff_client.get(HOME_URL).content.decode()

    delivered = _card(html, "Delivered")
    assert "↓ Down 75 % on the previous 30 days" in _text(delivered)
    assert "kpi__change--critical" in delivered
    # What is true now (parcels in transit) has no period to compare with, and says nothing.
    assert "kpi__change" not in _card(html, "In transit")


def test_more_failed_messages_than_before_is_a_rise_in_bad_news(staff_client, shop, frozen_now):
    for days_ago in (1, 3, 20):
        _message(
            shop, status=MessageStatus.FAILED, created_at=frozen_now - timedelta(days=days_ago)
        )
    _message(shop, status=MessageStatus.FAILED, created_at=frozen_now - timedelta(days=40))
    _message(shop, status=MessageStatus.SENT, created_at=frozen_now - timedelta(days=2))

    card = _card(staff_client.get(HOME_URL).content.decode(), "Messages failed")

    link = re.search(r'<p class="kpi__value"><a href="([^"]+)">([^<]+)</a>', card)
    assert link.group(2) == "3"
    assert "↑ Up 200 % on the previous 30 days" in _text(card)
    assert "kpi__change--critical" in card
    listed = staff_client.get(link.group(1).replace("&amp;", "&"))
    assert listed.context["page_obj"].paginator.count == 3


def test_the_change_word_when_there_was_nothing_before_or_nothing_changed():
    assert Change(current=3, previous=0).text == "Up from none"
    assert Change(current=0, previous=0).text == "No change"
    assert Change(current=0, previous=0).tone == "neutral"
    assert Change(current=Decimal("90"), previous=Decimal("120")).text == "Down 25 %"
    # A rise of what is bad news (failed messages) is critical.
    assert Change(current=4, previous=2, higher_is_better=False).tone == "critical"


def test_the_overview_reads_each_figure_in_one_query_whatever_the_days(
    staff_client, shop, frozen_now
):
    OrderFactory(shop=shop, placed_at=frozen_now - timedelta(days=1))
    with CaptureQueriesContext(connection) as one_day:
        staff_client.get(HOME_URL)
    for days_ago in range(2, 58, 3):
        OrderFactory(
            shop=shop,
            placed_at=frozen_now - timedelta(days=days_ago),
            status=OrderStatus.DELIVERED,
            delivered_at=frozen_now - timedelta(days=days_ago - 1),
        )
    with CaptureQueriesContext(connection) as many_days:
        response = staff_client.get(HOME_URL)

    assert len(many_days) == len(one_day)
    assert response.status_code == 200


# The orders list's sortable columns ----------------------------------------------------------


@pytest.fixture
def four_orders(shop, frozen_now):
    """Numbers, dates, totals and customers each in a different order than the others."""
    rows = [
        ("#999", 3, "45.00", "Cleo"),
        ("#1000", 1, "12.00", "Ada"),
        ("#1002", 4, "99.00", "Bea"),
        ("#1001", 2, "7.50", "Dora"),
    ]
    return {
        number: OrderFactory(
            shop=shop,
            number=number,
            placed_at=frozen_now - timedelta(days=days_ago),
            total=Decimal(total),
            customer=CustomerFactory(shop=shop, first_name=name, last_name="Lee"),
        )
        for number, days_ago, total, name in rows
    }


def _sorted_header(html: str) -> tuple[str, str]:
    """(the sorted column's label, its aria-sort)."""
    found = re.findall(r'<th scope="col"[^>]*aria-sort="(\w+)"[^>]*>\s*<a[^>]*>([^<]+)<', html)
    assert len(found) == 1, found
    return found[0][1], found[0][0]


@pytest.mark.parametrize(
    ("sort", "numbers", "column", "direction"),
    [
        ("number", ["#999", "#1000", "#1001", "#1002"], "Order", "ascending"),
        ("-number", ["#1002", "#1001", "#1000", "#999"], "Order", "descending"),
        ("placed", ["#1002", "#999", "#1001", "#1000"], "Placed", "ascending"),
        ("-placed", ["#1000", "#1001", "#999", "#1002"], "Placed", "descending"),
        ("total", ["#1001", "#1000", "#999", "#1002"], "Total", "ascending"),
        ("-total", ["#1002", "#999", "#1000", "#1001"], "Total", "descending"),
        ("customer", ["#1000", "#1002", "#999", "#1001"], "Customer", "ascending"),
        ("-customer", ["#1001", "#999", "#1002", "#1000"], "Customer", "descending"),
    ],
)
def test_sorting_the_order_list_by_a_column_orders_its_rows_and_says_so(
    staff_client, four_orders, sort, numbers, column, direction
):
    response = staff_client.get(LIST_URL, {"sort": sort})

    assert [order.number for order in response.context["orders"]] == numbers
    assert _sorted_header(response.content.decode()) == (column, direction)


@pytest.mark.parametrize("sort", ["", "bogus", "-items", "status", "placed_at"])
def test_an_unknown_sort_falls_back_to_newest_first(staff_client, four_orders, sort):
    response = staff_client.get(LIST_URL, {"sort": sort})

    assert [order.number for order in response.context["orders"]] == [
        "#1000",
        "#1001",
        "#999",
        "#1002",
    ]
    assert _sorted_header(response.content.decode()) == ("Placed", "descending")


def test_a_sort_header_swaps_the_results_with_htmx_and_keeps_the_filters(staff_client, four_orders):
    response = staff_client.get(
        LIST_URL, {"sort": "total", "status": "placed"}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert "<html" not in html  # the fragment, not the page
    assert _sorted_header(html) == ("Total", "ascending")
    # Its header asks for the other direction, with the filter kept, into the results.
    total_link = re.search(r'<a class="sort-link sort-link--ascending" href="([^"]+)"', html)
    assert "sort=-total" in total_link.group(1)
    assert "status=placed" in total_link.group(1)
    assert 'hx-target="#order-results"' in html


# The order page's chips ----------------------------------------------------------------------


def test_the_order_page_shows_its_statuses_as_chips_with_words(staff_client, shop):
    order = OrderFactory(
        shop=shop, status=OrderStatus.SHIPPED, financial_status=FinancialStatus.PAID
    )
    ShipmentFactory(order=order, status=ShipmentStatus.EXCEPTION)

    html = staff_client.get(reverse("dashboard:order_detail", args=[order.pk])).content.decode()

    assert '<span class="status-chip status-chip--info">Shipped</span>' in html
    assert '<span class="status-chip status-chip--success">Paid</span>' in html
    assert '<span class="status-chip status-chip--attention">Exception</span>' in html
    assert 'class="badge' not in html
    # The page header: the order's number, its one line of context, one filled button.
    assert "<h1>Order #" in html
    assert re.search(r'<p class="page-head__context">Placed [^<]+ via REST API</p>', html)
    actions = html.split('class="page-head__actions"')[1].split("</div>")[0]
    assert len(re.findall(r'class="button"', actions)) == 1
    assert "Messages for this order" in actions
