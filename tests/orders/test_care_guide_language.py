"""A care guide is shown as the shop wrote it, marked with the language it is written in, so a
German page with an English guide says which part is English; the admin says each guide's
language."""

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import OrderStatus
from tests.factories import (
    CustomerFactory,
    LineItemFactory,
    OrderFactory,
    ProductFactory,
    ShopFactory,
)

pytestmark = pytest.mark.django_db


def delivered_order_in(shop_locale: str, customer_locale: str):
    shop = ShopFactory(locale=shop_locale)
    buyer = CustomerFactory(shop=shop, locale=customer_locale)
    return OrderFactory(
        shop=shop, customer=buyer, status=OrderStatus.DELIVERED, delivered_at=timezone.now()
    )


def page(client, order) -> str:
    return client.get(reverse("tracking:page", args=[order.tracking_token])).content.decode()


def test_an_english_guide_on_a_german_page_is_marked_english(client):
    order = delivered_order_in("en", "de")
    teapot = ProductFactory(
        shop=order.shop,
        title="Teapot",
        care_guide="Rinse with hot water.",
        care_guide_language="en",
    )
    LineItemFactory(order=order, product=teapot, title="Teapot")

    html = page(client, order)

    assert '<html lang="de">' in html
    assert '<details class="guide" lang="en" open>' in html
    assert "Rinse with hot water." in html


def test_a_guide_without_a_language_is_in_the_shops(client):
    order = delivered_order_in("de", "en")
    teapot = ProductFactory(shop=order.shop, title="Teekanne", care_guide="Heiß ausspülen.")
    LineItemFactory(order=order, product=teapot, title="Teekanne")

    html = page(client, order)

    assert '<html lang="en">' in html
    assert '<details class="guide" lang="de" open>' in html


def test_the_admin_says_which_language_each_guide_is_in(admin_client):
    shop = ShopFactory(locale="en")
    ProductFactory(shop=shop, title="Teapot", care_guide="Rinse.", care_guide_language="de")
    ProductFactory(shop=shop, title="Cup", care_guide="Wash.")
    ProductFactory(shop=shop, title="Spoon")

    html = admin_client.get(reverse("admin:orders_product_changelist")).content.decode()

    assert "Care guide" in html
    assert "Deutsch" in html
    assert "English (the shop’s)" in html
