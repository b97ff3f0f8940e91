"""The demo shop's product reviews, added by `seed_demo` (through `feedback.demo`):
a year of reviews from verified buyers, written days after delivery, backfilled as rows
(bulk_create, never through the services, so no message goes out). Mostly 4 and 5 stars, some
1 and 2; a few held by a content rule (a phone number, a link, a word on the list), some of
those rejected by staff; some with photos (small JPEGs in the product's
colour, made here with Pillow); replies from the shop, mostly to the low ratings; and the last
three months written under the shop's loyalty-points incentive, marked so."""

import colorsys
import io
import random
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from PIL import Image, ImageDraw

from feedback.models import (
    CollectionMethod,
    IncentiveKind,
    Review,
    ReviewEvent,
    ReviewIncentive,
    ReviewPhoto,
    ReviewReply,
    ReviewReplyRevision,
    ReviewRule,
    ReviewStatus,
)
from feedback.reviews.moderation import ReviewContent, review_rule_hits
from feedback.reviews.selectors import returned_line_ids
from feedback.reviews.services import author_name
from orders.demo import explicit_timestamps
from orders.models import LineItem, Order, OrderStatus, Shop

HISTORY = timedelta(days=365)
REVIEW_SHARE = 0.3
INCENTIVE_SINCE = timedelta(days=90)
INCENTIVE_POINTS = 50
_STARS = {5: 52, 4: 24, 3: 9, 2: 6, 1: 9}
_TEXTS = {
    5: [
        ("Exactly what I hoped for", "Great quality and it arrived quickly. I use it every day."),
        ("Love it", "Beautifully made, and it looks even better than in the photos."),
        ("Five stars", "Works perfectly, feels solid, and the packaging was lovely too."),
        ("Bought a second one", "So happy with this that I ordered another as a gift."),
    ],
    4: [
        ("Very good", "Does the job well. The colour is a little darker than shown."),
        ("Happy with it", "Good value for the price, though delivery took a few days longer."),
        ("Nice quality", "Solid and well finished. The instructions could be clearer."),
    ],
    3: [
        ("It is fine", "Does what it says, nothing more. Expected a sturdier finish."),
        ("Average", "Decent product, but the size runs a bit small for me."),
    ],
    2: [
        ("Disappointed", "The finish started to wear off after two weeks of normal use."),
        ("Not as described", "Smaller than the listing suggests and the lid does not close well."),
    ],
    1: [
        ("Broke quickly", "The handle snapped on the third day. Would not buy this again."),
        ("Arrived damaged", "The box was crushed and the item inside was cracked in two places."),
        ("Leaks", "Leaks every single time I use it, even with the seal pushed firmly in."),
    ],
}
# What a held review says: each breaks one content rule, at any rating.
_HELD_TEXTS = [
    "Text me on +1 (555) 010-2387 and I can tell you more about how it holds up.",
    "Found the same thing cheaper at www.bargain-home.example.com last week, just saying.",
    "This is crap, it stopped working after one week and nobody answered my email.",
    "Works well, email me at jo.reviewer@example.org if you want to see more photos.",
]
_REPLIES = {
    "low": "We are sorry to hear this. Our team has emailed you to put it right with a "
    "replacement or a refund, whichever you prefer.",
    "high": "Thank you for taking the time to write this, it means a lot to our small team!",
}


def demo_reviews_seed(*, shop: Shop, now: datetime, seed: int, **kwargs: Any) -> dict[str, int]:
    rng = random.Random(f"{seed}:reviews")  # noqa: S311 - demo data, not secrets
    ReviewIncentive.objects.create(shop=shop, kind=IncentiveKind.POINTS, points=INCENTIVE_POINTS)
    staff = get_user_model().objects.filter(memberships__shop=shop).first()
    with explicit_timestamps(Review, ReviewEvent, ReviewPhoto, ReviewReply, ReviewReplyRevision):
        created = _Reviews(rng, shop, now, staff).build()
    return {"reviews": created}


@lru_cache(maxsize=256)
def _photo(product_id: int, shade: int) -> bytes:
    """A small JPEG in the product's own colour (its hue from its id), with a lighter shape."""
    hue = (product_id * 0.137) % 1.0
    base = tuple(int(c * 255) for c in colorsys.hsv_to_rgb(hue, 0.45, 0.8))
    light = tuple(min(255, c + 60) for c in base)
    image = Image.new("RGB", (320, 240), base)
    draw = ImageDraw.Draw(image)
    draw.ellipse((90 + shade * 10, 50, 230 + shade * 10, 190), fill=light)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


class _Reviews:
    def __init__(self, rng: random.Random, shop: Shop, now: datetime, staff: Any) -> None:
        self.rng, self.shop, self.now, self.staff = rng, shop, now, staff
        self.photos: list[tuple[Review, ReviewPhoto]] = []
        self.events: list[tuple[Review, ReviewEvent]] = []
        self.replies: list[tuple[Review, ReviewReply]] = []

    def _orders(self) -> list[Order]:
        return list(
            Order.objects.filter(
                shop=self.shop,
                status__in=(OrderStatus.DELIVERED, OrderStatus.CLOSED),
                delivered_at__gte=self.now - HISTORY,
            )
            .select_related("customer")
            .prefetch_related(Prefetch("line_items", queryset=LineItem.objects.order_by("pk")))
            .order_by("delivered_at")
        )

    def build(self) -> int:
        orders = [o for o in self._orders() if self.rng.random() < REVIEW_SHARE]
        all_lines = [line.pk for order in orders for line in order.line_items.all()]
        returned = returned_line_ids(all_lines)
        reviews: list[Review] = []
        for order in orders:
            seen: set[int] = set()
            for line in order.line_items.all():
                product_id = line.product_id
                if product_id is None or line.pk in returned or product_id in seen:
                    continue
                seen.add(product_id)
                written = self._review(order, line, product_id)
                if written is not None:
                    reviews.append(written)
        Review.objects.bulk_create(reviews)
        for review, photo in self.photos:
            photo.review = review
        for review, event in self.events:
            event.review = review
        for review, reply in self.replies:
            reply.review = review
        ReviewPhoto.objects.bulk_create([photo for _, photo in self.photos])
        ReviewEvent.objects.bulk_create([event for _, event in self.events])
        ReviewReply.objects.bulk_create([reply for _, reply in self.replies])
        ReviewReplyRevision.objects.bulk_create(
            ReviewReplyRevision(
                reply=reply, body=reply.body, author=reply.author, at=reply.created_at
            )
            for _, reply in self.replies
        )
        return len(reviews)

    def _review(self, order: Order, line: LineItem, product_id: int) -> Review | None:
        rng = self.rng
        if order.delivered_at is None:
            return None
        written_at = order.delivered_at + timedelta(
            days=rng.randint(2, 12), hours=rng.randint(0, 20)
        )
        if written_at >= self.now - timedelta(hours=1):
            return None
        rating = rng.choices(list(_STARS), weights=list(_STARS.values()))[0]
        title, body = rng.choice(_TEXTS[rating])
        if rng.random() < 0.05:
            body = rng.choice(_HELD_TEXTS)
        hits = review_rule_hits(ReviewContent(title=title, body=body))
        status = ReviewStatus.HELD if hits else ReviewStatus.PUBLISHED
        first_name_only = rng.random() < 0.3
        review = Review(
            shop=self.shop,
            order=order,
            line_item=line,
            product_id=product_id,
            customer=order.customer,
            rating=rating,
            title=title,
            body=body,
            first_name_only=first_name_only,
            author_name=author_name(order.customer, order, first_name_only=first_name_only),
            status=status,
            held_rules=list(dict.fromkeys(str(hit.rule) for hit in hits)),
            held_details=[f"{ReviewRule(hit.rule).label}: {hit.detail}" for hit in hits],
            submitted_at=written_at,
            published_at=written_at if not hits else None,
            collection_method=CollectionMethod.POST_FULFILLMENT
            if rng.random() < 0.9
            else CollectionMethod.UNSOLICITED,
            created_at=written_at,
            updated_at=written_at,
        )
        if written_at >= self.now - INCENTIVE_SINCE:
            review.incentivized = True
            review.incentive_kind = IncentiveKind.POINTS
            review.incentive_points = INCENTIVE_POINTS
        self._event(review, "", status, written_at, None, "submitted")
        if hits and rng.random() < 0.3 and written_at < self.now - timedelta(days=3):
            # Staff read it two days later and decided it breaks the rule.
            decided = written_at + timedelta(days=2, hours=rng.randint(1, 8))
            review.status = ReviewStatus.REJECTED
            review.rejected_rule = review.held_rules[0]
            review.updated_at = decided
            self._event(review, status, ReviewStatus.REJECTED, decided, self.staff, "rejected")
        if rng.random() < 0.12:
            self._photos(review, written_at)
        if review.published_at and (rating <= 2 or rng.random() < 0.05):
            replied = written_at + timedelta(hours=rng.randint(3, 40))
            if replied < self.now:
                body_key = "low" if rating <= 2 else "high"
                reply = ReviewReply(
                    body=_REPLIES[body_key],
                    author=self.staff,
                    created_at=replied,
                    updated_at=replied,
                )
                self.replies.append((review, reply))
        return review

    def _photos(self, review: Review, at: datetime) -> None:
        for position in range(self.rng.randint(1, 2)):
            photo = ReviewPhoto(
                shop=self.shop,
                data=_photo(review.product_id, position),
                content_type="image/jpeg",
                position=position,
                created_at=at,
                updated_at=at,
            )
            self.photos.append((review, photo))

    def _event(
        self, review: Review, was: str, to: str, at: datetime, actor: Any, note: str
    ) -> None:
        event = ReviewEvent(
            from_status=was,
            to_status=to,
            actor=actor,
            rules=list(review.held_rules) if to == ReviewStatus.HELD else [],
            rule=review.rejected_rule if to == ReviewStatus.REJECTED else "",
            note=note,
            at=at,
        )
        self.events.append((review, event))
