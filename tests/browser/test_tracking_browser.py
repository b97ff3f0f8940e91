"""The tracking pages in headless Chromium: they fit a 360-px phone, pass axe-core's serious and
critical rules, reach the page from the lookup form, and refresh themselves from our own host.

Test data is written before the page opens: the live server reads it from another thread."""

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Page, expect

from orders.models import Order
from tests.factories import (
    LineItemFactory,
    OrderFactory,
    ShipmentFactory,
    ShipmentItemFactory,
    ShopFactory,
    TrackingEventFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

PHONE_WIDTH = 360
DESKTOP = {"width": 1280, "height": 800}
# Long titles, one with a word too long for a phone's line: the page must wrap, never scroll.
LONG_TITLES = [
    "Organic cotton weekend duvet cover with two matching pillowcases, king size, oat melange",
    "Hand-thrown stoneware breakfast set: four plates, four bowls and four mugs in speckled sand",
    "Supercalifragilisticexpialidociouslylongunbrokenproductnamefromaspreadsheetimport-XL-0042",
]


def _scroll_width(page: Page) -> int:
    """The document's width with every collapsed section (tracking history, guides) open."""
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    return page.evaluate("document.documentElement.scrollWidth")


def _blocking_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations that stop a customer: impact serious or critical."""
    violations = Axe().run(page).response["violations"]
    return [v for v in violations if v.get("impact") in ("serious", "critical")]


def _describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[node['target'] for node in v['nodes']]}"
        for v in violations
    )


def _assert_accessible(page: Page) -> None:
    violations = _blocking_violations(page)
    assert not violations, "axe-core, serious or critical:\n" + _describe(violations)


def _assert_stylesheet_applied(page: Page) -> None:
    """Without customer.css every layout fits any width: the width check must mean something."""
    card = page.locator(".card").first
    assert card.evaluate("el => getComputedStyle(el).borderTopStyle") == "solid"
    assert card.evaluate("el => getComputedStyle(el).borderTopWidth") == "1px"


def _split_order() -> Order:
    """An order in two parcels: one in transit with its scans and an estimate, one delivered."""
    now = timezone.now()
    shop = ShopFactory(name="Oat & Sand Homewares", support_phone="+44 20 7946 0958")
    order = OrderFactory(shop=shop, status="shipped", placed_at=now - timedelta(days=4))
    lines = [LineItemFactory(order=order, title=title, quantity=2) for title in LONG_TITLES]
    travelling = ShipmentFactory(
        order=order,
        status="in_transit",
        carrier="Royal Mail",
        tracking_url="https://www.royalmail.com/track-your-item#/tracking-results/AB123456789GB",
        estimated_delivery_date=timezone.localdate() + timedelta(days=3),
        shipped_at=now - timedelta(days=2),
        last_event_at=now - timedelta(hours=3),
    )
    for hours, status, where in [
        (47, "label_created", "Leeds Mail Centre"),
        (30, "in_transit", "Northampton National Distribution Centre"),
        (3, "in_transit", "London Central Delivery Office"),
    ]:
        TrackingEventFactory(
            shipment=travelling,
            status=status,
            occurred_at=now - timedelta(hours=hours),
            location=where,
            description="Your item has been processed at our sorting centre",
        )
    ShipmentItemFactory(shipment=travelling, line_item=lines[0], quantity=2)
    ShipmentItemFactory(shipment=travelling, line_item=lines[1], quantity=2)
    delivered = ShipmentFactory(
        order=order,
        status="delivered",
        shipped_at=now - timedelta(days=3),
        delivered_at=now - timedelta(days=1),
        last_event_at=now - timedelta(days=1),
    )
    TrackingEventFactory(
        shipment=delivered, status="delivered", occurred_at=now - timedelta(days=1)
    )
    ShipmentItemFactory(shipment=delivered, line_item=lines[2], quantity=2)
    return order


def _track_url(live_server, order: Order, suffix: str = "") -> str:
    return f"{live_server.url}/track/{order.tracking_token}/{suffix}"


def test_split_order_page_fits_a_phone_and_a_desktop_and_passes_axe(live_server, page: Page):
    order = _split_order()

    page.goto(_track_url(live_server, order))

    _assert_stylesheet_applied(page)
    assert _scroll_width(page) <= PHONE_WIDTH
    expect(page.get_by_role("heading", level=1)).to_contain_text(order.number)
    expect(page.get_by_role("heading", name=re.compile("Parcel 1 of 2"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Parcel 2 of 2"))).to_be_visible()
    expect(page.get_by_text("London Central Delivery Office")).to_be_visible()  # history opened
    _assert_accessible(page)

    page.set_viewport_size(DESKTOP)
    page.reload()

    assert _scroll_width(page) <= DESKTOP["width"]
    expect(page.get_by_role("heading", level=1)).to_contain_text(order.number)
    _assert_accessible(page)


def test_exception_page_shows_the_trouble_on_a_phone(live_server, page: Page):
    order = OrderFactory(status="shipped")
    LineItemFactory(order=order, title=LONG_TITLES[2])
    shipment = ShipmentFactory(order=order, status="exception", last_event_at=timezone.now())
    TrackingEventFactory(
        shipment=shipment,
        status="exception",
        description="Delivery attempted: business closed, no safe place to leave the parcel",
    )

    page.goto(_track_url(live_server, order))

    _assert_stylesheet_applied(page)
    notice = page.locator(".notice--trouble")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("The carrier reported a problem")
    assert _scroll_width(page) <= PHONE_WIDTH
    _assert_accessible(page)


def test_lookup_form_fits_a_phone_and_leads_to_the_tracking_page(live_server, page: Page):
    # A number of its own: the lookup allows few attempts per number an hour, across runs too.
    order = OrderFactory(
        status="shipped", number=f"#B{uuid4().int % 10**9}", email="ada.lovelace@example.org"
    )
    LineItemFactory(order=order)

    page.goto(f"{live_server.url}/track/")
    _assert_stylesheet_applied(page)
    assert _scroll_width(page) <= PHONE_WIDTH
    _assert_accessible(page)
    page.get_by_label(re.compile("order number", re.I)).fill(order.number)
    page.get_by_label(re.compile("email", re.I)).fill("ada.lovelace@example.org")
    page.locator("main form [type=submit]").click()

    page.wait_for_url(_track_url(live_server, order))
    expect(page.get_by_role("heading", level=1)).to_contain_text(order.number)


def test_problem_report_page_fits_a_phone_and_passes_axe(live_server, page: Page):
    order = _split_order()

    response = page.goto(_track_url(live_server, order, "problem/"))

    assert response is not None
    assert response.status == 200
    _assert_stylesheet_applied(page)
    assert _scroll_width(page) <= PHONE_WIDTH
    _assert_accessible(page)


def test_problem_report_sends_from_the_tracking_page(live_server, page: Page):
    """A real browser's POST, Origin header and all, must get past CSRF (a `no-referrer` policy
    makes Chromium send `Origin: null`, which Django refuses)."""
    order = _split_order()
    page.goto(_track_url(live_server, order))

    page.get_by_role("link", name=re.compile("report a problem", re.I)).click()
    page.get_by_label(re.compile("damaged", re.I)).check()
    page.get_by_role("textbox").fill("Two of the mugs arrived in pieces; the box was crushed.")
    page.locator("main form [type=submit]").click()

    expect(page.locator(".notice--ok")).to_be_visible()
    assert order.problem_reports.get().description.startswith("Two of the mugs")


def test_undelivered_page_polls_with_htmx_served_from_our_own_host(live_server, page: Page):
    order = _split_order()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(_track_url(live_server, order))

    shipments = page.locator("#shipments")
    expect(shipments).to_have_attribute("hx-get", f"/track/{order.tracking_token}/shipments/")
    expect(shipments.get_by_role("link", name="Refresh")).to_have_attribute(
        "href", f"/track/{order.tracking_token}/"
    )
    page.wait_for_function("() => window.htmx !== undefined")
    assert any("htmx" in url for url in requested), requested
    ours = urlsplit(live_server.url).netloc
    assert [url for url in requested if urlsplit(url).netloc != ours] == []


def test_undelivered_page_swaps_in_news_when_it_polls(live_server, page: Page):
    order = _split_order()
    # A fake clock lets the polling interval pass at once.
    page.clock.install()
    page.goto(_track_url(live_server, order))
    trigger = page.locator("#shipments").get_attribute("hx-trigger") or ""
    interval = re.fullmatch(r"every (\d+)s", trigger)
    assert interval, trigger
    expect(page.locator("#shipments .status--in_transit")).to_be_visible()
    expect(page.locator("#shipments .status--out_for_delivery")).to_have_count(0)

    travelling = order.shipments.get(status="in_transit")
    TrackingEventFactory(shipment=travelling, status="out_for_delivery", location="Camden Town")
    travelling.status = "out_for_delivery"
    travelling.save(update_fields=["status", "updated_at"])
    with page.expect_response(re.compile(r"/shipments/$")) as polled:
        page.clock.run_for((int(interval[1]) + 1) * 1000)

    assert polled.value.status == 200
    expect(page.locator("#shipments .status--out_for_delivery")).to_be_visible()
    expect(page.locator("#shipments")).to_contain_text("Camden Town")
