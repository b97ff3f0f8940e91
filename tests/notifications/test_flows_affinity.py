"""Frequently bought together: lift from the shop's own orders, and what to suggest."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from notifications.engine.planning import event_schedule_messages
from notifications.services import messages_claim_due, messages_send
from orders.events import OrderEventName
from orders.models import OrderStatus, ProductAffinity
from orders.recommendations import RecommendedProduct, products_bought_with
from orders.services import product_affinities_compute
from orders.tasks import product_affinities_compute_task
from postpurchase.events import Event
from tests.factories import (
    CustomerFactory,
    LineItemFactory,
    OrderFactory,
    ProductAffinityFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db


def basket(shop, *products, days_ago=10, **order_fields):
    order = OrderFactory(
        shop=shop, placed_at=timezone.now() - timedelta(days=days_ago), **order_fields
    )
    for product in products:
        LineItemFactory(order=order, product=product, title=product.title)
    return order


def pairs(shop) -> dict[tuple[str, str], tuple[int, float]]:
    return {
        (a.product.title, a.related.title): (a.orders_together, round(a.lift, 6))
        for a in ProductAffinity.objects.filter(shop=shop).select_related("product", "related")
    }


def test_lift_from_the_shops_own_recent_orders_checked_by_hand(shop, other_shop):
    a, b, c, d, e = (ProductFactory(shop=shop, title=t) for t in "ABCDE")
    basket(shop, a, a, b)  # the same product twice in an order counts once
    basket(shop, a, b)
    basket(shop, a, c)
    basket(shop, b, c)
    basket(shop, d)
    basket(shop, a, b, c)
    basket(shop, c, e)
    basket(shop, c, e)
    # Not counted: older than a year, cancelled, another shop's.
    for _ in range(3):
        basket(shop, a, e, days_ago=400)
        basket(shop, a, d, status=OrderStatus.CANCELLED)
    x, y = ProductFactory(shop=other_shop), ProductFactory(shop=other_shop)
    basket(other_shop, x, y)
    basket(other_shop, x, y)
    stale = ProductAffinityFactory(product=a, related=d, lift=9.0)

    written = product_affinities_compute(shop_id=shop.pk)

    # 8 orders; A in 4, B in 4, C in 5, E in 2.
    # A+B: 3 orders, lift 3*8/(4*4) = 1.5. C+E: 2 orders, lift 2*8/(5*2) = 1.6.
    # A+C and B+C: 2 orders each, lift 2*8/(4*5) = 0.8: not above 1, dropped.
    assert pairs(shop) == {
        ("A", "B"): (3, 1.5),
        ("B", "A"): (3, 1.5),
        ("C", "E"): (2, 1.6),
        ("E", "C"): (2, 1.6),
    }
    assert written == 4
    assert not ProductAffinity.objects.filter(pk=stale.pk).exists()
    assert ProductAffinity.objects.filter(shop=other_shop).count() == 0


def test_a_pair_bought_together_once_is_not_kept(shop):
    a, b, filler = (ProductFactory(shop=shop) for _ in range(3))
    basket(shop, a, b)
    for _ in range(5):
        basket(shop, filler)

    product_affinities_compute(shop_id=shop.pk)

    assert ProductAffinity.objects.filter(shop=shop).count() == 0


def test_at_most_ten_partners_per_product_the_strongest_first(shop):
    star = ProductFactory(shop=shop, title="star")
    partners = [ProductFactory(shop=shop, title=f"p{i:02d}") for i in range(12)]
    filler = ProductFactory(shop=shop)
    for i, partner in enumerate(partners):
        basket(shop, star, partner)
        basket(shop, star, partner)
        for _ in range(i):  # later partners sell more on their own: lower lift
            basket(shop, partner)
    for _ in range(100):  # enough other orders that all twelve pairs have a lift above 1
        basket(shop, filler)

    product_affinities_compute(shop_id=shop.pk)

    kept = ProductAffinity.objects.filter(product=star).order_by("-lift")
    assert [a.related.title for a in kept] == [f"p{i:02d}" for i in range(10)]


def test_recomputing_replaces_the_shops_rows(shop):
    a, b = ProductFactory(shop=shop), ProductFactory(shop=shop)
    basket(shop, a, b)
    basket(shop, a, b)
    basket(shop, ProductFactory(shop=shop))
    product_affinities_compute(shop_id=shop.pk)
    first = set(ProductAffinity.objects.values_list("pk", flat=True))

    assert product_affinities_compute_task(shop.pk) == 2

    assert ProductAffinity.objects.count() == 2
    assert first.isdisjoint(ProductAffinity.objects.values_list("pk", flat=True))


def test_suggestions_ranked_by_lift_never_given_never_already_bought(shop, other_shop):
    tea, cup = ProductFactory(shop=shop, title="Tea"), ProductFactory(shop=shop, title="Cup")
    kettle = ProductFactory(shop=shop, title="Kettle", url="https://s.test/kettle")
    honey, strainer, tray, lemon = (
        ProductFactory(shop=shop, title=t) for t in ("Honey", "Strainer", "Tray", "Lemon")
    )
    for related, lift in ((cup, 9.0), (kettle, 3.0), (honey, 5.0), (strainer, 2.0), (tray, 1.5)):
        ProductAffinityFactory(product=tea, related=related, lift=lift)
    ProductAffinityFactory(product=cup, related=strainer, lift=4.0)
    ProductAffinityFactory(product=cup, related=lemon, lift=1.2)
    customer = CustomerFactory(shop=shop)
    basket(shop, honey, customer=customer)
    basket(shop, tray, customer=customer, status=OrderStatus.CANCELLED)  # not bought

    found = products_bought_with(
        shop_id=shop.pk, product_ids=[tea.pk, cup.pk], customer_id=customer.pk
    )

    assert [p.title for p in found] == ["Strainer", "Kettle", "Tray"]
    assert found[1] == RecommendedProduct(title="Kettle", url="https://s.test/kettle", image_url="")
    assert products_bought_with(shop_id=other_shop.pk, product_ids=[tea.pk], customer_id=None) == []
    assert (
        len(products_bought_with(shop_id=shop.pk, product_ids=[tea.pk], customer_id=None, limit=2))
        == 2
    )


def test_the_order_confirmation_email_shows_what_is_often_bought_together(shop):
    tea = ProductFactory(shop=shop, title="Green tea")
    kettle = ProductFactory(
        shop=shop,
        title="Glass kettle",
        url="https://s.test/kettle",
        image_url="https://s.test/k.png",
    )
    ProductAffinityFactory(product=tea, related=kettle, lift=3.0)
    order = basket(shop, tea)
    placed = Event(
        id=1, name=OrderEventName.ORDER_PLACED, shop_id=shop.pk, payload={"order_id": order.pk}
    )

    (message,) = event_schedule_messages(placed)
    messages_send(message_ids=messages_claim_due())

    assert message.context["recommendations"] == [
        {
            "title": "Glass kettle",
            "url": "https://s.test/kettle",
            "image_url": "https://s.test/k.png",
        }
    ]
    (email,) = mail.outbox
    assert "Often bought together:\n- Glass kettle: https://s.test/kettle" in email.body
    html = email.alternatives[0][0]
    assert "Often bought together" in html
    assert '<a href="https://s.test/kettle"' in html
    assert 'src="https://s.test/k.png"' in html


def test_no_block_when_there_is_nothing_to_suggest(shop):
    order = basket(shop, ProductFactory(shop=shop))
    placed = Event(
        id=1, name=OrderEventName.ORDER_PLACED, shop_id=shop.pk, payload={"order_id": order.pk}
    )

    (message,) = event_schedule_messages(placed)
    messages_send(message_ids=messages_claim_due())

    assert message.context["recommendations"] == []
    (email,) = mail.outbox
    assert "Often bought together" not in email.body
    assert "Often bought together" not in email.alternatives[0][0]
    token = message.order.tracking_token
    assert email.body.endswith(f"Follow your order: https://shop.test/track/{token}/")


def test_the_delivered_email_carries_suggestions_too(shop):
    tea, kettle = ProductFactory(shop=shop, title="Tea"), ProductFactory(shop=shop, title="Kettle")
    ProductAffinityFactory(product=tea, related=kettle, lift=2.0)
    order = basket(shop, tea)
    shipment = order.shipments.create(shop=shop, status="delivered", delivered_at=timezone.now())
    event = Event(
        id=1,
        name=OrderEventName.SHIPMENT_STATUS_CHANGED,
        shop_id=shop.pk,
        payload={"order_id": order.pk, "shipment_id": shipment.pk, "to_status": "delivered"},
    )

    (message,) = [m for m in event_schedule_messages(event) if m.kind == "shipment_delivered"]

    assert [p["title"] for p in message.context["recommendations"]] == ["Kettle"]
