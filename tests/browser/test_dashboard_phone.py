"""Merchant pages on a phone (360 px): the message rates, flows, suppressions and the return
policy editor fit the screen (a wide table scrolls inside its own box, the page never
sideways), and axe-core finds nothing serious or critical; every input has a label."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from notifications.engine.kinds import flows_ensure_defaults
from notifications.models import Message, MessageStatus, Suppression, SuppressionReason
from orders.models import Purpose, StaffRole
from returns.services import return_policy_for
from tests.browser.test_pages_policy import sign_in
from tests.factories import CustomerFactory, OrderFactory, ShopFactory, StaffMembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = {
    "message rates": "/dashboard/messages/",
    "flows": "/dashboard/messages/flows/",
    "suppressions": "/dashboard/messages/suppressions/",
    "return policy editor": "/dashboard/returns/policy/",
}


@pytest.fixture
def owner():
    shop = ShopFactory(name="Oat & Sand")
    flows_ensure_defaults(shop_id=shop.pk)
    return_policy_for(shop)
    customer = CustomerFactory(shop=shop)
    order = OrderFactory(shop=shop, customer=customer)
    for n, status in enumerate((MessageStatus.DELIVERED, MessageStatus.BOUNCED)):
        Message.objects.create(
            shop=shop,
            customer=customer,
            order=order,
            kind="shipment_out_for_delivery",
            channel="email",
            purpose=Purpose.TRANSACTIONAL,
            recipient="a-rather-long-address.for-a-phone@example.org",
            about_type="order",
            about_id=order.pk,
            send_at=timezone.now() - timedelta(hours=n + 1),
            sent_at=timezone.now() - timedelta(hours=n + 1),
            status=status,
            dedupe_key=f"phone:{n}",
        )
    Suppression.objects.create(
        shop=shop,
        channel="email",
        address="a-rather-long-address.for-a-phone@example.org",
        reason=SuppressionReason.HARD_BOUNCE,
    )
    return StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user


def serious(page) -> list:
    violations = Axe().run(page).response["violations"]
    return [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]])
        for v in violations
        if v.get("impact") in ("serious", "critical")
    ]


@pytest.mark.parametrize("name", PAGES)
def test_merchant_page_fits_a_phone_and_labels_every_input(page, live_server, owner, name):
    sign_in(page, live_server, owner)

    page.goto(f"{live_server.url}{PAGES[name]}")
    page.wait_for_load_state()

    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert serious(page) == []
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
          .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !el.getAttribute('aria-labelledby'))
          .map((el) => el.name)"""
    )
    assert unlabelled == []


def test_the_policy_editor_shows_each_reasons_label_whole_on_a_phone(page, live_server, owner):
    sign_in(page, live_server, owner)

    page.goto(f"{live_server.url}/dashboard/returns/policy/")
    page.wait_for_load_state()

    # "Arrived damaged" reads whole in its box (the box scrolls with its table if need be).
    width = page.locator("#id_reasons-3-label").evaluate("el => el.clientWidth")
    text = page.locator("#id_reasons-3-label").evaluate(
        "el => { const c = document.createElement('canvas').getContext('2d');"
        " c.font = getComputedStyle(el).font; return c.measureText(el.value).width; }"
    )
    assert width >= text
