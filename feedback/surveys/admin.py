"""Ops' view of surveys: each shop's settings (editable), and the requests and answers, which
are facts (read-only: an answer is recorded by the customer only, and a request moves only as
its message does)."""

from django.contrib import admin

from feedback.models import SurveyAnswer, SurveyRequest, SurveySettings
from postpurchase.admin import OpsAdmin, ReadOnlyAdmin, ReadOnlyInline


@admin.register(SurveySettings)
class SurveySettingsAdmin(OpsAdmin):
    list_display = ("shop", "kind", "budget_days", "updated_at")
    list_filter = ("kind",)
    search_fields = ("shop__name", "shop__slug")
    list_select_related = ("shop",)
    autocomplete_fields = ("shop",)


class SurveyAnswerInline(ReadOnlyInline):
    model = SurveyAnswer
    fields = ("score", "comment", "channel", "answered_at", "commented_at")
    readonly_fields = fields


@admin.register(SurveyRequest)
class SurveyRequestAdmin(ReadOnlyAdmin):
    list_display = (
        "order",
        "shop",
        "kind",
        "status",
        "channel",
        "due_at",
        "sent_at",
        "opened_at",
        "answered_at",
        "reminded_at",
    )
    list_filter = ("status", "kind", "channel", "shop")
    search_fields = ("order__number", "customer__email", "customer__phone")
    list_select_related = ("shop", "order")
    date_hierarchy = "due_at"
    inlines = (SurveyAnswerInline,)
    fields = (
        "shop",
        "order",
        "customer",
        "kind",
        "status",
        "status_reason",
        "due_at",
        "channel",
        "message",
        "sent_at",
        "opened_at",
        "answered_at",
        "reminded_at",
        "reasked_at",
    )
    readonly_fields = fields


@admin.register(SurveyAnswer)
class SurveyAnswerAdmin(ReadOnlyAdmin):
    list_display = ("request", "shop", "kind", "score", "channel", "answered_at", "has_comment")
    list_filter = ("kind", "channel", "score", "shop")
    search_fields = ("request__order__number", "comment", "customer__email")
    list_select_related = ("shop", "request__order")
    date_hierarchy = "answered_at"
    fields = (
        "request",
        "shop",
        "customer",
        "kind",
        "score",
        "comment",
        "channel",
        "answered_at",
        "commented_at",
    )
    readonly_fields = fields

    @admin.display(boolean=True, description="why given")
    def has_comment(self, obj: SurveyAnswer) -> bool:
        return obj.has_comment
