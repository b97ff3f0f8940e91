"""Frequently bought together, as read by the customer's pages and messages: the few products
the shop's own orders show go with these ones (the pairs are computed nightly into
`ProductAffinity` by `orders.services.affinities`)."""

from dataclasses import dataclass

from django.db.models import Max

from orders.models import LineItem, OrderStatus, Product, ProductAffinity


@dataclass(frozen=True)
class RecommendedProduct:
    title: str
    url: str
    image_url: str


def products_bought_with(
    *, shop_id: int, product_ids: list[int], customer_id: int | None, limit: int = 3
) -> list[RecommendedProduct]:
    """Up to `limit` products often bought with these ones, best lift first: never one of
    them, and never one the customer already bought (in an order that was not cancelled)."""
    if not product_ids:
        return []
    candidates = (
        ProductAffinity.objects.filter(shop_id=shop_id, product_id__in=product_ids)
        .exclude(related_id__in=product_ids)
        .values("related_id")
        .annotate(best=Max("lift"))
        .order_by("-best", "related_id")
    )
    if customer_id is not None:
        bought = LineItem.objects.filter(
            order__customer_id=customer_id, product__isnull=False
        ).exclude(order__status=OrderStatus.CANCELLED)
        candidates = candidates.exclude(related_id__in=bought.values("product_id"))
    ranked = [row["related_id"] for row in candidates[:limit]]
    products = Product.objects.in_bulk(ranked)
    return [
        RecommendedProduct(title=p.title, url=p.url, image_url=p.image_url)
        for p in (products[pk] for pk in ranked)
    ]
