"""Follow-up cases: every unhappy customer (a detractor's answer, a low review, strongly negative
words, a problem report, or staff's own call) gets a case with an owner, a promised response
and resolution time counted in the shop's business hours, a thread with the customer, and a
recorded resolution whose "did we make it right?" answer closes the loop."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from notifications.models import Message
from orders.models import Customer, Order, Shop
from postpurchase.models import TimeStampedModel
from postpurchase.states import can_transition


class CasePriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


# The chip tone of each priority on the dashboard (postpurchase.status_tones): the two that
# jump the queue stand out, the everyday ones do not.
CASE_PRIORITY_TONES: dict[str, str] = {
    CasePriority.LOW: "neutral",
    CasePriority.NORMAL: "neutral",
    CasePriority.HIGH: "attention",
    CasePriority.URGENT: "critical",
}

# Lowest first: a customer's value moves a case one step along it.
PRIORITY_ORDER = (CasePriority.LOW, CasePriority.NORMAL, CasePriority.HIGH, CasePriority.URGENT)


def _default_targets() -> dict[str, dict[str, int]]:
    # The defaults, for every priority; each shop tightens the ones it wants.
    return {p.value: {"first_response": 24, "resolution": 72} for p in CasePriority}


def _default_hours() -> dict[str, list[str]]:
    # Weekday (0 = Monday) → [opens, closes] in the shop's zone; a missing day is closed.
    return {str(day): ["09:00", "17:00"] for day in range(5)}


class CasePolicy(TimeStampedModel):
    """One per shop: how fast cases are answered and resolved, in business hours."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="case_policy")
    # Priority → {"first_response": hours, "resolution": hours}, in business hours.
    targets = models.JSONField(default=_default_targets)
    # Weekday "0"…"6" (Monday first) → ["HH:MM", "HH:MM"], in `Shop.timezone`.
    business_hours = models.JSONField(default=_default_hours)
    holidays = ArrayField(models.DateField(), default=list, blank=True)

    class Meta:
        verbose_name_plural = "case policies"

    def __str__(self) -> str:
        return f"Case policy of {self.shop}"

    def target(self, priority: str, which: str) -> timedelta:
        """The business time allowed for `which` ("first_response" or "resolution")."""
        defaults = _default_targets()[CasePriority.NORMAL]
        hours = self.targets.get(priority, {}).get(which, defaults[which])
        return timedelta(hours=float(hours))


class CaseSource(models.TextChoices):
    SURVEY = "survey", _("Survey answer")
    REVIEW = "review", _("Product review")
    TEXT = "text", _("Negative words")
    PROBLEM_REPORT = "problem_report", _("Problem report")
    STAFF = "staff", _("Opened by staff")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WAITING = "waiting_on_customer", _("Waiting on the customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# The chip tone of each status on the dashboard: an open case is staff's turn, a waiting one
# the customer's, a resolved one done (closed: done and settled).
CASE_STATUS_TONES: dict[str, str] = {
    CaseStatus.OPEN: "attention",
    CaseStatus.WAITING: "info",
    CaseStatus.RESOLVED: "success",
    CaseStatus.CLOSED: "neutral",
}

_S = CaseStatus
# A resolved case reopens when the customer says it was not made right; a closed one is done.
CASE_TRANSITIONS: dict[str, set[str]] = {
    _S.OPEN: {_S.WAITING, _S.RESOLVED},
    _S.WAITING: {_S.OPEN, _S.RESOLVED},
    _S.RESOLVED: {_S.OPEN, _S.CLOSED},
    _S.CLOSED: set(),
}
# Still being worked: the SLA clock concerns these (it is paused while waiting).
OPEN_CASE_STATES = (_S.OPEN, _S.WAITING)
DONE_CASE_STATES = (_S.RESOLVED, _S.CLOSED)


class Case(TimeStampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        Customer, on_delete=models.RESTRICT, null=True, blank=True, related_name="cases"
    )
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    source = models.CharField(max_length=16, choices=CaseSource.choices)
    # The answer, review, text or problem report that opened it (none for staff's own).
    source_id = models.BigIntegerField(null=True, blank=True)
    summary = models.CharField(max_length=200)
    # The customer's words that opened it, as the signal carried them.
    description = models.TextField(blank=True)
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    scale = models.CharField(max_length=16, blank=True)
    priority = models.CharField(
        max_length=8, choices=CasePriority.choices, default=CasePriority.NORMAL
    )
    status = models.CharField(max_length=24, choices=CaseStatus.choices, default=_S.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    first_response_due_at = models.DateTimeField()
    resolution_due_at = models.DateTimeField()
    # When each deadline becomes "due soon" (under a quarter of its allowance, or under four
    # business hours, left): kept with the deadline so the queue filters in SQL.
    first_response_soon_at = models.DateTimeField()
    resolution_soon_at = models.DateTimeField()
    first_responded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The clock stops while the case waits on the customer: since when, and for how much
    # business time in all (the due times were moved on by it each time the customer answered).
    waiting_since = models.DateTimeField(null=True, blank=True)
    paused_for = models.DurationField(default=timedelta(0))
    # Set in the same statement that claims the breach for its one alert.
    first_response_breach_notified_at = models.DateTimeField(null=True, blank=True)
    resolution_breach_notified_at = models.DateTimeField(null=True, blank=True)
    # The customer's answer to "did we make it right?" on the latest resolution.
    made_right = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["resolution_due_at", "pk"]
        constraints = [
            # A signal delivered twice opens one case.
            models.UniqueConstraint(
                fields=["shop", "source", "source_id"],
                condition=Q(source_id__isnull=False),
                name="uniq_case_shop_source_object",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "status", "resolution_due_at"]),
            models.Index(fields=["customer", "status"]),
            # The breach sweep: open cases by due time.
            models.Index(
                fields=["first_response_due_at"],
                condition=Q(status="open", first_responded_at__isnull=True),
                name="case_first_response_due_idx",
            ),
            models.Index(
                fields=["resolution_due_at"],
                condition=Q(status="open"),
                name="case_resolution_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk}: {self.summary}"

    @property
    def number(self) -> str:
        return f"C{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CASE_STATES

    @property
    def is_waiting(self) -> bool:
        return self.status == CaseStatus.WAITING

    @property
    def is_done(self) -> bool:
        """Resolved or closed: its deadlines no longer run."""
        return self.status in DONE_CASE_STATES

    @property
    def is_closed(self) -> bool:
        """The loop is closed: the table allows no further move."""
        return not CASE_TRANSITIONS.get(self.status)

    @property
    def can_reply(self) -> bool:
        return not self.is_closed

    @property
    def can_resolve(self) -> bool:
        return can_transition(self.status, CaseStatus.RESOLVED, CASE_TRANSITIONS)

    @property
    def can_wait(self) -> bool:
        return can_transition(self.status, CaseStatus.WAITING, CASE_TRANSITIONS)

    @property
    def can_reopen(self) -> bool:
        return self.status != CaseStatus.WAITING and can_transition(
            self.status, CaseStatus.OPEN, CASE_TRANSITIONS
        )

    def record_transition(self, *, from_status: str, to_status: str, actor, note: str) -> None:
        CaseEvent.objects.create(
            case=self, from_status=from_status, to_status=to_status, actor=actor, note=note
        )


class CaseEvent(models.Model):
    """A case's history: every move, who made it and when, never overwritten."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status}→{self.to_status}"


class MessageDirection(models.TextChoices):
    INBOUND = "in", _("From the customer")
    OUTBOUND = "out", _("To the customer")


class ThreadChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    NOTE = "note", _("Internal note")


class CaseMessage(models.Model):
    """One entry of a case's thread: the customer's words, staff's reply, or an internal note."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="thread")
    direction = models.CharField(max_length=3, choices=MessageDirection.choices)
    channel = models.CharField(max_length=16, choices=ThreadChannel.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField()
    # The outbox row a reply went out as (its status says whether it arrived).
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The provider's id of an inbound text or email: a webhook delivered twice adds one entry.
    inbound_key = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "inbound_key"],
                condition=~Q(inbound_key=""),
                name="uniq_casemessage_inbound_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.channel}: {self.body[:40]}"

    @property
    def is_note(self) -> bool:
        return self.channel == ThreadChannel.NOTE


class ResolutionKind(models.TextChoices):
    REFUND = "refund", _("Refund")
    REPLACEMENT = "replacement", _("Replacement")
    STORE_CREDIT = "store_credit", _("Store credit")
    APOLOGY = "apology", _("Apology")
    NO_ACTION = "no_action", _("No action")


# Kinds that name an amount of money: recorded by managers only.
MONEY_RESOLUTIONS = (ResolutionKind.REFUND, ResolutionKind.STORE_CREDIT)


class CaseResolution(models.Model):
    """What the shop did for the customer: a record only, no money moves here."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="resolutions")
    kind = models.CharField(max_length=16, choices=ResolutionKind.choices)
    note = models.TextField(blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The customer's one-tap answer to the follow-up about this resolution.
    made_right = models.BooleanField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gt=Decimal("0")),
                name="caseresolution_amount_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on case {self.case_id}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None
