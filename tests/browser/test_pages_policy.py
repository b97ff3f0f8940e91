"""Pages under their Content-Security-Policy in Chromium: the dashboard, an order, the email a
message sent, ops admin, the API docs and the preferences page render with their styles and
scripts, and the browser refuses nothing on any of them (the `page` fixture listens for that on
every browser test)."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from notifications.models import Message, MessageStatus
from orders.links import preferences_path
from orders.models import StaffRole
from tests.factories import (
    LineItemFactory,
    OrderFactory,
    ShipmentFactory,
    ShopFactory,
    StaffMembershipFactory,
    TrackingEventFactory,
    UserFactory,
    WebhookEventFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page: Page, live_server, user) -> None:
    """The browser gets the session a sign-in would have given `user`."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )


def computed(page_or_frame, selector: str, prop: str) -> str:
    return page_or_frame.locator(selector).first.evaluate(
        f"el => getComputedStyle(el).getPropertyValue('{prop}')"
    )


@pytest.fixture
def order():
    shop = ShopFactory(name="Oat & Sand", primary_colour="#0f766e")
    order = OrderFactory(shop=shop, status="shipped", placed_at=timezone.now() - timedelta(days=2))
    LineItemFactory(order=order, title="Stoneware mug", quantity=2)
    TrackingEventFactory(shipment=ShipmentFactory(order=order, status="in_transit"))
    return order


@pytest.fixture
def owner(order):
    return StaffMembershipFactory(shop=order.shop, role=StaffRole.OWNER).user


def test_the_watcher_hears_what_a_policy_refuses(live_server, page: Page, policy_reports):
    """The check the other tests rely on: a page breaking its policy is heard."""
    url = f"{live_server.url}/no-such-page-but-the-browser-gets-one/"
    page.route(
        url,
        lambda route: route.fulfill(
            status=200,
            headers={"Content-Type": "text/html", "Content-Security-Policy": "default-src 'self'"},
            body="<p style='color: red'>styled</p><script>document.title = 'ran'</script>",
        ),
    )

    page.goto(url)

    expect(page).not_to_have_title("ran")
    heard = list(policy_reports)
    policy_reports.clear()  # heard on purpose: not a failure of this test
    assert any("style" in report for report in heard), heard
    assert any("script" in report for report in heard), heard


def test_dashboard_home_and_an_order_page_under_the_policy(live_server, page: Page, order, owner):
    sign_in(page, live_server, owner)

    page.goto(f"{live_server.url}/dashboard/")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    assert computed(page, ".topbar", "display") != "inline"  # staff.css applies
    page.get_by_role("link", name=order.number).click()

    expect(page.get_by_role("heading", name=f"Order {order.number}")).to_be_visible()
    page.wait_for_function("() => window.htmx !== undefined")
    # htmx was told not to inject its own <style>: none may be in the head.
    assert page.locator("head style").count() == 0


def test_the_email_a_message_sent_keeps_its_inline_look_in_its_frame(
    live_server, page: Page, policy_reports, order, owner
):
    message = Message.objects.create(
        shop=order.shop,
        customer=order.customer,
        order=order,
        kind="order_confirmation",
        channel="email",
        purpose="transactional",
        recipient=order.email,
        about_type="order",
        about_id=order.pk,
        dedupe_key=f"browser:{order.pk}",
        send_at=timezone.now(),
        status=MessageStatus.SENT,
        subject="Your order",
        body_text="Thanks",
        body_html='<html><head></head><body><p style="color: rgb(200, 0, 0)">Thanks</p></body>'
        '<img src="https://pixel.example/open.gif" alt=""></html>',
    )
    sign_in(page, live_server, owner)

    page.goto(f"{live_server.url}/dashboard/messages/log/{message.pk}/")

    frame = page.frame_locator("iframe.message-frame")
    expect(frame.locator("p")).to_have_text("Thanks")
    assert computed(frame, "p", "color") == "rgb(200, 0, 0)"
    # The provider's open pixel is refused on purpose (staff looking is not the customer
    # opening): the only thing the frame's policy may refuse.
    for _ in range(100):
        pixel = [report for report in policy_reports if "pixel.example" in report]
        if pixel:
            break
        page.wait_for_timeout(50)
    assert pixel
    policy_reports[:] = [report for report in policy_reports if report not in pixel]


def test_ops_admin_signs_in_and_shows_a_delivery_under_the_policy(live_server, page: Page):
    ops = UserFactory(username="ops", is_staff=True, is_superuser=True)
    ops.set_password("an ops password 7")
    ops.save(update_fields=["password"])
    event = WebhookEventFactory(body='{"id": 1, "note": "a long line that wraps"}')

    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("ops")
    page.get_by_label("Password").fill("an ops password 7")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    page.goto(f"{live_server.url}/admin/orders/webhookevent/{event.pk}/change/")
    assert computed(page, "pre.ops-pre", "white-space") == "pre-wrap"  # admin.css applies


def test_the_api_docs_render_under_the_policy(live_server, page: Page):
    page.set_viewport_size({"width": 1280, "height": 800})

    page.goto(f"{live_server.url}/api/v1/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Postpurchase API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert computed(page, "body", "margin-top") == "0px"  # api_docs.css applies


def test_the_preferences_page_wears_the_shops_colour_from_its_stylesheet(
    live_server, page: Page, order
):
    page.goto(f"{live_server.url}{preferences_path(order.customer_id)}")

    expect(page.get_by_role("heading", name="Your message preferences")).to_be_visible()
    assert computed(page, ".prefs__brand", "background-color") == "rgb(15, 118, 110)"


def test_a_template_draft_previews_live_with_its_inline_styles(live_server, page: Page, owner):
    sign_in(page, live_server, owner)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/dashboard/templates/order_confirmation/?channel=email")
    expect(page.frame_locator(".template-preview__frame").locator("body")).to_contain_text(
        "Thank you for your order"
    )

    with page.expect_response(re.compile(r"/preview/$")):
        page.get_by_label("HTML", exact=True).fill(
            '<p style="color: rgb(0, 128, 0)">Order {{ order_number }} is on its way</p>'
        )

    frame = page.frame_locator(".template-preview__frame")
    expect(frame.locator("p").first).to_contain_text("is on its way")
    assert computed(frame, "p", "color") == "rgb(0, 128, 0)"
