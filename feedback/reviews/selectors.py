"""Reads of reviews: what a customer's link may review, the shop's queue and its numbers, and
the published reviews storefronts show. Each read is scoped: a token's order, a staff member's
shop, a shop's public slug."""

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.module_loading import import_string

from feedback.models import Review, ReviewEvent, ReviewPhoto, ReviewRule, ReviewStatus
from feedback.tokens import order_id_from_token
from orders.models import LineItem, Order, Product, ShipmentItem, ShipmentStatus, Shop
from orders.tenancy import scoped

STARS = (1, 2, 3, 4, 5)


# --- The customer's review page ------------------------------------------------------------


def review_order_for_token(token: str) -> Order | None:
    """The order a review link names, with its shop and customer; None for a bad, expired or
    made-up token, or an order that no longer exists."""
    order_id = order_id_from_token(token)
    if order_id is None:
        return None
    return Order.objects.select_related("shop", "customer").filter(pk=order_id).first()


@lru_cache(maxsize=4)
def _returned_lines_check(path: str) -> Callable[[Collection[int]], set[int]]:
    return import_string(path)


def returned_line_ids(line_ids: Collection[int]) -> set[int]:
    # Returns are another app of this layer: read through the settings-named function.
    return set(_returned_lines_check(settings.FEEDBACK_RETURNED_LINES)(line_ids))


def _delivered_line_ids(order: Order, lines: list[LineItem]) -> set[int]:
    """Lines that reached the customer: all of a delivered order, else those in a parcel the
    carrier delivered (one parcel of a split order may arrive first)."""
    if order.is_delivered:
        return {line.pk for line in lines}
    delivered = ShipmentItem.objects.filter(
        line_item__order=order, shipment__status=ShipmentStatus.DELIVERED
    ).values_list("line_item_id", flat=True)
    return set(delivered)


def _photos_current() -> Prefetch:
    return Prefetch("photos", queryset=ReviewPhoto.objects.filter(is_current=True).defer("data"))


@dataclass
class ReviewableLine:
    """One product of the order the customer may review, and their review of it if any."""

    line: LineItem
    product: Product
    review: Review | None = None
    photos: list[ReviewPhoto] = field(default_factory=list)


def reviewable_lines(order: Order) -> list[ReviewableLine]:
    """Each product of the order its buyer may review: lines of this order only, delivered,
    not (wholly) returned, one entry per product; none for an order whose payment was voided or
    refunded in full (no sale). Three or four queries."""
    if order.is_payment_reversed or order.is_cancelled:
        return []
    lines = list(
        LineItem.objects.filter(order=order, product__isnull=False)
        .select_related("product")
        .order_by("pk")
    )
    delivered = _delivered_line_ids(order, lines)
    returned = returned_line_ids([line.pk for line in lines if line.pk in delivered])
    reviews = {
        review.product_id: review
        for review in Review.objects.filter(order=order).prefetch_related(_photos_current())
    }
    found: dict[int, ReviewableLine] = {}
    for line in lines:
        product = line.product  # never None: filtered in the query
        if product is None or line.pk not in delivered or line.pk in returned:
            continue
        if product.pk in found:
            continue
        review = reviews.get(product.pk)
        photos = list(review.photos.all()) if review else []
        found[product.pk] = ReviewableLine(line, product, review, photos)
    return list(found.values())


# --- The dashboard ---------------------------------------------------------------------------


def review_list_for_shop(
    *,
    shop: Shop,
    status: str = "",
    rating: int | None = None,
    rule: str = "",
    query: str = "",
    ordering: tuple[str, ...] = ("-submitted_at", "-pk"),
) -> QuerySet[Review]:
    reviews = scoped(Review, shop).select_related("product", "order", "reply")
    if status:
        reviews = reviews.filter(status=status)
    if rating:
        reviews = reviews.filter(rating=rating)
    if rule:
        reviews = reviews.filter(Q(held_rules__contains=[rule]) | Q(rejected_rule=rule))
    if query:
        reviews = reviews.filter(
            Q(title__icontains=query)
            | Q(body__icontains=query)
            | Q(product__title__icontains=query)
            | Q(order__number__iexact=query.lstrip("#"))
            | Q(order__number__iexact=f"#{query.lstrip('#')}")
        )
    return reviews.order_by(*ordering)


def review_status_counts(*, shop: Shop) -> dict[str, int]:
    rows = scoped(Review, shop).values("status").annotate(n=Count("pk"))
    counts = dict.fromkeys(ReviewStatus.values, 0)
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def review_get_for_shop(*, shop: Shop, review_id: int) -> Review:
    review = (
        scoped(Review, shop)
        .select_related("product", "order", "customer", "reply", "reply__author")
        .filter(pk=review_id)
        .first()
    )
    if review is None:
        raise Http404("No such review")
    return review


def review_get(*, review_id: int) -> Review | None:
    """A review with its shop, order and customer (what a follow-up reads on its event)."""
    return Review.objects.select_related("shop", "order", "customer").filter(pk=review_id).first()


def review_photo_get_for_shop(*, shop: Shop, review_id: int, photo_id: int) -> ReviewPhoto:
    photo = scoped(ReviewPhoto, shop).filter(review_id=review_id, pk=photo_id).first()
    if photo is None:
        raise Http404("No such photo")
    return photo


def review_events(*, review: Review) -> list[ReviewEvent]:
    return list(review.events.select_related("actor").order_by("at", "pk"))


@dataclass(frozen=True)
class StarRate:
    """Of the reviews submitted with this many stars, how many are published now."""

    stars: int
    submitted: int
    published: int

    @property
    def rate(self) -> Decimal | None:
        if not self.submitted:
            return None
        share = Decimal(self.published) * 100 / Decimal(self.submitted)
        return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def publish_rate_by_star(*, shop: Shop) -> list[StarRate]:
    """1★ to 5★: reviews submitted and published now, one query. The rule on consumer reviews
    forbids publishing low ratings less: this is where anyone can see that it does not."""
    rows = (
        scoped(Review, shop)
        .values("rating")
        .annotate(
            submitted=Count("pk"), published=Count("pk", filter=Q(status=ReviewStatus.PUBLISHED))
        )
    )
    by_star: dict[int, tuple[int, int]] = {
        row["rating"]: (row["submitted"], row["published"]) for row in rows
    }
    return [StarRate(star, *by_star.get(star, (0, 0))) for star in STARS]


def rule_choices() -> list[tuple[str, str]]:
    return [(str(value), str(label)) for value, label in ReviewRule.choices]


# --- Storefronts -------------------------------------------------------------------------------


def storefront_shop(slug: str) -> Shop:
    shop = Shop.objects.filter(slug=slug, is_active=True).first()
    if shop is None:
        raise Http404("No such shop")
    return shop


def storefront_product(*, shop: Shop, handle: str) -> Product:
    """A product by the shop's own id for it (its platform id): never our row id."""
    product = Product.objects.filter(shop=shop, external_id=handle).exclude(external_id="").first()
    if product is None:
        raise Http404("No such product")
    return product


def published_reviews(*, product: Product) -> QuerySet[Review]:
    return (
        Review.objects.filter(product=product, status=ReviewStatus.PUBLISHED)
        .select_related("reply")
        .prefetch_related(
            Prefetch(
                "photos",
                queryset=ReviewPhoto.objects.filter(
                    is_current=True, flagged_not_product_at__isnull=True
                ).defer("data"),
                to_attr="shown_photos",
            )
        )
        .order_by("-submitted_at", "-pk")
    )


@dataclass(frozen=True)
class RatingSummary:
    count: int
    average: Decimal | None
    distribution: dict[int, int]


def rating_summary(*, product: Product) -> RatingSummary:
    """Published reviews only: count, average (one decimal) and how many of each star."""
    rows = (
        Review.objects.filter(product=product, status=ReviewStatus.PUBLISHED)
        .values("rating")
        .annotate(n=Count("pk"))
    )
    distribution = dict.fromkeys(STARS, 0)
    distribution.update({row["rating"]: row["n"] for row in rows})
    count = sum(distribution.values())
    if not count:
        return RatingSummary(0, None, distribution)
    total = sum(star * n for star, n in distribution.items())
    average = (Decimal(total) / Decimal(count)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return RatingSummary(count, average, distribution)


def photo_shown_get(*, token: str) -> ReviewPhoto:
    """A photo as storefronts show it: of a published review, current and not flagged."""
    photo = ReviewPhoto.objects.filter(
        token=token,
        is_current=True,
        flagged_not_product_at__isnull=True,
        review__status=ReviewStatus.PUBLISHED,
    ).first()
    if photo is None:
        raise Http404("No such photo")
    return photo


def feed_reviews(*, shop: Shop) -> QuerySet[Review]:
    return (
        Review.objects.filter(shop=shop, status=ReviewStatus.PUBLISHED)
        .select_related("product", "order")
        .prefetch_related("product__variants")
        .order_by("submitted_at", "pk")
    )


def feed_deleted_review_ids(*, shop: Shop) -> list[str]:
    """Reviews published once and taken down since (rejected, or held after an edit)."""
    return list(
        Review.objects.filter(shop=shop, published_at__isnull=False)
        .exclude(status=ReviewStatus.PUBLISHED)
        .order_by("pk")
        .values_list("public_id", flat=True)
    )
