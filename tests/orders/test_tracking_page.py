"""The customer's tracking page at /track/<token>/: what it shows, in whose time and language,
how little it costs, and who can open it."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from orders.models import OrderStatus, ShipmentStatus, TrackingPageViews
from orders.services.page_view_counts import tracking_page_views_flush
from orders.services.tracking import tracking_link_renew
from postpurchase.redis import redis_client
from tests.factories import (
    CustomerFactory,
    LineItemFactory,
    OrderFactory,
    ProductAffinityFactory,
    ProductFactory,
    ShipmentFactory,
    ShipmentItemFactory,
    ShopFactory,
    TrackingEventFactory,
)

pytestmark = pytest.mark.django_db


def url(order) -> str:
    return f"/track/{order.tracking_token}/"


def text(response) -> str:
    """The page's visible words, tags dropped and spaces squeezed."""
    html = response.content.decode()
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def current_stage(response) -> str:
    (label,) = re.findall(
        r'aria-current="step">\s*<span class="progress__label">([^<]+)</span>',
        response.content.decode(),
    )
    return label


@pytest.fixture
def order(shop):
    customer = CustomerFactory(shop=shop, timezone="America/Los_Angeles", locale="en-US")
    return OrderFactory(shop=shop, customer=customer, number="#4242")


def test_an_order_not_shipped_yet_shows_its_items_and_that_it_is_being_prepared(client, order):
    LineItemFactory(order=order, title="Copper kettle", quantity=2)

    response = client.get(url(order))

    assert response.status_code == 200
    page = text(response)
    assert "Order #4242" in page
    assert "Copper kettle" in page
    assert "× 2" in page
    assert "We are getting your order ready" in page
    assert current_stage(response) == "Ordered"
    assert order.shop.name in page


@pytest.mark.parametrize(
    ("status", "stage"),
    [
        (ShipmentStatus.PENDING, "Ordered"),
        (ShipmentStatus.LABEL_CREATED, "Shipped"),
        (ShipmentStatus.IN_TRANSIT, "In transit"),
        (ShipmentStatus.OUT_FOR_DELIVERY, "Out for delivery"),
        (ShipmentStatus.DELIVERED, "Delivered"),
    ],
)
def test_every_stage_is_shown_as_the_current_step(client, order, status, stage):
    ShipmentFactory(order=order, status=status)

    response = client.get(url(order))

    assert current_stage(response) == stage
    done = response.content.decode().count("progress__step--done")
    assert done == ["Ordered", "Shipped", "In transit", "Out for delivery", "Delivered"].index(
        stage
    )


def test_a_split_order_shows_each_parcel_its_items_and_what_has_not_shipped(client, order):
    kettle = LineItemFactory(order=order, title="Copper kettle")
    cups = LineItemFactory(order=order, title="Tea cups", quantity=4)
    first = ShipmentFactory(order=order, carrier="UPS", tracking_number="1Z999", status="delivered")
    second = ShipmentFactory(
        order=order,
        carrier="DHL",
        tracking_number="JD0123",
        tracking_url="https://carrier.example/track/JD0123",
        status="in_transit",
    )
    ShipmentItemFactory(shipment=first, line_item=kettle)
    ShipmentItemFactory(shipment=second, line_item=cups, quantity=3)

    response = client.get(url(order))

    page = text(response)
    assert "Parcel 1 of 2" in page
    assert "Parcel 2 of 2" in page
    assert "UPS" in page
    assert "DHL" in page
    assert 'href="https://carrier.example/track/JD0123"' in response.content.decode()
    assert "Not shipped yet" in page
    unshipped = page.split("Not shipped yet")[1].split("Your items")[0]
    assert "Tea cups × 1" in unshipped
    assert "Copper kettle" not in unshipped


def test_a_shipment_without_an_item_list_carries_everything(client, order):
    LineItemFactory(order=order, title="Copper kettle")
    ShipmentFactory(order=order, status="in_transit")

    assert "Not shipped yet" not in text(client.get(url(order)))


def test_an_exception_says_so_plainly_with_what_happens_next(client, order):
    shipment = ShipmentFactory(order=order, status=ShipmentStatus.EXCEPTION)
    TrackingEventFactory(shipment=shipment, status="in_transit")
    TrackingEventFactory(shipment=shipment, status="exception", description="Address not found")

    response = client.get(url(order))

    page = text(response)
    assert "The carrier reported a problem delivering this parcel." in page
    assert "we are following it up" in page
    assert "Delivery problem: Address not found" in page
    assert "Report a problem with this order" in page
    assert current_stage(response) == "In transit"  # as far as its scans got


def test_a_parcel_past_its_estimated_date_is_called_late(client, order):
    ShipmentFactory(
        order=order,
        status="in_transit",
        estimated_delivery_date=timezone.now().date() - timedelta(days=2),
        last_event_at=timezone.now(),
    )

    assert "This parcel is running late" in text(client.get(url(order)))


def test_a_parcel_without_a_scan_for_days_is_called_out(client, order):
    ShipmentFactory(
        order=order, status="in_transit", last_event_at=timezone.now() - timedelta(days=6)
    )

    assert "has not scanned this parcel for a few days" in text(client.get(url(order)))


def test_a_parcel_on_its_way_back_says_what_happens(client, order):
    ShipmentFactory(order=order, status=ShipmentStatus.RETURNED_TO_SENDER)

    assert "This parcel is on its way back to us." in text(client.get(url(order)))


def test_times_are_in_the_customers_timezone(client, order):
    shipment = ShipmentFactory(order=order, status="in_transit")
    # 03:30 UTC on 10 June is 20:30 the evening before in Los Angeles (PDT, UTC-7).
    TrackingEventFactory(
        shipment=shipment,
        status="in_transit",
        description="Arrived at facility",
        occurred_at=datetime(2026, 6, 10, 3, 30, tzinfo=UTC),
    )

    response = client.get(url(order))

    page = text(response)
    assert "June 9, 2026, 8:30 p.m." in page
    assert "Times in America/Los Angeles." in page
    assert response["Content-Language"] == "en"


def test_a_german_customer_reads_the_page_in_german_in_berlin_time(client, shop):
    customer = CustomerFactory(shop=shop, timezone="Europe/Berlin", locale="de-DE")
    order = OrderFactory(shop=shop, customer=customer, number="#4711")
    shipment = ShipmentFactory(
        order=order, status="in_transit", estimated_delivery_date=date(2026, 6, 12)
    )
    TrackingEventFactory(
        shipment=shipment,
        status="in_transit",
        description="",
        occurred_at=datetime(2026, 6, 10, 3, 30, tzinfo=UTC),
    )

    response = client.get(url(order))

    page = text(response)
    assert response["Content-Language"] == "de"
    assert '<html lang="de">' in response.content.decode()
    assert "Bestellung #4711" in page
    assert "Voraussichtliche Zustellung 12. Juni 2026" in page
    assert "10. Juni 2026, 05:30 Unterwegs" in page  # 03:30 UTC is 05:30 in Berlin (CEST)
    assert current_stage(response) == "Unterwegs"
    assert "Ein Problem mit dieser Bestellung melden" in page


def test_a_customer_without_a_timezone_sees_the_shops(client, shop):
    shop.timezone = "Asia/Tokyo"
    shop.save()
    order = OrderFactory(shop=shop, customer=CustomerFactory(shop=shop, timezone=""))
    shipment = ShipmentFactory(order=order, status="in_transit")
    TrackingEventFactory(shipment=shipment, occurred_at=datetime(2026, 6, 10, 3, 30, tzinfo=UTC))

    assert "June 10, 2026, 12:30 p.m." in text(client.get(url(order)))


def test_the_query_count_does_not_grow_with_items_parcels_and_scans(
    client, order, django_assert_max_num_queries
):
    def render() -> int:
        # A fresh version each time, so the page is rendered and not served from the cache.
        order.save(update_fields=["updated_at"])
        with django_assert_max_num_queries(8) as captured:
            assert client.get(url(order)).status_code == 200
        return len(captured.captured_queries)

    LineItemFactory(order=order, product=ProductFactory(shop=order.shop))
    ShipmentFactory(order=order)
    small = render()
    for n in range(12):
        line = LineItemFactory(order=order, product=ProductFactory(shop=order.shop))
        shipment = ShipmentFactory(order=order, status="in_transit")
        ShipmentItemFactory(shipment=shipment, line_item=line)
        TrackingEventFactory.create_batch(3, shipment=shipment, description=f"scan {n}")

    assert render() == small


def test_a_cached_or_unchanged_page_costs_no_query(client, order, django_assert_num_queries):
    ShipmentFactory(order=order, status="in_transit")
    first = client.get(url(order))

    with django_assert_num_queries(0):
        again = client.get(url(order))
    with django_assert_num_queries(0):
        unchanged = client.get(url(order), HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.content == first.content
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged["ETag"] == first["ETag"]


def test_once_the_cache_lapses_an_unchanged_page_costs_one_query_and_no_render(
    client, order, django_assert_num_queries
):
    first = client.get(url(order))
    redis_client().delete(f"pp:track:tok:{order.tracking_token}")  # as when its TTL runs out

    with django_assert_num_queries(1):
        unchanged = client.get(url(order), HTTP_IF_NONE_MATCH=first["ETag"])

    assert unchanged.status_code == 304


def test_any_saved_change_to_the_order_shows_at_once(client, order):
    line = LineItemFactory(order=order, title="Copper kettle")
    assert "Copper kettle" in text(client.get(url(order)))

    line.title = "Brass kettle"
    line.save()

    assert "Brass kettle" in text(client.get(url(order)))


def test_a_new_product_picture_shows_at_once(client, order):
    kettle = ProductFactory(shop=order.shop, title="Kettle")
    LineItemFactory(order=order, product=kettle)
    client.get(url(order))

    kettle.image_url = "https://cdn.shop.test/kettle.png"
    kettle.save()

    assert 'src="https://cdn.shop.test/kettle.png"' in client.get(url(order)).content.decode()


def test_last_modified_answers_if_modified_since(client, order):
    first = client.get(url(order))

    again = client.get(url(order), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert first["Cache-Control"] == "private, no-cache"
    assert again.status_code == 304


def test_a_new_scan_changes_the_etag_and_the_page(client, order):
    shipment = ShipmentFactory(order=order, status="in_transit")
    first = client.get(url(order))

    TrackingEventFactory(shipment=shipment, description="Departed the depot in Reno")
    after = client.get(url(order), HTTP_IF_NONE_MATCH=first["ETag"])

    assert after.status_code == 200
    assert after["ETag"] != first["ETag"]
    assert "Departed the depot in Reno" in text(after)


def test_a_shop_rebrand_changes_the_page(client, order):
    first = client.get(url(order))
    order.shop.name = "Renamed Goods"
    order.shop.save()

    after = client.get(url(order), HTTP_IF_NONE_MATCH=first["ETag"])

    assert after.status_code == 200
    assert "Renamed Goods" in text(after)


def test_a_revoked_token_stops_working_and_the_new_one_works(client, order):
    old = order.tracking_token
    assert client.get(url(order)).status_code == 200  # cached under the old token
    assert client.get(f"/track/{old}/shipments/").status_code == 200

    renewed = tracking_link_renew(order=order)

    assert client.get(f"/track/{old}/").status_code == 404
    assert client.get(f"/track/{old}/shipments/").status_code == 404
    assert client.get(url(renewed)).status_code == 200
    assert len(renewed.tracking_token) >= 22  # ≥ 128 bits in URL-safe base64


def test_every_unknown_token_gets_the_same_answer(client, order):
    old = order.tracking_token
    tracking_link_renew(order=order)

    answers = {
        client.get(f"/track/{token}/").content
        for token in (old, "x" * 32, order.tracking_token[:-1] + "A", "a" * 64)
    }

    assert len(answers) == 1
    assert b"This tracking link does not work" in answers.pop()


def test_each_token_opens_only_its_own_shops_order(client, order):
    other = OrderFactory(shop=ShopFactory(name="Other Goods"), number="#4242")

    mine = text(client.get(url(order)))
    theirs = text(client.get(url(other)))

    assert order.shop.name in mine
    assert "Other Goods" not in mine
    assert "Other Goods" in theirs
    assert order.shop.name not in theirs


def test_a_deactivated_shops_pages_are_gone(client, order):
    assert client.get(url(order)).status_code == 200  # cached
    order.shop.is_active = False
    order.shop.save()

    assert client.get(url(order)).status_code == 404


def test_the_shipment_block_polls_while_on_its_way_and_stops_once_delivered(client, order):
    shipment = ShipmentFactory(order=order, status="in_transit")
    partial = client.get(f"/track/{order.tracking_token}/shipments/")

    assert partial.status_code == 200
    assert b'hx-trigger="every 60s"' in partial.content
    assert b"<html" not in partial.content
    assert b"htmx" in client.get(url(order)).content

    shipment.status = ShipmentStatus.DELIVERED
    shipment.save()
    order.status = OrderStatus.DELIVERED
    order.delivered_at = timezone.now()
    order.save()

    assert b"hx-trigger" not in client.get(f"/track/{order.tracking_token}/shipments/").content
    assert b"htmx" not in client.get(url(order)).content


def test_care_guides_show_only_after_delivery(client, order):
    teapot = ProductFactory(shop=order.shop, title="Teapot", care_guide="Rinse with hot water.")
    LineItemFactory(order=order, product=teapot, title="Teapot")

    assert "Rinse with hot water." not in text(client.get(url(order)))

    order.status = OrderStatus.DELIVERED
    order.delivered_at = timezone.now()
    order.save()

    assert "Rinse with hot water." in text(client.get(url(order)))


def test_up_to_three_products_bought_together_never_one_already_bought(client, order):
    tea = ProductFactory(shop=order.shop, title="Sencha")
    LineItemFactory(order=order, product=tea)
    owned = ProductFactory(shop=order.shop, title="Owned Cup")
    LineItemFactory(order=OrderFactory(shop=order.shop, customer=order.customer), product=owned)
    ProductAffinityFactory(product=tea, related=owned, lift=9.0)
    for n, lift in enumerate((5.0, 4.0, 3.0, 2.0)):
        ProductAffinityFactory(
            product=tea,
            related=ProductFactory(
                shop=order.shop, title=f"Suggestion {n}", url=f"https://s.test/p{n}"
            ),
            lift=lift,
        )

    page = text(client.get(url(order)))

    assert "Often bought together" in page
    assert [f"Suggestion {n}" in page for n in range(4)] == [True, True, True, False]
    assert "Owned Cup" not in page


def test_the_preferences_link_leads_to_the_customers_preferences(client, order):
    response = client.get(url(order))

    (link,) = re.findall(r'href="(/preferences/[^"]+)"', response.content.decode())
    assert client.get(link).status_code == 200


def test_the_return_window_counts_from_delivery(order):
    now = timezone.now()
    assert not order.can_open_return(now)

    order.status = OrderStatus.DELIVERED
    order.delivered_at = now - timedelta(days=29)
    assert order.can_open_return(now)

    order.delivered_at = now - timedelta(days=31)
    assert not order.can_open_return(now)


def test_a_typical_page_with_its_css_is_well_under_60_kb(client, order):
    for n in range(4):
        line = LineItemFactory(order=order, title=f"A fairly long product title number {n}")
        shipment = ShipmentFactory(order=order, status="in_transit")
        ShipmentItemFactory(shipment=shipment, line_item=line)
        TrackingEventFactory.create_batch(
            8, shipment=shipment, description="In transit", location="Reno, NV"
        )

    html = client.get(url(order)).content
    (css_path,) = re.findall(r'href="(/static/[^"]+\.css)"', html.decode())
    css = b"".join(client.get(css_path).streaming_content)

    assert len(css) > 1000
    assert len(html) + len(css) < 60_000


def test_views_are_counted_and_flushed_once(client, order):
    redis_client().delete(f"pp:track:views:{order.pk}")
    first = client.get(url(order))
    client.get(url(order), HTTP_IF_NONE_MATCH=first["ETag"])
    client.get(f"/track/{order.tracking_token}/shipments/")  # a poll is not a view

    assert tracking_page_views_flush() >= 1
    assert tracking_page_views_flush() == 0
    views = TrackingPageViews.objects.get(order=order)
    assert views.view_count == 2
    assert views.first_viewed_at <= views.last_viewed_at

    client.get(url(order))
    tracking_page_views_flush()
    views.refresh_from_db()
    assert views.view_count == 3


def test_staff_opening_the_page_from_the_dashboard_are_not_counted(
    staff_client, order, django_assert_num_queries
):
    client = Client()  # the customer: no session
    redis_client().delete(f"pp:track:views:{order.pk}")
    staff_client.get(url(order))
    client.get(url(order))

    tracking_page_views_flush()

    assert TrackingPageViews.objects.get(order=order).view_count == 1
    with django_assert_num_queries(0):  # a customer without a session costs no auth query
        client.get(url(order))


def test_the_page_never_leaks_its_token_to_other_sites(client, order):
    ShipmentFactory(order=order, tracking_url="https://carrier.example/t/1", status="in_transit")

    response = client.get(url(order))

    assert response["Referrer-Policy"] == "no-referrer"
    assert '<meta name="referrer" content="no-referrer">' in response.content.decode()
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_an_estimated_date_is_shown_as_a_date(client, order):
    ShipmentFactory(order=order, status="in_transit", estimated_delivery_date=date(2031, 3, 14))

    assert "Estimated delivery March 14, 2031" in text(client.get(url(order)))


def test_a_new_orders_creation_costs_the_cache_nothing_until_its_page_exists(
    client, shop, monkeypatch
):
    forgotten: list[list[int]] = []
    monkeypatch.setattr(
        "orders.tracking.invalidation.tracking_page_forget", lambda ids: forgotten.append(ids)
    )
    order = OrderFactory(shop=shop)
    line = LineItemFactory(order=order, title="Copper kettle")
    ShipmentFactory(order=order)
    assert forgotten == []  # a flash sale's orders: nothing cached, nothing to drop

    assert "Copper kettle" in text(client.get(url(order)))
    line.title = "Brass kettle"
    line.save()

    assert forgotten == [[order.pk]]


def test_the_page_wears_the_shops_colour_from_a_stylesheet_not_a_style_attribute(client, order):
    order.shop.primary_colour = "#FDE68A"
    order.shop.save(update_fields=["primary_colour"])

    html = client.get(url(order)).content.decode()
    stylesheet = client.get("/track/brand/fde68a.css")

    assert '<link rel="stylesheet" href="/track/brand/fde68a.css">' in html
    assert "style=" not in html
    assert stylesheet.status_code == 200
    assert stylesheet.content == b":root { --brand: #fde68a; --on-brand: #111827; }\n"
    assert stylesheet["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("name", ["FDE68A", "fde68", "fde68a0", "red;a:b"])
def test_a_brand_stylesheet_is_only_ever_six_lowercase_hex_digits(client, name):
    assert client.get(f"/track/brand/{name}.css").status_code == 404
