"""Ops' view of the text analysis: the texts with their sentiment and topics, the shops'
topics, and each shop's sentiment models with the scorer in use and its AUC. All rows are
the system's: ops look and filter, never edit."""

from typing import Any

from django.contrib import admin
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.html import format_html_join

from feedback.analysis import topics as topic_finding
from feedback.models import AnalysedText, ShopSentimentModel, Topic
from postpurchase.admin import ReadOnlyAdmin, pretty_json


class SentimentBandFilter(admin.SimpleListFilter):
    title = "sentiment"
    parameter_name = "band"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("negative", "Negative"),
            ("neutral", "Neutral"),
            ("positive", "Positive"),
            ("unscored", "Not scored yet"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        low, high = topic_finding.NEGATIVE_SENTIMENT, topic_finding.POSITIVE_SENTIMENT
        match self.value():
            case "negative":
                return queryset.filter(sentiment__lte=low)
            case "neutral":
                return queryset.filter(sentiment__gt=low, sentiment__lt=high)
            case "positive":
                return queryset.filter(sentiment__gte=high)
            case "unscored":
                return queryset.filter(sentiment__isnull=True)
        return queryset


@admin.register(AnalysedText)
class AnalysedTextAdmin(ReadOnlyAdmin):
    list_display = ("written_at", "shop", "source", "sentiment", "scorer", "rating", "excerpt")
    list_filter = ("shop", "source", SentimentBandFilter, "scorer")
    search_fields = ("text",)
    list_select_related = ("shop",)
    date_hierarchy = "written_at"
    fields = (
        "shop",
        "source",
        "source_id",
        "customer",
        "written_at",
        "text",
        "rating",
        "sentiment",
        "scorer",
        "analysed_at",
        "topic_list",
    )
    readonly_fields = fields

    @admin.display(description="Text")
    def excerpt(self, obj: AnalysedText) -> str:
        return obj.text if len(obj.text) <= 80 else obj.text[:79] + "…"

    @admin.display(description="Topics")
    def topic_list(self, obj: AnalysedText) -> str:
        return ", ".join(obj.topics.order_by("label").values_list("label", flat=True)) or "-"


class CurrentTopicFilter(admin.SimpleListFilter):
    title = "in the latest list"
    parameter_name = "current"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No (an earlier one)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return queryset.filter(rank__isnull=self.value() == "no")
        return queryset


@admin.register(Topic)
class TopicAdmin(ReadOnlyAdmin):
    list_display = (
        "label",
        "shop",
        "rank",
        "negative_texts",
        "positive_texts",
        "z_score",
        "first_found_at",
        "computed_at",
    )
    list_filter = ("shop", CurrentTopicFilter)
    search_fields = ("label", "key")
    list_select_related = ("shop",)
    fields = (
        "shop",
        "label",
        "key",
        "rank",
        "negative_texts",
        "positive_texts",
        "z_score",
        "example_quotes",
        "first_found_at",
        "computed_at",
    )
    readonly_fields = fields

    @admin.display(description="Examples")
    def example_quotes(self, obj: Topic) -> str:
        return format_html_join("", "<blockquote>{}</blockquote>", ((q,) for q in obj.examples))


@admin.register(ShopSentimentModel)
class ShopSentimentModelAdmin(ReadOnlyAdmin):
    """Each shop's trainings; the latest decides the scorer its texts get."""

    list_display = (
        "shop",
        "version",
        "scorer_in_use",
        "model_auc",
        "vader_auc",
        "rated_texts",
        "train_size",
        "test_size",
        "trained_at",
    )
    list_filter = ("shop", "is_chosen")
    list_select_related = ("shop",)
    date_hierarchy = "trained_at"
    exclude = ("weights",)
    readonly_fields = (
        "shop",
        "version",
        "scorer_in_use",
        "trained_at",
        "rated_texts",
        "train_size",
        "test_size",
        "positives",
        "negatives",
        "model_auc",
        "vader_auc",
        "is_chosen",
        "vocabulary_size",
        "summary",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ShopSentimentModel]:
        latest = ShopSentimentModel.objects.filter(shop=OuterRef("shop")).order_by("-version")
        return (
            super()
            .get_queryset(request)
            .defer("weights")
            .annotate(latest_version=Subquery(latest.values("version")[:1]))
        )

    @admin.display(description="Scorer in use")
    def scorer_in_use(self, obj: ShopSentimentModel) -> str:
        if obj.version != getattr(obj, "latest_version", obj.version):
            return "superseded"
        if obj.is_chosen:
            return f"this model (AUC {obj.model_auc:.3f})"
        return f"VADER (AUC {obj.vader_auc:.3f})"

    @admin.display(description="As the nightly run reports it")
    def summary(self, obj: ShopSentimentModel) -> str:
        return pretty_json(
            {
                "positives": obj.positives,
                "negatives": obj.negatives,
                "model_auc": round(obj.model_auc, 4),
                "vader_auc": round(obj.vader_auc, 4),
                "chosen": "model" if obj.is_chosen else "vader",
            }
        )
