"""A customer returns an item on a phone: from the tracking page's link, through the review,
to the return's page, with no horizontal scroll and no serious accessibility problem."""

from datetime import timedelta
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from returns.models import ReturnRequest
from returns.services import return_policy_for
from tests.factories import (
    LineItemFactory,
    OrderFactory,
    ProductFactory,
    ShopFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def serious(page) -> list:
    violations = Axe().run(page).response["violations"]
    return [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]])
        for v in violations
        if v.get("impact") in ("serious", "critical")
    ]


def fits_a_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_customer_exchanges_an_item_on_a_phone(page, live_server):
    shop = ShopFactory(name="Fern & Co")
    order = OrderFactory(
        shop=shop,
        status="delivered",
        delivered_at=timezone.now() - timedelta(days=2),
        number="#7301",
    )
    cover = ProductFactory(shop=shop, title="Organic cotton duvet cover with two pillowcases")
    medium = VariantFactory(product=cover, title="M", inventory_quantity=3)
    VariantFactory(product=cover, title="L", inventory_quantity=3)
    LineItemFactory(
        order=order,
        product=cover,
        variant=medium,
        title=cover.title,
        variant_title="M",
        quantity=2,
        unit_price=Decimal("30.00"),
    )
    return_policy_for(shop)

    page.goto(f"{live_server.url}/track/{order.tracking_token}/")
    page.get_by_role("link", name="Return or exchange an item").click()
    page.wait_for_url(f"**/returns/{order.tracking_token}/")
    page.wait_for_load_state()
    assert fits_a_phone(page)
    assert serious(page) == []

    page.select_option("select[name^=quantity_]", "1")
    page.select_option("select[name^=reason_]", "too_small")
    page.check("input[value=exchange]")
    page.check("input[value=drop_off]")
    page.click("button[value=review]")
    page.wait_for_selector("button[value=confirm]")
    page.wait_for_load_state()
    assert fits_a_phone(page)
    assert serious(page) == []

    page.click("button[value=confirm]")
    page.wait_for_selector("#return-status")
    page.wait_for_load_state()
    assert fits_a_phone(page)
    assert serious(page) == []

    (filed,) = ReturnRequest.objects.filter(order=order)
    assert filed.rma in page.content()
    assert filed.items.get().resolution == "exchange"
