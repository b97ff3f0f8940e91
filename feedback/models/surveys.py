"""Surveys: what each shop asks (NPS, CSAT or CES), the one request each delivered order gets,
and the customer's one answer to it.

The request is the survey's own record; the message that carries it is the engine's
(`notifications.Message`, about `("survey_request", request.pk)`), whose sending and opening
the request mirrors (`feedback.surveys.services.survey_requests_refresh`). The delay after
delivery and the channels are the shop's flow of the `survey_request` kind (the flow settings
page edits them), not fields here: one place for each setting."""

from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from notifications.models import Message
from orders.models import Channel, Customer, Order, Shop
from postpurchase.models import TimeStampedModel


class SurveyKind(models.TextChoices):
    NPS = "nps", _("Net Promoter Score (0–10)")
    CSAT_DELIVERY = "csat_delivery", _("Satisfaction with the delivery (1–5)")
    CSAT_ORDER = "csat_order", _("Satisfaction with the order (1–5)")
    CES = "ces", _("Customer effort (1–7)")


# The lowest and highest score of each kind, both included.
SCALES: dict[str, tuple[int, int]] = {
    SurveyKind.NPS: (0, 10),
    SurveyKind.CSAT_DELIVERY: (1, 5),
    SurveyKind.CSAT_ORDER: (1, 5),
    SurveyKind.CES: (1, 7),
}


class SurveySettings(TimeStampedModel):
    """What a shop asks its customers after delivery, and how often at most."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="survey_settings")
    kind = models.CharField(max_length=16, choices=SurveyKind.choices, default=SurveyKind.NPS)
    # At most one survey per customer of the shop in this many days.
    budget_days = models.PositiveSmallIntegerField(default=30)

    class Meta:
        verbose_name = "survey settings"
        verbose_name_plural = "survey settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(budget_days__gte=1, budget_days__lte=365),
                name="surveysettings_budget_days_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} every {self.budget_days} days at most"

    @property
    def budget(self) -> timedelta:
        return timedelta(days=self.budget_days)


class SurveyRequestStatus(models.TextChoices):
    # Owed: its message waits to go out.
    PLANNED = "planned", _("Planned")
    SENT = "sent", _("Sent")
    ANSWERED = "answered", _("Answered")
    # Its message never went (a return opened, the order was cancelled, no channel reached the
    # customer): it takes no room in the contact budget.
    CANCELLED = "cancelled", _("Cancelled")


_S = SurveyRequestStatus
# A request can be answered before its sending is mirrored (`planned → answered`): the link
# was tapped minutes after the message went, before the refresh noticed.
SURVEY_REQUEST_TRANSITIONS: dict[str, set[str]] = {
    _S.PLANNED: {_S.SENT, _S.ANSWERED, _S.CANCELLED},
    _S.SENT: {_S.ANSWERED},
    _S.ANSWERED: set(),
    _S.CANCELLED: set(),
}
# Requests that count against the contact budget.
BUDGETED_STATUSES = (_S.PLANNED, _S.SENT, _S.ANSWERED)


class SurveyRequest(TimeStampedModel):
    """One survey of one delivered order: which survey, when it is due, on which channel and by
    which message it went, and when it was opened, answered and reminded."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="survey_requests")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=SurveyKind.choices)
    status = models.CharField(
        max_length=16, choices=SurveyRequestStatus.choices, default=_S.PLANNED
    )
    status_reason = models.CharField(max_length=255, blank=True)
    due_at = models.DateTimeField()
    # Known once it went: the message that carried it and its channel.
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    # The request email's first open (the provider's tracking), which a reminder needs.
    opened_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    # By text: the one "please reply with a number" sent after a reply that was not a score.
    reasked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order"], name="uniq_surveyrequest_order"),
            models.CheckConstraint(
                condition=Q(status__in=_S.values), name="surveyrequest_status_valid"
            ),
        ]
        indexes = [
            # The contact budget: a customer's recent requests.
            models.Index(fields=["customer", "-due_at"]),
            models.Index(fields=["shop", "-due_at"]),
            # The refresh's look for planned requests due; the reminder's for sent ones.
            models.Index(
                fields=["due_at"], condition=Q(status="planned"), name="surveyrequest_planned_idx"
            ),
            models.Index(
                fields=["sent_at"],
                condition=Q(status="sent"),
                name="surveyrequest_unanswered_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for order {self.order_id} ({self.status})"

    @property
    def scale(self) -> tuple[int, int]:
        return SCALES[self.kind]

    def accepts_score(self, score: int) -> bool:
        low, high = self.scale
        return low <= score <= high

    @property
    def is_answered(self) -> bool:
        return self.status == _S.ANSWERED


def _score_in_scale() -> Q:
    condition = Q(pk__in=[])
    for kind, (low, high) in SCALES.items():
        condition |= Q(kind=kind, score__gte=low, score__lte=high)
    return condition


class SurveyAnswer(TimeStampedModel):
    """A customer's answer: the score (first tap or text wins) and, optionally, why in their
    own words."""

    request = models.OneToOneField(SurveyRequest, on_delete=models.CASCADE, related_name="answer")
    # Copied from the request, so the database can check the score against the kind's scale
    # and the numbers read answers without a join.
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=SurveyKind.choices)
    score = models.SmallIntegerField()
    comment = models.TextField(blank=True)
    commented_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    answered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=_score_in_scale(), name="surveyanswer_score_in_scale"),
        ]
        indexes = [models.Index(fields=["shop", "-answered_at"])]

    def __str__(self) -> str:
        return f"{self.score} ({self.get_kind_display()})"

    @property
    def has_comment(self) -> bool:
        return bool(self.comment.strip())
