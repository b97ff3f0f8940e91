"""What customers write, read by the machine: each text with its sentiment and topics, the
shop's topics, and the shop's own sentiment models (`feedback.analysis`)."""

from django.db import models
from django.db.models import Q

from orders.models import Customer, Shop
from postpurchase.models import TimeStampedModel

# The name stored on a text scored by VADER; a shop model's texts carry `model-v<version>`.
VADER = "vader"


class TextSource(models.TextChoices):
    SURVEY_ANSWER = "survey_answer", "Survey answer"
    REVIEW = "review", "Review"
    PROBLEM_REPORT = "problem_report", "Problem report"
    INBOUND_REPLY = "inbound_reply", "Inbound reply"
    CASE_MESSAGE = "case_message", "Case message"


class Topic(TimeStampedModel):
    """A word or two-word phrase that sets the shop's negative texts apart from its positive
    ones. Keyed by its normalised phrase (stemmed, the two words of a pair in a fixed order),
    so "leaking lids" and "the lid leaks" are one topic, and named once, when first found: the
    name stays from one week to the next while the figures below are refreshed nightly."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=120)
    label = models.CharField(max_length=120)
    # From the latest computation over the shop's recent texts.
    negative_texts = models.PositiveIntegerField(default=0)
    positive_texts = models.PositiveIntegerField(default=0)
    # The log-odds ratio's z-score (negative against positive); higher is more distinctive.
    z_score = models.FloatField(default=0.0)
    # Its place in the latest list (1 = most distinctive); null once it dropped out of it.
    rank = models.PositiveIntegerField(null=True, blank=True)
    examples = models.JSONField(default=list, blank=True)
    first_found_at = models.DateTimeField()
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["shop", "rank", "label"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "key"], name="uniq_topic_shop_key"),
        ]

    def __str__(self) -> str:
        return self.label


class AnalysedText(TimeStampedModel):
    """One text a customer wrote (a survey's "why", a review, a problem report, a text
    message, a message in a case), its sentiment and the topics it mentions. One row per
    source object: analysing it again updates the row."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=16, choices=TextSource.choices)
    source_id = models.BigIntegerField()
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField()
    # The customer's own score where the source has one (stars, NPS), scaled to 0..1.
    rating = models.FloatField(null=True, blank=True)
    # When the customer wrote it (`created_at` is when we stored it).
    written_at = models.DateTimeField()
    # -1 (most negative) .. 1 (most positive); null until scored.
    sentiment = models.FloatField(null=True, blank=True)
    # Which scorer gave `sentiment`: "vader" or the shop's model, "model-v<version>".
    scorer = models.CharField(max_length=24, blank=True)
    analysed_at = models.DateTimeField(null=True, blank=True)
    topics = models.ManyToManyField(Topic, blank=True, related_name="texts")

    class Meta:
        ordering = ["-written_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "source", "source_id"], name="uniq_analysedtext_source"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=0, rating__lte=1),
                name="analysedtext_rating_0_1",
            ),
            models.CheckConstraint(
                condition=Q(sentiment__isnull=True) | Q(sentiment__gte=-1, sentiment__lte=1),
                name="analysedtext_sentiment_range",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "-written_at"]),
            # The nightly run's "what is left to score".
            models.Index(
                fields=["shop"], condition=Q(analysed_at__isnull=True), name="analysedtext_todo_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.source_id}"


class ShopSentimentModel(models.Model):
    """A sentiment model trained on one shop's own rated texts, with how it and VADER did on
    the same held-out texts. The latest row decides the shop's scorer: this model when it
    beat VADER (`is_chosen`), else VADER.

    The weights are plain arrays (numpy's format without pickles: vocabulary, idf, coefficients),
    kept in the database like the problem reports' photos, so web and worker need no shared
    files and loading them runs no code."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    trained_at = models.DateTimeField()
    rated_texts = models.PositiveIntegerField()
    train_size = models.PositiveIntegerField()
    test_size = models.PositiveIntegerField()
    positives = models.PositiveIntegerField()
    negatives = models.PositiveIntegerField()
    model_auc = models.FloatField()
    vader_auc = models.FloatField()
    is_chosen = models.BooleanField()
    vocabulary_size = models.PositiveIntegerField()
    # What it learnt from (each labelled text and its label, hashed): a night with nothing
    # new trains no new version, so the shop's texts need no rescoring.
    data_fingerprint = models.CharField(max_length=64)
    weights = models.BinaryField(editable=False)

    class Meta:
        ordering = ["shop", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "version"], name="uniq_sentimentmodel_version"),
        ]

    def __str__(self) -> str:
        return f"{self.shop} model v{self.version}"

    @property
    def scorer_name(self) -> str:
        return f"model-v{self.version}"
