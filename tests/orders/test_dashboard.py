import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import MessageStatus
from orders.models import OrderEvent, OrderStatus, ShipmentStatus
from returns.services import return_request_approve
from tests.factories import (
    ConsentFactory,
    CustomerFactory,
    LineItemFactory,
    OrderEventFactory,
    OrderFactory,
    ShipmentFactory,
    ShopFactory,
    StaffMembershipFactory,
    TrackingEventFactory,
)
from tests.notifications.test_dashboard import _message
from tests.returns.test_dashboard import delivered_line, file_return, manual_policy

pytestmark = pytest.mark.django_db

LIST_URL = reverse("dashboard:order_list")
HOME_URL = reverse("dashboard:home")
SWITCH_URL = reverse("dashboard:shop_select")


class _AssetCollector(HTMLParser):
    """Collects what the page loads: script src, stylesheet/link href, img src."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.assets.append(value)


def _assets(html: str) -> list[str]:
    collector = _AssetCollector()
    collector.feed(html)
    return collector.assets


def _order_links(response) -> set[str]:
    return {
        reverse("dashboard:order_detail", args=[order.pk]) for order in response.context["orders"]
    }


@pytest.mark.parametrize("url", [HOME_URL, LIST_URL, reverse("dashboard:order_detail", args=[1])])
def test_dashboard_pages_redirect_anonymous_visitors_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


def test_shop_select_requires_login(client, shop):
    response = client.post(SWITCH_URL, {"shop": shop.pk})

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_page_renders_its_form(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_order_page_of_another_shop_is_404(staff_client, other_shop):
    theirs = OrderFactory(shop=other_shop)

    response = staff_client.get(reverse("dashboard:order_detail", args=[theirs.pk]))

    assert response.status_code == 404


def test_order_list_and_overview_never_show_another_shops_orders(staff_client, shop, other_shop):
    mine = OrderFactory(shop=shop, number="#1111")
    OrderFactory(shop=other_shop, number="#2222")

    listing = staff_client.get(LIST_URL)
    overview = staff_client.get(HOME_URL)

    assert [o.number for o in listing.context["orders"]] == [mine.number]
    assert b"#2222" not in listing.content
    assert [o.number for o in overview.context["orders"]] == [mine.number]
    assert b"#2222" not in overview.content
    assert overview.context["overview"].orders_last_30_days == 1


def test_shop_switcher_is_shown_only_with_several_shops(staff_client, staff, other_shop):
    stranger = ShopFactory(name="Not Their Shop")
    alone = staff_client.get(HOME_URL)
    StaffMembershipFactory(user=staff, shop=other_shop)
    several = staff_client.get(HOME_URL)

    assert b'action="/dashboard/shop/"' not in alone.content
    assert b'action="/dashboard/shop/"' in several.content
    assert f'<option value="{other_shop.pk}"'.encode() in several.content
    assert f'<option value="{stranger.pk}"'.encode() not in several.content
    assert stranger.name.encode() not in several.content


def test_shop_switcher_moves_to_a_member_shop_and_shows_its_orders(
    staff_client, staff, shop, other_shop
):
    StaffMembershipFactory(user=staff, shop=other_shop)
    OrderFactory(shop=shop, number="#1111")
    theirs = OrderFactory(shop=other_shop, number="#2222")

    response = staff_client.post(SWITCH_URL, {"shop": other_shop.pk, "next": LIST_URL})
    listing = staff_client.get(LIST_URL)

    assert response.status_code == 302
    assert response.url == LIST_URL
    assert [o.number for o in listing.context["orders"]] == [theirs.number]
    assert listing.context["current_shop"] == other_shop


def test_shop_switcher_refuses_a_shop_the_user_is_not_a_member_of(staff_client, shop, other_shop):
    OrderFactory(shop=shop, number="#1111")
    OrderFactory(shop=other_shop, number="#2222")

    response = staff_client.post(SWITCH_URL, {"shop": other_shop.pk})
    listing = staff_client.get(LIST_URL)

    assert response.status_code == 404
    assert [o.number for o in listing.context["orders"]] == ["#1111"]


def test_shop_switcher_never_redirects_off_site(staff_client, staff, other_shop):
    StaffMembershipFactory(user=staff, shop=other_shop)

    response = staff_client.post(
        SWITCH_URL, {"shop": other_shop.pk, "next": "https://evil.example/phish"}
    )

    assert response.status_code == 302
    assert response.url == HOME_URL


def test_shop_switcher_rejects_get(staff_client, shop):
    assert staff_client.get(SWITCH_URL, {"shop": shop.pk}).status_code == 405


@pytest.mark.parametrize("query", ["#3141", "3141"])
def test_order_list_searches_by_number_with_or_without_hash(staff_client, shop, query):
    wanted = OrderFactory(shop=shop, number="#3141")
    OrderFactory(shop=shop, number="#2718")

    response = staff_client.get(LIST_URL, {"q": query})

    assert _order_links(response) == {reverse("dashboard:order_detail", args=[wanted.pk])}


def test_order_list_searches_by_email_and_by_name(staff_client, shop):
    grace = OrderFactory(
        shop=shop, customer=CustomerFactory(shop=shop, first_name="Grace", last_name="Hopper")
    )
    other = OrderFactory(shop=shop, email="linus@kernel.example")

    by_name = staff_client.get(LIST_URL, {"q": "grace hopper"})
    by_email = staff_client.get(LIST_URL, {"q": "linus@kernel"})

    assert [o.pk for o in by_name.context["orders"]] == [grace.pk]
    assert [o.pk for o in by_email.context["orders"]] == [other.pk]


def test_order_list_filters_by_status_and_placed_dates(staff_client, shop):
    march = datetime(2024, 3, 5, 17, 0, tzinfo=UTC)
    wanted = OrderFactory(shop=shop, status=OrderStatus.SHIPPED, placed_at=march)
    OrderFactory(shop=shop, status=OrderStatus.PLACED, placed_at=march)
    OrderFactory(shop=shop, status=OrderStatus.SHIPPED, placed_at=march - timedelta(days=10))

    response = staff_client.get(
        LIST_URL, {"status": "shipped", "placed_from": "2024-03-01", "placed_to": "2024-03-31"}
    )

    assert [o.pk for o in response.context["orders"]] == [wanted.pk]
    assert b"1 order matching these filters" in response.content


def test_order_list_reports_a_bad_date_and_applies_the_other_filters(staff_client, shop):
    shipped = OrderFactory(shop=shop, status=OrderStatus.SHIPPED)
    OrderFactory(shop=shop, status=OrderStatus.PLACED)

    response = staff_client.get(LIST_URL, {"status": "shipped", "placed_from": "not-a-date"})

    assert response.status_code == 200
    assert [o.pk for o in response.context["orders"]] == [shipped.pk]
    assert b"Placed from: Enter a valid date." in response.content


def test_order_list_shows_an_empty_state(staff_client):
    empty = staff_client.get(LIST_URL)
    no_match = staff_client.get(LIST_URL, {"q": "nothing-like-this"})

    assert b"No orders yet" in empty.content
    assert b"No orders match" in no_match.content


def test_order_list_paginates_by_50_and_page_links_keep_the_filters(staff_client, shop):
    customer = CustomerFactory(shop=shop)
    OrderFactory.create_batch(120, shop=shop, customer=customer, status=OrderStatus.SHIPPED)
    OrderFactory.create_batch(5, shop=shop, customer=customer, status=OrderStatus.PLACED)

    first = staff_client.get(LIST_URL, {"status": "shipped", "q": customer.email})
    last = staff_client.get(LIST_URL, {"status": "shipped", "q": customer.email, "page": 3})

    page = first.context["page_obj"]
    assert page.paginator.num_pages == 3
    assert len(first.context["orders"]) == 50
    assert len(last.context["orders"]) == 20
    assert {o.status for o in last.context["orders"]} == {"shipped"}
    next_links = [
        href for href in _hrefs(first.content.decode()) if href.startswith("?") and "page=2" in href
    ]
    assert next_links
    params = parse_qs(urlsplit(next_links[0]).query)
    assert params["status"] == ["shipped"]
    assert params["q"] == [customer.email]


def _hrefs(html: str) -> list[str]:
    class Links(HTMLParser):
        found: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag == "a":
                self.found.extend(value for name, value in attrs if name == "href" and value)

    parser = Links()
    parser.found = []
    parser.feed(html)
    return parser.found


def test_htmx_request_gets_only_the_results_fragment(staff_client, shop):
    OrderFactory(shop=shop, number="#5555")

    full = staff_client.get(LIST_URL, {"q": "5555"})
    fragment = staff_client.get(LIST_URL, {"q": "5555"}, headers={"HX-Request": "true"})

    assert fragment.templates[0].name == "orders/partials/_order_rows.html"
    assert b"#5555" in fragment.content
    assert b"<html" not in fragment.content
    assert b'<form class="filters"' not in fragment.content
    assert b"<html" in full.content
    assert "HX-Request" in fragment["Vary"]


def test_htmx_history_restore_gets_the_whole_page(staff_client, shop):
    response = staff_client.get(
        LIST_URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )

    assert b"<html" in response.content


def test_order_list_costs_a_fixed_number_of_queries(
    staff_client, shop, django_assert_max_num_queries
):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = staff_client.get(LIST_URL, {"q": "customer"})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    for order in OrderFactory.create_batch(2, shop=shop):
        LineItemFactory(order=order)
    few = count_queries()
    for order in OrderFactory.create_batch(40, shop=shop):
        LineItemFactory(order=order, quantity=2)
    with django_assert_max_num_queries(10):
        many = count_queries()

    assert many == few


def test_overview_costs_a_fixed_number_of_queries(
    staff_client, shop, django_assert_max_num_queries
):
    for order in OrderFactory.create_batch(12, shop=shop):
        ShipmentFactory(order=order)

    with django_assert_max_num_queries(12):
        response = staff_client.get(HOME_URL)

    assert len(response.context["orders"]) == 10


def test_order_page_shows_totals_customer_shipments_and_timeline(staff_client, shop):
    customer = CustomerFactory(
        shop=shop, first_name="Grace", last_name="Hopper", phone="+14155550123"
    )
    ConsentFactory(customer=customer, channel="sms", status="granted")
    order = OrderFactory(
        shop=shop,
        customer=customer,
        number="#8080",
        subtotal=Decimal("1200.00"),
        discount_total=Decimal("100.00"),
        shipping_total=Decimal("9.99"),
        tax_total=Decimal("88.00"),
        total=Decimal("1197.99"),
        shipping_address1="1 Harbour Road",
        shipping_city="Arlington",
    )
    LineItemFactory(order=order, title="Compiler manual", quantity=2, unit_price=Decimal("600"))
    shipment = ShipmentFactory(
        order=order,
        carrier="UPS",
        tracking_number="1ZTRACK",
        tracking_url="https://carrier.example/track/1ZTRACK",
    )
    placed = timezone.now() - timedelta(days=2)
    TrackingEventFactory(
        shipment=shipment,
        status="in_transit",
        description="Departed hub",
        occurred_at=placed + timedelta(days=1),
    )
    OrderEventFactory(order=order, kind=OrderEvent.Kind.CREATED, note="", at=placed)

    response = staff_client.get(reverse("dashboard:order_detail", args=[order.pk]))
    html = response.content.decode()

    assert response.status_code == 200
    for text in (
        "Order #8080",
        "1,200.00 USD",
        "−100.00 USD",
        "9.99 USD",
        "88.00 USD",
        "1,197.99 USD",
        "Grace Hopper",
        "+14155550123",
        "1 Harbour Road",
        "Compiler manual",
        '<a href="https://carrier.example/track/1ZTRACK" rel="noopener noreferrer">1ZTRACK</a>',
        "Departed hub",
        "Order received",
    ):
        assert text in html, text
    consents = {row.channel: row.status for row in response.context["consents"]}
    assert consents == {"Email": "Not given", "SMS": "Granted", "WhatsApp": "Not given"}
    assert [e.kind for e in response.context["timeline"]] == ["created", "tracking"]


def test_order_page_costs_a_fixed_number_of_queries(staff_client, shop):
    def count_queries(order) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = staff_client.get(reverse("dashboard:order_detail", args=[order.pk]))
        assert response.status_code == 200
        return len(ctx.captured_queries)

    def order_with(size: int):
        order = OrderFactory(shop=shop)
        ConsentFactory(customer=order.customer)
        for _ in range(size):
            LineItemFactory(order=order)
            shipment = ShipmentFactory(order=order)
            TrackingEventFactory(shipment=shipment)
            OrderEventFactory(order=order, actor=StaffMembershipFactory(shop=shop).user)
        return order

    assert count_queries(order_with(1)) == count_queries(order_with(6))


def test_dates_are_shown_in_the_shops_time_zone(staff_client, shop):
    assert shop.timezone == "America/New_York"
    OrderFactory(shop=shop, placed_at=datetime(2024, 1, 15, 2, 30, tzinfo=UTC))

    response = staff_client.get(LIST_URL)

    # 02:30 UTC on the 15th is 21:30 on the 14th in New York.
    assert b"Jan 14, 2024, 21:30" in response.content
    assert b'datetime="2024-01-14T21:30:00-05:00"' in response.content


@pytest.mark.parametrize("page", ["home", "order_list", "order_detail", "login"])
def test_pages_load_assets_only_from_our_own_host(staff_client, client, shop, page):
    order = OrderFactory(shop=shop)
    ShipmentFactory(order=order, tracking_url="https://carrier.example/t/1")
    if page == "login":
        response = client.get(reverse("login"))
    elif page == "order_detail":
        response = staff_client.get(reverse("dashboard:order_detail", args=[order.pk]))
    else:
        response = staff_client.get(reverse(f"dashboard:{page}"))

    assets = _assets(response.content.decode())

    assert response.status_code == 200
    assert any(asset.endswith("css/staff.css") for asset in assets)
    assert any("django_htmx/htmx-2" in asset for asset in assets)
    assert [a for a in assets if not a.startswith("/") or a.startswith("//")] == []


def test_pages_have_landmarks_and_a_post_logout(staff_client, shop):
    html = staff_client.get(HOME_URL).content.decode()

    assert '<main id="main"' in html
    assert '<nav class="mainnav" aria-label="Main">' in html
    assert 'href="#main"' in html
    assert f'<form class="logout" method="post" action="{reverse("logout")}">' in html
    assert "{% block" not in html


def test_overview_shows_the_numbers_and_latest_orders(staff_client, shop):
    recent = timezone.now() - timedelta(days=1)
    OrderFactory(shop=shop, total=Decimal("1500.00"), placed_at=recent)
    OrderFactory(shop=shop, total=Decimal("20.00"), placed_at=recent, status="shipped")

    response = staff_client.get(HOME_URL)

    assert response.status_code == 200
    assert b"1,520.00 USD" in response.content
    assert response.context["overview"].orders_in_transit == 1
    assert len(response.context["orders"]) == 2


def _overview_stats(html: str) -> dict[str, tuple[str, str]]:
    """Each overview KPI card: its title → (the number as shown, where it links)."""
    stats = {}
    for block in re.findall(r'<article class="kpi[^"]*"[^>]*>(.*?)</article>', html, flags=re.S):
        title = re.search(r'<h2 class="kpi__label"[^>]*>(.*?)</h2>', block).group(1)
        link = re.search(r'<p class="kpi__value"><a href="([^"]+)">([^<]+)</a>', block)
        stats[title] = (link.group(2), link.group(1).replace("&amp;", "&")) if link else ("", "")
    return stats


def test_every_overview_number_links_to_the_list_it_counts(staff_client, shop):
    now = timezone.now()
    OrderFactory(shop=shop, placed_at=now - timedelta(days=2))
    OrderFactory(shop=shop, placed_at=now - timedelta(days=3), status=OrderStatus.SHIPPED)
    OrderFactory(shop=shop, placed_at=now - timedelta(days=45), status=OrderStatus.SHIPPED)
    OrderFactory(
        shop=shop,
        placed_at=now - timedelta(days=40),
        status=OrderStatus.DELIVERED,
        delivered_at=now - timedelta(days=3),
    )
    OrderFactory(
        shop=shop,
        placed_at=now - timedelta(days=90),
        status=OrderStatus.DELIVERED,
        delivered_at=now - timedelta(days=60),
    )
    # Two flagged parcels of one order and one of another: two orders to look into.
    flagged = OrderFactory(shop=shop, placed_at=now - timedelta(days=50))
    ShipmentFactory.create_batch(2, order=flagged, status=ShipmentStatus.EXCEPTION)
    ShipmentFactory(order=OrderFactory(shop=shop), status=ShipmentStatus.EXCEPTION)
    ShipmentFactory(order=OrderFactory(shop=shop), status=ShipmentStatus.IN_TRANSIT)
    # What the other apps count: a return to decide (and one decided), messages failed lately
    # (and long ago) and held.
    manual_policy(shop)
    return_request_approve(return_request=file_return(delivered_line(shop)))
    file_return(delivered_line(shop))
    _message(shop, status=MessageStatus.FAILED)
    _message(shop, status=MessageStatus.FAILED, created_at=now - timedelta(days=45))
    _message(shop, status=MessageStatus.HELD, created_at=now - timedelta(days=45))

    stats = _overview_stats(staff_client.get(HOME_URL).content.decode())

    assert set(stats) == {
        "Orders",
        "Revenue",
        "In transit",
        "Exceptions",
        "Delivered",
        "Returns to decide",
        "Messages failed",
        "Messages held",
    }
    # Delivered: the one above and the two returned orders, delivered two days ago.
    expected = {"Exceptions": "2", "Delivered": "3", "Returns to decide": "1"}
    expected |= {"Messages failed": "1", "Messages held": "1"}
    assert {title: stats[title][0] for title in expected} == expected
    for title, (shown, url) in stats.items():
        assert url.startswith("/dashboard/"), f"{title} links nowhere"
        listed = staff_client.get(url).context["page_obj"].paginator.count
        if title != "Revenue":  # an amount, linked to the orders it sums
            assert listed == int(shown.replace(",", "")), title
    assert stats["Revenue"][1] == stats["Orders"][1]
    assert stats["Exceptions"][1] == f"{LIST_URL}?shipment_status=exception"


def test_order_list_filters_by_shipment_status_and_shows_the_filter(staff_client, shop):
    flagged = OrderFactory(shop=shop)
    ShipmentFactory(order=flagged, status=ShipmentStatus.IN_TRANSIT)
    ShipmentFactory(order=flagged, status=ShipmentStatus.EXCEPTION)
    ShipmentFactory(order=OrderFactory(shop=shop), status=ShipmentStatus.IN_TRANSIT)
    OrderFactory(shop=shop)

    response = staff_client.get(LIST_URL, {"shipment_status": "exception"})

    assert [o.pk for o in response.context["orders"]] == [flagged.pk]
    assert re.search(
        r'<select name="shipment_status"[^>]*>.*<option value="exception" selected>',
        response.content.decode(),
        flags=re.S,
    )
    assert b'<label for="id_shipment_status">Shipment status</label>' in response.content


@pytest.mark.parametrize("query", ["#a-3141", "A-3141", "  # a-3141 "])
def test_order_list_search_ignores_case_and_a_leading_hash(staff_client, shop, query):
    wanted = OrderFactory(shop=shop, number="#A-3141")
    OrderFactory(shop=shop, number="#A-2718")

    response = staff_client.get(LIST_URL, {"q": query})

    assert _order_links(response) == {reverse("dashboard:order_detail", args=[wanted.pk])}


@pytest.mark.parametrize(
    "query", ["+4915123456789", "+49 151 2345-6789", "0151 23456789", "0151-2345-6789"]
)
def test_order_list_finds_customers_by_phone_as_staff_type_it(staff_client, shop, query):
    # A German shop: a number typed without its country code is read as German.
    shop.support_phone = "+49 30 901820"
    shop.save(update_fields=["support_phone"])
    customer = CustomerFactory(shop=shop, phone="+4915123456789")
    by_customer = OrderFactory(shop=shop, customer=customer)
    by_order = OrderFactory(shop=shop, phone="+4915123456789")
    OrderFactory(shop=shop, customer=CustomerFactory(shop=shop, phone="+4915199999999"))

    response = staff_client.get(LIST_URL, {"q": query})

    assert _order_links(response) == {
        reverse("dashboard:order_detail", args=[order.pk]) for order in (by_customer, by_order)
    }


def test_order_list_reads_a_national_phone_number_in_the_shops_locale_country(staff_client, shop):
    shop.support_phone, shop.sms_number, shop.locale = "", "", "de-AT"
    shop.save(update_fields=["support_phone", "sms_number", "locale"])
    wanted = OrderFactory(shop=shop, customer=CustomerFactory(shop=shop, phone="+436641234567"))
    OrderFactory(shop=shop)

    response = staff_client.get(LIST_URL, {"q": "0664 123 4567"})

    assert _order_links(response) == {reverse("dashboard:order_detail", args=[wanted.pk])}
