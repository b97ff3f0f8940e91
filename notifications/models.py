"""The outbox: one row per message a customer is owed, from scheduling to delivery receipt.

The schedule lives here, not in the broker: a message due later is a `scheduled` row with
`send_at`, claimed by the dispatcher when due. Each row's `dedupe_key` is unique, so asking
for the same message twice yields one row, and one send.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.models import Channel, Customer, Order, Purpose, Shop
from postpurchase.models import TimeStampedModel
from postpurchase.states import can_transition


class MessageStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    # The send was interrupted or timed out after the provider may have taken it: the customer
    # may have it. Never resent on its own; settled by a provider event or by staff.
    HELD = "held", _("Held for review")
    BOUNCED = "bounced", _("Bounced")
    SUPPRESSED = "suppressed", _("Suppressed")
    CANCELLED = "cancelled", _("Cancelled")


# The chip tone of each state on the dashboard (postpurchase.status_tones): held messages
# wait for someone, failed and bounced ones did not arrive.
MESSAGE_STATUS_TONES: dict[str, str] = {
    MessageStatus.SCHEDULED: "neutral",
    MessageStatus.QUEUED: "info",
    MessageStatus.SENDING: "info",
    MessageStatus.SENT: "success",
    MessageStatus.DELIVERED: "success",
    MessageStatus.FAILED: "critical",
    MessageStatus.HELD: "attention",
    MessageStatus.BOUNCED: "critical",
    MessageStatus.SUPPRESSED: "neutral",
    MessageStatus.CANCELLED: "neutral",
}


_M = MessageStatus
# `sending → scheduled` is a transient provider error: the send is retried at a later `send_at`
# (the retry's backoff lives in the database, not in the broker). `sending → failed` is a
# permanent error; `sending → held`, a send whose outcome is unknown (held for review).
# `queued → failed`: the message cannot be rendered, so it is never handed to a provider.
# `failed → queued` and `held → queued` are retries by staff, never automatic.
# `held → sent/delivered/bounced/failed`: a held message settled by a provider event that
# proves what happened, or by staff who found out.
# `queued → scheduled` defers a message that may not go out yet (quiet hours, a marketing
# pause) to a later `send_at`.
MESSAGE_TRANSITIONS: dict[str, set[str]] = {
    _M.SCHEDULED: {_M.QUEUED, _M.CANCELLED, _M.SUPPRESSED},
    _M.QUEUED: {_M.SENDING, _M.SCHEDULED, _M.CANCELLED, _M.SUPPRESSED, _M.FAILED},
    _M.SENDING: {
        _M.SENT,
        _M.QUEUED,
        _M.SCHEDULED,
        _M.FAILED,
        _M.HELD,
        _M.CANCELLED,
        _M.SUPPRESSED,
    },
    _M.SENT: {_M.DELIVERED, _M.BOUNCED, _M.FAILED},
    _M.DELIVERED: {_M.BOUNCED},
    _M.FAILED: {_M.QUEUED},
    _M.HELD: {_M.QUEUED, _M.SENT, _M.DELIVERED, _M.BOUNCED, _M.FAILED},
    _M.BOUNCED: set(),
    _M.SUPPRESSED: set(),
    _M.CANCELLED: set(),
}
PENDING_STATES = (MessageStatus.SCHEDULED, MessageStatus.QUEUED)

# What a message can be about (`Message.about_type`), for staff; with the order's number where
# the message has an order.
ABOUT_LABELS = {
    "order": _("An order"),
    "shipment": _("A shipment"),
    "return": _("A return"),
    "line_item": _("An item bought"),
}
ABOUT_OF_ORDER = {
    "order": _("About order %(number)s"),
    "shipment": _("A shipment of order %(number)s"),
    "return": _("A return of order %(number)s"),
    "line_item": _("An item of order %(number)s"),
}


class Message(TimeStampedModel):
    # Every status change rewrites each index of the row (no HOT update: indexed columns
    # change), so indexes a composite one already covers are left out: (shop, created_at) serves
    # shop lookups, (customer, send_at) customer lookups.
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+", db_index=False)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="messages",
        null=True,
        blank=True,
        db_index=False,
    )
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="messages", null=True, blank=True
    )
    kind = models.CharField(max_length=64)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    recipient = models.CharField(max_length=255)
    # The recipient's IANA zone and region (e.g. "US-FL"), resolved when scheduled: quiet
    # hours are the recipient's, not the server's.
    timezone = models.CharField(max_length=64, blank=True)
    region = models.CharField(max_length=8, blank=True)
    # What the message is about, e.g. ("order", 42) or ("return", 7).
    about_type = models.CharField(max_length=32)
    about_id = models.BigIntegerField()
    # Plain values the templates render from; the rendered text is stored when it is sent.
    context = models.JSONField(default=dict, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    send_at = models.DateTimeField()
    # Past this, the message is no longer useful and is cancelled instead of sent late.
    expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=MessageStatus.choices, default=_M.SCHEDULED)
    status_reason = models.CharField(max_length=255, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    provider_message_id = models.CharField(max_length=128, blank=True)
    # The Message-ID header of an email, set by us and stored before the provider call: a send
    # whose outcome is unknown can be settled from it (the recipient's copy, the server's log).
    email_message_id = models.CharField(max_length=255, blank=True)
    attempt_count = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    sending_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # First open and click reported by the email provider's tracking webhooks.
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=255)

    class Meta:
        constraints = [
            # A constraint rather than `unique=True`, which would add a second (LIKE) index.
            models.UniqueConstraint(fields=["dedupe_key"], name="uniq_message_dedupe_key"),
        ]
        indexes = [
            # The dispatcher's claim: its cost follows the due rows, not the table.
            models.Index(
                fields=["send_at"], condition=Q(status="scheduled"), name="message_due_idx"
            ),
            models.Index(
                fields=["queued_at"], condition=Q(status="queued"), name="message_queued_idx"
            ),
            models.Index(
                fields=["sending_at"], condition=Q(status="sending"), name="message_sending_idx"
            ),
            models.Index(fields=["shop", "-created_at"]),
            models.Index(fields=["provider_message_id"]),
            models.Index(fields=["about_type", "about_id"]),
            models.Index(fields=["customer", "-send_at"]),
            # A reply by text finds the shops that texted its number, or will.
            models.Index(
                fields=["recipient"],
                condition=Q(channel__in=["sms", "whatsapp"]),
                name="message_text_recipient_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.channel} to {self.recipient} ({self.status})"

    @property
    def about_label(self) -> str:
        """What the message is about, as staff know it: by the order's number, never by an
        internal id."""
        number = self.order.number if self.order_id and self.order else ""
        if self.about_type == "year":
            return gettext("The year %(year)s") % {"year": self.about_id}
        if not number:
            return str(ABOUT_LABELS.get(self.about_type, self.about_type.replace("_", " ")))
        if self.about_type == "order":
            return gettext("Order %(number)s") % {"number": number}
        template = ABOUT_OF_ORDER.get(self.about_type, ABOUT_OF_ORDER["order"])
        return str(template) % {"number": number}

    # What staff may do with the message. Each needs a move the table allows, and is narrower
    # where the table also serves the send path: "send now" only before the message's time
    # (the table's other ways to `queued` are retries), "cancel" only before a provider has it
    # (the send path also cancels mid-send), "retry" only after a failure or a hold.

    @property
    def is_held(self) -> bool:
        return self.status == MessageStatus.HELD

    @property
    def can_send_now(self) -> bool:
        return self.status == MessageStatus.SCHEDULED and self._may_become(MessageStatus.QUEUED)

    @property
    def can_cancel(self) -> bool:
        return self.status in PENDING_STATES and self._may_become(MessageStatus.CANCELLED)

    @property
    def can_retry(self) -> bool:
        return self.status in (MessageStatus.FAILED, MessageStatus.HELD) and self._may_become(
            MessageStatus.QUEUED
        )

    @property
    def can_settle(self) -> bool:
        """A held message, once staff find out whether it went out (sent) or not (failed)."""
        return self.is_held and all(
            self._may_become(to) for to in (MessageStatus.SENT, MessageStatus.FAILED)
        )

    def _may_become(self, status: str) -> bool:
        return can_transition(self.status, status, MESSAGE_TRANSITIONS)

    def record_transition(self, *, from_status: str, to_status: str, actor, note: str) -> None:
        MessageEvent.objects.create(
            message=self, from_status=from_status, to_status=to_status, actor=actor, note=note
        )

    @classmethod
    def transition_event(
        cls, *, pk: int, from_status: str, to_status: str, actor, note: str
    ) -> "MessageEvent":
        """The history row of one message moved with others (`states.transition_rows`)."""
        return MessageEvent(
            message_id=pk, from_status=from_status, to_status=to_status, actor=actor, note=note
        )


class MessageEvent(models.Model):
    """The message's history: every state change with when and why."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    note = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"

    @property
    def from_label(self) -> str:
        return _status_label(self.from_status)

    @property
    def to_label(self) -> str:
        return _status_label(self.to_status)


def _status_label(status: str) -> str:
    # A status no longer in the choices still reads as words, never as its stored name.
    if status in MessageStatus.values:
        return str(MessageStatus(status).label)
    return status.replace("_", " ").capitalize()


class AttemptOutcome(models.TextChoices):
    SENT = "sent", "Accepted by the provider"
    TRANSIENT = "transient", "Temporary failure"
    PERMANENT = "permanent", "Permanent failure"


class DeliveryAttempt(models.Model):
    """One call to the provider, whatever its outcome."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attempts")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    provider_message_id = models.CharField(max_length=128, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.outcome} at {self.started_at:%Y-%m-%d %H:%M:%S}"


class Flow(TimeStampedModel):
    """One lifecycle flow of a shop: which event starts it, how long after, on which channels.

    Flows are data: each registered message kind (`postpurchase.message_kinds`) brings its
    defaults, and each shop edits its own copy."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="flows")
    kind = models.CharField(max_length=64, help_text="The message kind; names its templates.")
    trigger = models.CharField(max_length=48)
    delay = models.DurationField(default=timedelta(0))
    # In order of preference; each channel is used when the customer can receive it there.
    channels = models.JSONField(default=list)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    # Values the event must carry for the flow to apply, e.g. {"to_status": "delivered"}.
    conditions = models.JSONField(default=dict, blank=True)
    # How long after it was due a message of this flow is still worth sending.
    useful_for = models.DurationField(null=True, blank=True)
    is_enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "kind"], name="uniq_flow_shop_kind"),
        ]
        indexes = [models.Index(fields=["shop", "trigger"])]

    def __str__(self) -> str:
        return f"{self.kind} on {self.trigger}"

    def applies_to(self, payload: dict) -> bool:
        return all(payload.get(key) == value for key, value in self.conditions.items())


class SuppressionReason(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", _("Hard bounce")
    COMPLAINT = "complaint", _("Spam complaint")
    STOP = "stop", _("Replied STOP")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribed")
    INVALID = "invalid", _("Invalid address or number")
    MANUAL = "manual", _("Added by staff")


class Suppression(TimeStampedModel):
    """An address the shop must not send to on a channel, with why and where that came from."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="suppressions")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    # Lower-cased email or E.164 number: how `suppression_key` writes it.
    address = models.CharField(max_length=255)
    reason = models.CharField(max_length=16, choices=SuppressionReason.choices)
    source = models.CharField(max_length=64, blank=True)
    detail = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "channel", "address"], name="uniq_suppression_shop_channel_addr"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.address} ({self.reason})"


class NumberOptOut(TimeStampedModel):
    """A phone that replied STOP to one of our shared sending numbers (not a shop's own). Kept
    whether or not any shop knew the phone then, so that no shop texts it from that number
    later; START to the number lifts it. Sending checks it (`sending._blocked`)."""

    our_number = models.CharField(max_length=32, help_text="The number the STOP was sent to.")
    phone = models.CharField(max_length=32)
    channel = models.CharField(max_length=16, choices=Channel.choices)

    class Meta:
        constraints = [
            # Leads with the phone: also the index sending reads by.
            models.UniqueConstraint(
                fields=["phone", "channel", "our_number"], name="uniq_number_opt_out"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.phone} opted out of {self.our_number}"


class ProviderEvent(models.Model):
    """A delivery receipt or other callback from a provider, stored once."""

    provider = models.CharField(max_length=32)
    event_key = models.CharField(max_length=255)
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="provider_events"
    )
    kind = models.CharField(max_length=32)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_key"], name="uniq_providerevent_provider_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} {self.event_key}"


class InboundMessage(models.Model):
    """A text a customer sent us: a keyword we acted on, or a reply staff should see."""

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, related_name="replies", null=True, blank=True
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    sender = models.CharField(max_length=32)
    body = models.TextField(blank=True)
    keyword = models.CharField(max_length=16, blank=True)
    provider_message_id = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["shop", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.sender}: {self.body[:40]}"


class QuietHoursRule(models.Model):
    """When texts (SMS, WhatsApp) may reach a recipient, in their local time. The most specific
    rule wins: country and region (e.g. US, FL), then country, then the default (blank)."""

    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code; blank: all.")
    region = models.CharField(max_length=3, blank=True, help_text="State or province code.")
    allowed_from = models.TimeField()
    allowed_until = models.TimeField()
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["country", "region"], name="uniq_quiet_hours_place"),
        ]
        ordering = ["country", "region"]

    def __str__(self) -> str:
        place = "-".join(p for p in (self.country, self.region) if p) or "default"
        return f"{place}: {self.allowed_from:%H:%M}–{self.allowed_until:%H:%M}"


class MessageTemplate(TimeStampedModel):
    """A shop's own wording of one kind of message on one channel and locale; without one the
    kind's default templates (in the folder its declaration names) are used."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="message_templates")
    kind = models.CharField(max_length=64)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    locale = models.CharField(max_length=16, blank=True, help_text="Blank: any locale.")
    subject = models.CharField(max_length=255, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    # WhatsApp outside the 24-hour session window may only send an approved content template.
    whatsapp_content_sid = models.CharField(max_length=64, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "kind", "channel", "locale"], name="uniq_template_kind_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} / {self.channel} / {self.locale or 'any'}"
