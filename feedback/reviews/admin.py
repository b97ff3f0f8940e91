"""Ops' view of reviews: each review with its photos, versions, decisions and reply; publish and
reject (for a content rule) as actions that go through the same services as the dashboard,
so every decision is recorded. Reviews, versions and decisions are never edited here; the
shop's incentive is a setting, editable."""

from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from feedback.models import (
    Review,
    ReviewEvent,
    ReviewIncentive,
    ReviewPhoto,
    ReviewReply,
    ReviewReplyRevision,
    ReviewRevision,
    ReviewRule,
)
from feedback.reviews.services import review_publish, review_reject
from postpurchase.admin import OpsAdmin, ReadOnlyAdmin, ReadOnlyInline
from postpurchase.exceptions import DomainError

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class HeldRuleFilter(admin.SimpleListFilter):
    title = "rule"
    parameter_name = "rule"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(value), str(label)) for value, label in ReviewRule.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Review]) -> QuerySet[Review]:
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(held_rules__contains=[value]) | queryset.filter(rejected_rule=value)


class ReviewPhotoInline(ReadOnlyInline):
    model = ReviewPhoto
    # The bytes stay out of the page: staff see photos on the dashboard's review page.
    fields = ("position", "content_type", "is_current", "flagged_not_product_at", "flagged_by")
    readonly_fields = fields


class ReviewRevisionInline(ReadOnlyInline):
    model = ReviewRevision
    fields = ("written_at", "rating", "title", "body", "first_name_only", "photo_count", "status")
    readonly_fields = fields


class ReviewEventInline(ReadOnlyInline):
    model = ReviewEvent
    fields = ("at", "from_status", "to_status", "actor", "rules", "rule", "note")
    readonly_fields = fields


def _actor(request: HttpRequest) -> "User":
    # Admin's pages are for signed-in staff only: the user is never anonymous here.
    return cast("User", request.user)


def _decide(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Review],
    decide: Any,
    verb: str,
) -> None:
    done, failed = 0, []
    for review in queryset:
        try:
            decide(review)
        except DomainError as exc:
            failed.append(f"{review.pk}: {exc}")
        else:
            done += 1
    model_admin.message_user(request, f"{verb} {done} review(s).", messages.SUCCESS)
    if failed:
        model_admin.message_user(request, "; ".join(failed), messages.WARNING)


def _reject_action(rule: str, label: str) -> Any:
    def reject(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        _decide(
            model_admin,
            request,
            queryset,
            lambda review: review_reject(review=review, actor=_actor(request), rule=rule),
            "Rejected",
        )

    reject.__name__ = f"reject_{rule}"
    return admin.action(description=f"Reject: {label}", permissions=["decide"])(reject)


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = (
        "submitted_at",
        "shop",
        "product",
        "rating",
        "status",
        "incentivized",
        "collection_method",
    )
    list_filter = ("status", "rating", HeldRuleFilter, "incentivized", "collection_method", "shop")
    search_fields = ("title", "body", "author_name", "order__number", "product__title")
    list_select_related = ("shop", "product")
    date_hierarchy = "submitted_at"
    inlines = (ReviewPhotoInline, ReviewRevisionInline, ReviewEventInline)
    fields = (
        "shop",
        "public_id",
        "order",
        "product",
        "customer",
        "rating",
        "title",
        "body",
        "author_name",
        "first_name_only",
        "status",
        "held_rules",
        "held_details",
        "rejected_rule",
        "submitted_at",
        "edited_at",
        "published_at",
        "collection_method",
        "incentivized",
        "incentive_kind",
        "incentive_points",
        "incentive_discount_text",
    )
    readonly_fields = fields
    actions = (
        "publish",
        *(_reject_action(str(value), str(label)) for value, label in ReviewRule.choices),
    )

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("feedback.change_review")

    @admin.action(description="Publish selected reviews", permissions=["decide"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Review]) -> None:
        _decide(
            self,
            request,
            queryset,
            lambda review: review_publish(review=review, actor=_actor(request), note="from admin"),
            "Published",
        )


@admin.register(ReviewPhoto)
class ReviewPhotoAdmin(ReadOnlyAdmin):
    list_display = ("review", "shop", "position", "content_type", "is_current", "is_flagged")
    list_filter = ("is_current", "content_type", "shop")
    search_fields = ("review__public_id", "review__order__number")
    list_select_related = ("shop", "review")
    fields = ("shop", "review", "position", "content_type", "is_current", "flagged_not_product_at")
    readonly_fields = fields

    @admin.display(boolean=True, description="Flagged")
    def is_flagged(self, obj: ReviewPhoto) -> bool:
        return obj.is_flagged


@admin.register(ReviewRevision)
class ReviewRevisionAdmin(ReadOnlyAdmin):
    list_display = ("review", "written_at", "rating", "title", "status")
    list_filter = ("rating", "status")
    search_fields = ("title", "body", "review__public_id")
    list_select_related = ("review",)


class ReviewReplyRevisionInline(ReadOnlyInline):
    model = ReviewReplyRevision
    fields = ("at", "author", "body")
    readonly_fields = fields


@admin.register(ReviewReply)
class ReviewReplyAdmin(ReadOnlyAdmin):
    list_display = ("review", "author", "updated_at")
    search_fields = ("body", "review__public_id", "review__order__number")
    list_select_related = ("review", "author")
    fields = ("review", "body", "author", "created_at", "updated_at")
    readonly_fields = fields
    inlines = (ReviewReplyRevisionInline,)


@admin.register(ReviewIncentive)
class ReviewIncentiveAdmin(OpsAdmin):
    list_display = ("shop", "kind", "discount_text", "points", "updated_at")
    list_filter = ("kind",)
    search_fields = ("shop__name",)
    list_select_related = ("shop",)
