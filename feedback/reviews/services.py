"""Every write of reviews: the buyer's review and its edits, staff decisions, flagged photos,
the shop's public reply and the shop's incentive.

A review is published at once unless a content rule holds it (`moderation`), whatever its
rating; staff publish or reject a held one for one of those rules, and every decision is a
`ReviewEvent`. An edit keeps the version it replaces (`ReviewRevision`), a reply keeps every
text it had (`ReviewReplyRevision`). Each change gives the product's storefront outputs a new
cache version after it commits."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from feedback.events import FeedbackEventName
from feedback.models import (
    REVIEW_TRANSITIONS,
    CollectionMethod,
    IncentiveKind,
    Review,
    ReviewIncentive,
    ReviewPhoto,
    ReviewReply,
    ReviewReplyRevision,
    ReviewRevision,
    ReviewRule,
    ReviewStatus,
)
from feedback.reviews.cache import storefront_invalidate_on_commit
from feedback.reviews.moderation import ReviewContent, RuleHit, review_rule_hits
from feedback.reviews.selectors import reviewable_lines
from orders.models import Customer, Order, SettingsArea, Shop
from orders.photos import Photo
from orders.shop_settings.audit import settings_change_record
from orders.tenancy import staff_permission_require
from postpurchase import events, incentives, permissions
from postpurchase.exceptions import DomainError
from postpurchase.locks import row_lock
from postpurchase.permissions import Actor
from postpurchase.states import transition

VERIFIED_BUYER = "Verified buyer"


@dataclass(frozen=True)
class ReviewDraft:
    """What the buyer wrote about one product of their order."""

    line_item_id: int
    rating: int
    title: str
    body: str
    first_name_only: bool = False
    photos: Sequence[Photo] = ()


def author_name(customer: Customer | None, order: Order, *, first_name_only: bool) -> str:
    first, last = "", ""
    if customer is not None:
        first, last = customer.first_name.strip(), customer.last_name.strip()
    if not first and order.shipping_name.strip():
        first, _, last = order.shipping_name.strip().partition(" ")
        last = last.strip().split(" ")[-1] if last.strip() else ""
    if not first:
        return VERIFIED_BUYER
    if first_name_only or not last:
        return first
    return f"{first} {last[0].upper()}."


def _decision(hits: list[RuleHit]) -> str:
    return ReviewStatus.HELD if hits else ReviewStatus.PUBLISHED


def _hold_reasons(review: Review, hits: list[RuleHit]) -> None:
    review.held_rules = list(dict.fromkeys(str(hit.rule) for hit in hits))
    review.held_details = [f"{ReviewRule(hit.rule).label}: {hit.detail}" for hit in hits]


def _flagged_photos(review: Review) -> int:
    return review.photos.filter(is_current=True, flagged_not_product_at__isnull=False).count()


def _photos_add(review: Review, photos: Sequence[Photo]) -> None:
    ReviewPhoto.objects.bulk_create(
        ReviewPhoto(
            shop_id=review.shop_id,
            review=review,
            data=photo.data,
            content_type=photo.content_type,
            position=position,
        )
        for position, photo in enumerate(photos)
    )


def _incentive_mark(review: Review) -> None:
    incentive = ReviewIncentive.objects.filter(shop_id=review.shop_id).first()
    programme_points = incentives.review_points_offered(review.shop_id)
    if programme_points:
        # A loyalty programme pays for every published review: disclosed like any incentive.
        review.incentivized = True
        review.incentive_kind = IncentiveKind.POINTS
        review.incentive_points = programme_points
        review.incentive_discount_text = ""
        return
    if incentive is None or not incentive.is_offered:
        return
    # Offered for writing a review, whatever it says: recorded so storefronts disclose it.
    review.incentivized = True
    review.incentive_kind = incentive.kind
    review.incentive_points = incentive.points if incentive.kind == IncentiveKind.POINTS else 0
    review.incentive_discount_text = (
        incentive.discount_text if incentive.kind == IncentiveKind.DISCOUNT else ""
    )


def _check_draft(draft: ReviewDraft) -> None:
    if not 1 <= draft.rating <= 5:
        raise DomainError("Choose from 1 to 5 stars.")
    if len(draft.photos) > settings.FEEDBACK_REVIEW_PHOTOS_MAX:
        raise DomainError(f"Add at most {settings.FEEDBACK_REVIEW_PHOTOS_MAX} photos.")


def review_submit(*, order: Order, draft: ReviewDraft, now: datetime | None = None) -> Review:
    """The buyer's review of one product of `order`, new or edited (one per product and
    order). Refused (DomainError) for a line that is not this order's, not delivered, or
    returned. Published at once unless a content rule holds it."""
    _check_draft(draft)
    now = now or timezone.now()
    line = next((r.line for r in reviewable_lines(order) if r.line.pk == draft.line_item_id), None)
    if line is None or line.product_id is None:
        raise DomainError("This item cannot be reviewed from this link.")
    with transaction.atomic():
        review = (
            Review.objects.select_for_update()
            .filter(order=order, product_id=line.product_id)
            .first()
        )
        is_edit = review is not None
        if review is None:
            try:
                with transaction.atomic():
                    review = _review_create(order, line.pk, line.product_id, draft, now)
                changed = True
            except IntegrityError:
                # The same buyer's other tab got there first: this is an edit of that review.
                review = Review.objects.select_for_update().get(
                    order=order, product_id=line.product_id
                )
                is_edit, changed = True, _review_edit(review, draft, now)
        else:
            changed = _review_edit(review, draft, now)
        if changed:
            _submitted_publish(review, is_edit=is_edit, now=now)
        storefront_invalidate_on_commit(line.product_id)
    return review


def _submitted_publish(review: Review, *, is_edit: bool, now: datetime) -> None:
    """`review_submitted`: what follows a buyer's words (reading them, a case for 1-2★)."""
    events.publish(
        name=FeedbackEventName.REVIEW_SUBMITTED,
        shop_id=review.shop_id,
        review_id=review.pk,
        order_id=review.order_id,
        customer_id=review.customer_id,
        product_id=review.product_id,
        rating=review.rating,
        is_edit=is_edit,
        written_at=now.isoformat(),
    )


def _published_first(review: Review) -> None:
    """`review_published`, once per review: call where `published_at` was just set."""
    events.publish(
        name=FeedbackEventName.REVIEW_PUBLISHED,
        shop_id=review.shop_id,
        review_id=review.pk,
        order_id=review.order_id,
        customer_id=review.customer_id,
        product_id=review.product_id,
        has_photos=review.photos.filter(is_current=True).exists(),
        published_at=review.published_at.isoformat() if review.published_at else None,
    )


def _review_create(
    order: Order, line_id: int, product_id: int, draft: ReviewDraft, now: datetime
) -> Review:
    hits = review_rule_hits(ReviewContent(title=draft.title, body=draft.body))
    status = _decision(hits)
    review = Review(
        shop_id=order.shop_id,
        order=order,
        line_item_id=line_id,
        product_id=product_id,
        customer_id=order.customer_id,
        rating=draft.rating,
        title=draft.title.strip(),
        body=draft.body.strip(),
        first_name_only=draft.first_name_only,
        author_name=author_name(order.customer, order, first_name_only=draft.first_name_only),
        status=status,
        submitted_at=now,
        published_at=now if status == ReviewStatus.PUBLISHED else None,
        collection_method=CollectionMethod.POST_FULFILLMENT,
    )
    _hold_reasons(review, hits)
    _incentive_mark(review)
    review.save()
    _photos_add(review, draft.photos)
    review.record_transition(from_status="", to_status=status, actor=None, note="submitted")
    if review.published_at is not None:
        _published_first(review)
    return review


def _review_edit(review: Review, draft: ReviewDraft, now: datetime) -> bool:
    """Keep the version being replaced, write the new one and moderate it again. The same
    words sent again (a double submit, a reload) change nothing (False)."""
    unchanged = (
        review.rating == draft.rating
        and review.title == draft.title.strip()
        and review.body == draft.body.strip()
        and review.first_name_only == draft.first_name_only
    )
    if unchanged and not draft.photos:
        return False
    current_photos = review.photos.filter(is_current=True)
    ReviewRevision.objects.create(
        review=review,
        rating=review.rating,
        title=review.title,
        body=review.body,
        first_name_only=review.first_name_only,
        photo_count=current_photos.count(),
        status=review.status,
        written_at=review.edited_at or review.submitted_at,
    )
    if draft.photos:
        # New photos replace the old ones (kept, not shown, for the history).
        current_photos.update(is_current=False, updated_at=now)
        _photos_add(review, draft.photos)
    review.rating = draft.rating
    review.title = draft.title.strip()
    review.body = draft.body.strip()
    review.first_name_only = draft.first_name_only
    review.author_name = author_name(
        review.customer, review.order, first_name_only=draft.first_name_only
    )
    review.edited_at = now
    review.save(
        update_fields=[
            "rating",
            "title",
            "body",
            "first_name_only",
            "author_name",
            "edited_at",
            "updated_at",
        ]
    )
    _moderate_again(review, actor=None, note="edited by its author", now=now)
    return True


def _moderate_again(review: Review, *, actor: Actor, note: str, now: datetime) -> None:
    hits = review_rule_hits(
        ReviewContent(title=review.title, body=review.body, flagged_photos=_flagged_photos(review))
    )
    _hold_reasons(review, hits)
    to = _decision(hits)
    if not hits and review.is_rejected:
        # Staff rejected it: an edit that breaks no rule goes back to them, not live.
        to = ReviewStatus.HELD
        review.held_rules = []
        review.held_details = ["Edited after staff rejected it"]
    first_time = to == ReviewStatus.PUBLISHED and review.published_at is None
    if first_time:
        review.published_at = now
    transition(
        review,
        to=to,
        table=REVIEW_TRANSITIONS,
        actor=actor,
        note=note,
        extra_fields=("held_rules", "held_details", "published_at"),
    )
    if first_time:
        _published_first(review)


# --- Staff -------------------------------------------------------------------------------------


def _check(actor: Actor, review: Review, action: str) -> None:
    staff_permission_require(actor=actor, shop_id=review.shop_id, action=action)


@transaction.atomic
def review_publish(*, review: Review, actor: Actor, note: str = "") -> Review:
    _check(actor, review, permissions.REVIEW_MODERATE)
    row_lock(review)
    if review.is_published:
        raise DomainError("This review is already published.")
    first_time = review.published_at is None
    if first_time:
        review.published_at = timezone.now()
    review.rejected_rule = ""
    transition(
        review,
        to=ReviewStatus.PUBLISHED,
        table=REVIEW_TRANSITIONS,
        actor=actor,
        note=note or "published by staff",
        extra_fields=("published_at", "rejected_rule"),
    )
    if first_time:
        _published_first(review)
    storefront_invalidate_on_commit(review.product_id)
    return review


@transaction.atomic
def review_reject(*, review: Review, actor: Actor, rule: str, note: str = "") -> Review:
    """Reject for one of the content rules, the same list that holds reviews: there is no
    other reason to give."""
    _check(actor, review, permissions.REVIEW_MODERATE)
    if rule not in ReviewRule.values:
        raise DomainError("Choose the content rule the review breaks.")
    row_lock(review)
    if review.is_rejected:
        raise DomainError("This review is already rejected.")
    review.rejected_rule = rule
    transition(
        review,
        to=ReviewStatus.REJECTED,
        table=REVIEW_TRANSITIONS,
        actor=actor,
        note=note or f"rejected: {ReviewRule(rule).label}",
        extra_fields=("rejected_rule",),
    )
    storefront_invalidate_on_commit(review.product_id)
    return review


@transaction.atomic
def review_photo_flag(*, photo: ReviewPhoto, actor: Actor) -> ReviewPhoto:
    """Staff say the photo does not show the product: it is never shown again, and its review
    goes back to the queue under that rule (a published one until staff decide)."""
    review = photo.review
    _check(actor, review, permissions.REVIEW_MODERATE)
    row_lock(review)
    row_lock(photo)
    if photo.is_flagged:
        raise DomainError("This photo is already flagged.")
    photo.flagged_not_product_at = timezone.now()
    photo.flagged_by = actor
    photo.save(update_fields=["flagged_not_product_at", "flagged_by", "updated_at"])
    if not review.is_rejected:
        _moderate_again(review, actor=actor, note="a photo flagged", now=timezone.now())
    storefront_invalidate_on_commit(review.product_id)
    return photo


@transaction.atomic
def review_reply_save(*, review: Review, actor: Actor, body: str) -> ReviewReply:
    """The shop's one public reply to the review, new or edited; each text is kept."""
    _check(actor, review, permissions.REVIEW_REPLY)
    body = body.strip()
    if not body:
        raise DomainError("Write the reply.")
    row_lock(review)
    reply = ReviewReply.objects.filter(review=review).first()
    if reply is None:
        reply = ReviewReply.objects.create(review=review, body=body, author=actor)
    elif reply.body == body:
        return reply
    else:
        reply.body = body
        reply.author = actor
        reply.save(update_fields=["body", "author", "updated_at"])
    ReviewReplyRevision.objects.create(reply=reply, body=body, author=actor)
    storefront_invalidate_on_commit(review.product_id)
    return reply


@transaction.atomic
def review_incentive_save(
    *, shop: Shop, actor: Actor, kind: str, discount_text: str = "", points: int = 0
) -> ReviewIncentive:
    """What the shop offers for a review: nothing, a discount or loyalty points, for any
    review (there is no way to tie it to a rating)."""
    staff_permission_require(actor=actor, shop_id=shop.pk, action=permissions.REVIEW_INCENTIVE_EDIT)
    if kind not in IncentiveKind.values:
        raise DomainError("Choose an incentive.")
    if kind == IncentiveKind.DISCOUNT and not discount_text.strip():
        raise DomainError("Say what the discount is.")
    if kind == IncentiveKind.POINTS and points <= 0:
        raise DomainError("Give a number of points above zero.")
    incentive, _ = ReviewIncentive.objects.select_for_update().get_or_create(shop=shop)
    before = _incentive_words(incentive)
    incentive.kind = kind
    incentive.discount_text = discount_text.strip() if kind == IncentiveKind.DISCOUNT else ""
    incentive.points = points if kind == IncentiveKind.POINTS else 0
    incentive.save()
    after = _incentive_words(incentive)
    if before != after:
        settings_change_record(
            shop_id=shop.pk,
            actor=actor,
            area=SettingsArea.FEEDBACK,
            action="review_incentive.changed",
            subject="review incentive",
            changes={"offer for any review": (before, after)},
        )
    return incentive


def _incentive_words(incentive: ReviewIncentive) -> str:
    if incentive.kind == IncentiveKind.POINTS:
        return f"{incentive.points} loyalty points"
    if incentive.kind == IncentiveKind.DISCOUNT:
        return f"discount: {incentive.discount_text}"
    return "none"
