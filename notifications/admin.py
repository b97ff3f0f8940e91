"""Ops' view of the outbox and of each shop's lifecycle flows.

A message is never edited here: its status moves only through the services (send now, cancel,
retry, settle), so every change goes through the transition table and leaves an event row, and
the staff policy applies as in the dashboard: a superuser may act in any shop, another admin
user only where they are the shop's owner or a manager. A message held for review is retried
only after a page that says the customer may already have it. Flows are plain configuration
and are edited directly.
"""

from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html

from notifications.dashboard.forms import MessageSettleForm
from notifications.models import (
    DeliveryAttempt,
    Flow,
    InboundMessage,
    Message,
    MessageEvent,
    MessageStatus,
    MessageTemplate,
    NumberOptOut,
    ProviderEvent,
    QuietHoursRule,
    Suppression,
)
from notifications.services import (
    message_cancel,
    message_retry,
    message_send_now,
    message_settle,
)
from orders.models import Channel
from postpurchase.admin import PRE, OpsAdmin, ReadOnlyAdmin, ReadOnlyInline, pretty_json
from postpurchase.exceptions import DomainError


class MessageEventInline(ReadOnlyInline):
    model = MessageEvent
    fields = ("at", "from_status", "to_status", "actor", "note")
    readonly_fields = fields
    ordering = ("at", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[MessageEvent]:
        return super().get_queryset(request).select_related("actor")


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ("started_at", "finished_at", "outcome", "provider_message_id", "error")
    readonly_fields = fields
    ordering = ("started_at", "id")


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "shop",
        "kind",
        "channel",
        "recipient",
        "status",
        "send_at",
        "sent_at",
        "attempts",
    )
    list_filter = ("status", "channel", "kind", "purpose", "shop", "send_at")
    search_fields = (
        "recipient",
        "kind",
        "provider_message_id",
        "dedupe_key",
        "customer__email",
    )
    list_select_related = ("shop",)
    # Every field is read-only on the change page; this only matters should one ever be made
    # editable, where a plain select would load every customer and order.
    autocomplete_fields = ("shop", "customer", "order")
    date_hierarchy = "send_at"
    ordering = ("-created_at",)
    inlines = (MessageEventInline, DeliveryAttemptInline)
    actions = ("send_now", "cancel", "retry", "settle")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "shop",
                    "customer",
                    "order",
                    "kind",
                    "channel",
                    "purpose",
                    "recipient",
                    "about_type",
                    "about_id",
                    "dedupe_key",
                )
            },
        ),
        (
            "Status",
            {
                "fields": (
                    "status",
                    "status_reason",
                    "send_at",
                    "expires_at",
                    "queued_at",
                    "sending_at",
                    "sent_at",
                    "delivered_at",
                    "attempt_count",
                    "last_error",
                )
            },
        ),
        ("Provider", {"fields": ("provider", "provider_message_id", "email_message_id")}),
        ("Content", {"fields": ("subject", "body_text_pre", "body_html_pre", "context_pretty")}),
        ("History", {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = tuple(flatten_fieldsets(fieldsets))

    @admin.display(description="Attempts", ordering="attempt_count")
    def attempts(self, obj: Message) -> int:
        return obj.attempt_count

    @admin.display(description="Body (text)")
    def body_text_pre(self, obj: Message) -> str:
        return format_html(PRE, obj.body_text)

    @admin.display(description="Body (HTML source)")
    def body_html_pre(self, obj: Message) -> str:
        # Shown as escaped source: rendering a customer-facing email inside admin would run
        # its markup (and any injected content) with staff's session.
        return format_html(PRE, obj.body_html)

    @admin.display(description="Context")
    def context_pretty(self, obj: Message) -> str:
        return pretty_json(obj.context)

    def has_operate_permission(self, request: HttpRequest) -> bool:
        # The actions move a message's status, so they take the change permission even though
        # the stored message itself is never edited here.
        return request.user.has_perm("notifications.change_message")

    @admin.action(description="Send selected messages now", permissions=["operate"])
    def send_now(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        self._apply(request, queryset, message_send_now, done="Sent now")

    @admin.action(description="Cancel selected messages", permissions=["operate"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        self._apply(request, queryset, message_cancel, done="Cancelled")

    @admin.action(description="Retry selected failed or held messages…", permissions=["operate"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Message]) -> HttpResponse | None:
        """A held message may already be with the customer: when any is selected, a page says
        so first, and only its confirmation sends them again."""
        held = list(queryset.filter(status=MessageStatus.HELD).select_related("shop"))
        confirmed = request.POST.get("held_confirmed") == "yes"
        if held and not confirmed:
            return self._confirmation(
                request,
                queryset,
                "admin/notifications/message/retry_held_confirmation.html",
                action="retry",
                title="Send held messages again?",
                held=held,
            )
        self._apply(
            request,
            queryset,
            partial(message_retry, held_confirmed=confirmed),
            done="Queued again",
        )
        return None

    @admin.action(description="Settle selected held messages…", permissions=["operate"])
    def settle(self, request: HttpRequest, queryset: QuerySet[Message]) -> HttpResponse | None:
        """Mark held messages as sent (they did go out) or failed (they did not), with a note,
        from a page that asks which and how it is known."""
        submitted = request.POST.get("settle") == "yes"
        form = MessageSettleForm(request.POST if submitted else None, prefix="settle")
        if submitted and form.is_valid():
            settle = partial(
                message_settle,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
            self._apply(request, queryset, settle, done="Settled")
            return None
        return self._confirmation(
            request,
            queryset,
            "admin/notifications/message/settle_confirmation.html",
            action="settle",
            title="Settle held messages",
            held=list(queryset.filter(status=MessageStatus.HELD).select_related("shop")),
            form=form,
        )

    def _confirmation(
        self,
        request: HttpRequest,
        queryset: QuerySet[Message],
        template: str,
        *,
        action: str,
        **context: Any,
    ) -> TemplateResponse:
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Are you sure?",
                "queryset": queryset.order_by("pk"),
                "action": action,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                **context,
            },
        )

    def _apply(
        self,
        request: HttpRequest,
        queryset: QuerySet[Message],
        service: Callable[..., Message],
        *,
        done: str,
    ) -> None:
        """Call `service` once per message, each in its own transaction, so one refusal never
        undoes or stops the others; then say how many went through and why the rest did not."""
        succeeded = 0
        refusals: Counter[str] = Counter()
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        for message_id in ids:
            try:
                service(message_id=message_id, actor=request.user)
            except DomainError as exc:
                refusals[str(exc)] += 1
            except Message.DoesNotExist:
                refusals["the message no longer exists"] += 1
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, f"{done}: {_count(succeeded)}.", messages.SUCCESS)
        if refusals:
            reasons = "; ".join(f"{reason} ({n})" for reason, n in sorted(refusals.items()))
            total = sum(refusals.values())
            self.message_user(request, f"Refused: {_count(total)}: {reasons}.", messages.WARNING)


def _count(n: int) -> str:
    return f"{n} message" if n == 1 else f"{n} messages"


class FlowForm(forms.ModelForm):
    class Meta:
        model = Flow
        fields = (
            "shop",
            "kind",
            "trigger",
            "delay",
            "channels",
            "purpose",
            "conditions",
            "useful_for",
            "is_enabled",
        )

    def clean_channels(self) -> list[str]:
        # A misspelt channel would make the flow silently skip that channel for every customer.
        value: Any = self.cleaned_data["channels"]
        known = set(Channel.values)
        if not isinstance(value, list) or not value:
            raise forms.ValidationError('A list of channels, e.g. ["email", "sms"].')
        unknown = [c for c in value if c not in known]
        if unknown:
            raise forms.ValidationError(
                f"Unknown channel(s): {', '.join(map(str, unknown))}. "
                f"Known: {', '.join(sorted(known))}."
            )
        return value


@admin.register(Flow)
class FlowAdmin(OpsAdmin):
    form = FlowForm
    list_display = (
        "shop",
        "kind",
        "trigger",
        "delay",
        "channels",
        "purpose",
        "useful_for",
        "is_enabled",
    )
    list_filter = ("trigger", "is_enabled", "shop")
    search_fields = ("kind", "trigger", "shop__name")
    list_select_related = ("shop",)
    autocomplete_fields = ("shop",)
    ordering = ("shop__name", "kind")

    def get_readonly_fields(self, request: HttpRequest, obj: Flow | None = None) -> list[str]:
        # A flow belongs to its shop for good; moving it could break the one-per-kind rule.
        if obj is None:
            return ["created_at", "updated_at"]
        return ["shop", "created_at", "updated_at"]

    def get_fields(self, request: HttpRequest, obj: Flow | None = None) -> tuple[str, ...]:
        return (*FlowForm.Meta.fields, "created_at", "updated_at")


@admin.register(Suppression)
class SuppressionAdmin(OpsAdmin):
    list_display = ("created_at", "shop", "channel", "address", "reason", "source")
    list_filter = ("channel", "reason", "shop")
    search_fields = ("address", "detail")
    list_select_related = ("shop",)
    autocomplete_fields = ("shop",)
    date_hierarchy = "created_at"


@admin.register(NumberOptOut)
class NumberOptOutAdmin(ReadOnlyAdmin):
    # A customer's own STOP: only their START lifts it.
    list_display = ("created_at", "channel", "phone", "our_number")
    list_filter = ("channel", "our_number")
    search_fields = ("phone",)
    date_hierarchy = "created_at"


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "provider", "kind", "event_key", "message")
    list_filter = ("provider", "kind")
    search_fields = ("event_key",)
    list_select_related = ("message",)
    fields = ("provider", "kind", "event_key", "message", "received_at", "payload_pretty")
    readonly_fields = fields

    @admin.display(description="Payload")
    def payload_pretty(self, obj: ProviderEvent) -> str:
        return pretty_json(obj.payload)


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "shop", "channel", "sender", "keyword", "customer", "body")
    list_filter = ("channel", "keyword", "shop")
    search_fields = ("sender", "body", "customer__email")
    list_select_related = ("shop", "customer")
    fields = ("shop", "customer", "channel", "sender", "keyword", "body", "received_at")
    readonly_fields = fields


@admin.register(QuietHoursRule)
class QuietHoursRuleAdmin(OpsAdmin):
    list_display = ("__str__", "country", "region", "allowed_from", "allowed_until", "note")
    list_filter = ("country",)
    search_fields = ("country", "region", "note")


@admin.register(MessageTemplate)
class MessageTemplateAdmin(OpsAdmin):
    list_display = ("kind", "channel", "locale", "shop", "updated_at", "updated_by")
    list_filter = ("channel", "kind", "shop")
    search_fields = ("kind", "subject", "body_text")
    list_select_related = ("shop", "updated_by")
    autocomplete_fields = ("shop",)
    readonly_fields = ("created_at", "updated_at", "updated_by")
