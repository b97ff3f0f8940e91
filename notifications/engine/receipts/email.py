"""What the email provider tells us after sending, through anymail's normalised tracking events:
delivery, bounces, complaints, opens, clicks and unsubscribes.

Each event is stored once (`ProviderEvent`, unique per provider and event key) before it acts,
so a webhook the provider retries changes nothing the second time. Message states only move
along `MESSAGE_TRANSITIONS`: a late or out-of-order event never moves a message backwards.
"""

import hashlib
import json
from datetime import datetime
from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone

from notifications.engine.suppression import suppression_add
from notifications.models import (
    MESSAGE_TRANSITIONS,
    Message,
    MessageStatus,
    ProviderEvent,
    SuppressionReason,
)
from orders.models import Channel, Customer, Purpose
from orders.services.customers import consent_record
from orders.services.data import ConsentData
from postpurchase.states import can_transition, transition


def _plain(value: Any) -> Any:
    """The provider's raw event as JSON-safe data (ESPs hand over dicts, lists or form data)."""
    if isinstance(value, QueryDict):
        value = value.dict()
    return json.loads(json.dumps(value, default=str))


def tracking_event_key(event: AnymailTrackingEvent) -> str:
    """The provider's own event id, else a hash of what makes the event itself: some providers
    (Postmark's deliveries, opens and clicks) send none, and a retried webhook repeats the same
    body, so it hashes the same."""
    if event.event_id:
        return str(event.event_id)[:255]
    identity = {
        "type": event.event_type,
        "message_id": event.message_id,
        "recipient": event.recipient,
        "timestamp": event.timestamp.isoformat() if event.timestamp else None,
        "raw": _plain(event.esp_event),
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return f"sha256:{digest}"


def _event_store(provider: str, event: AnymailTrackingEvent) -> ProviderEvent | None:
    """Store the event once; None when it was seen before."""
    try:
        with transaction.atomic():
            return ProviderEvent.objects.create(
                provider=provider,
                event_key=tracking_event_key(event),
                kind=str(event.event_type)[:32],
                payload=_plain(event.esp_event) or {},
            )
    except IntegrityError:
        return None


def _message_for(event: AnymailTrackingEvent) -> Message | None:
    """The message the event is about, locked: by the id the email adapter put in the
    metadata, else by the provider's message id."""
    messages = Message.objects.select_for_update().filter(channel=Channel.EMAIL)
    ours = str((event.metadata or {}).get("message_id", ""))
    if ours.isdigit():
        found = messages.filter(pk=int(ours)).first()
        if found:
            return found
    if event.message_id:
        return messages.filter(provider_message_id=str(event.message_id)).first()
    return None


def _when(event: AnymailTrackingEvent) -> datetime:
    stamp = event.timestamp
    return stamp if stamp and timezone.is_aware(stamp) else timezone.now()


def _note(provider: str, event: AnymailTrackingEvent) -> str:
    detail = event.description or event.mta_response or ""
    return f"{provider}: {event.event_type}" + (f" ({detail})" if detail else "")


def _move(message: Message, to: str, note: str, *extra: str) -> bool:
    """Move forward when the table allows it; an event that arrives late changes nothing."""
    if not can_transition(message.status, to, MESSAGE_TRANSITIONS):
        return False
    message.status_reason = note[:255]
    transition(
        message,
        to=to,
        table=MESSAGE_TRANSITIONS,
        note=note[:500],
        extra_fields=("status_reason", *extra),
    )
    return True


def _history_note(message: Message, note: str) -> None:
    message.record_transition(
        from_status=message.status, to_status=message.status, actor=None, note=note[:500]
    )


def _suppress(message: Message, provider: str, reason: str, note: str) -> None:
    suppression_add(
        shop_id=message.shop_id,
        channel=Channel.EMAIL,
        address=message.recipient,
        reason=reason,
        source=provider,
        detail=note,
    )


def _revoke_marketing_email(message: Message, provider: str, detail: str) -> None:
    customer = message.customer
    if customer is None:
        return
    consent_record(
        customer=customer,
        data=ConsentData(
            channel=Channel.EMAIL,
            purpose=Purpose.MARKETING,
            is_granted=False,
            source=provider,
            detail=detail,
        ),
    )


def _held_settled(message: Message, event: AnymailTrackingEvent, provider: str) -> tuple[str, ...]:
    """A held message (its send timed out, outcome unknown) that the provider reports on was
    taken by the provider after all: record by whom and under which id, which the interrupted
    send never could, and that it left with its last attempt. Returns the fields to save."""
    if message.status != MessageStatus.HELD:
        return ()
    message.provider = provider
    message.provider_message_id = str(event.message_id or "")[:128]
    message.sent_at = message.sending_at
    return ("provider", "provider_message_id", "sent_at")


def _delivered(message: Message, event: AnymailTrackingEvent, provider: str) -> str:
    message.delivered_at = _when(event)
    settled = _held_settled(message, event, provider)
    note = _note(provider, event)
    moved = _move(message, MessageStatus.DELIVERED, note, "delivered_at", *settled)
    return "delivered" if moved else "ignored"


# anymail maps a few ESPs' soft bounces onto `bounced` too (Postmark's SoftBounce, SendGrid's
# "blocked" bounce); the ESP retries those, and the address is not bad.
_SOFT_BOUNCES = {("Type", "SoftBounce"), ("type", "blocked")}


def _is_soft_bounce(event: AnymailTrackingEvent) -> bool:
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    return any(raw.get(key) == value for key, value in _SOFT_BOUNCES)


def _bounced(message: Message, event: AnymailTrackingEvent, provider: str) -> str:
    # A hard bounce means the address is bad whatever state the message reached, so it is
    # suppressed even when the state stays.
    note = _note(provider, event)
    if _is_soft_bounce(event):
        _history_note(message, f"soft bounce, the provider retries: {note}")
        return "noted"
    _suppress(message, provider, SuppressionReason.HARD_BOUNCE, note)
    _move(message, MessageStatus.BOUNCED, note, *_held_settled(message, event, provider))
    return "bounced"


def _complained(message: Message, event: AnymailTrackingEvent, provider: str) -> str:
    note = _note(provider, event)
    _suppress(message, provider, SuppressionReason.COMPLAINT, note)
    _revoke_marketing_email(message, provider, "marked an email as spam")
    _history_note(message, note)
    return "complained"


def _unsubscribed(message: Message, event: AnymailTrackingEvent, provider: str) -> str:
    _revoke_marketing_email(message, provider, "unsubscribed through the email provider")
    _history_note(message, _note(provider, event))
    return "unsubscribed"


def _engaged(message: Message, event: AnymailTrackingEvent, provider: str) -> str:
    """Keep the first open and click, whatever order the events arrive in; a click means the
    email was opened, even when the open was not reported (images blocked)."""
    when, fields = _when(event), []
    names = ("opened_at", "clicked_at") if event.event_type == EventType.CLICKED else ("opened_at",)
    for name in names:
        current = getattr(message, name)
        if current is None or when < current:
            setattr(message, name, when)
            fields.append(name)
    if fields:
        message.save(update_fields=[*fields, "updated_at"])
    return str(event.event_type) if fields else "ignored"


def _failed(message: Message, event: AnymailTrackingEvent, provider: str) -> str:
    moved = _move(message, MessageStatus.FAILED, _note(provider, event))
    return "failed" if moved else "ignored"


def _noted(message: Message, event: AnymailTrackingEvent, provider: str) -> str:
    _history_note(message, _note(provider, event))
    return "noted"


_EFFECTS = {
    EventType.DELIVERED: _delivered,
    EventType.BOUNCED: _bounced,
    EventType.COMPLAINED: _complained,
    EventType.UNSUBSCRIBED: _unsubscribed,
    EventType.OPENED: _engaged,
    EventType.CLICKED: _engaged,
    EventType.REJECTED: _failed,
    EventType.FAILED: _failed,
}


# What an event we cannot match to a message still says about its address, whoever sent that
# email: it is bad (a hard bounce), or its owner does not want email from us (a complaint).
_UNMATCHED_SUPPRESSIONS = {
    EventType.BOUNCED: (SuppressionReason.HARD_BOUNCE, "hard bounce of"),
    EventType.COMPLAINED: (SuppressionReason.COMPLAINT, "spam complaint about"),
}


def _unmatched(event: AnymailTrackingEvent, provider: str) -> str:
    """Suppress the address of an unmatched hard bounce or complaint in every shop that has it
    as a customer's email; any other unmatched event is only kept for the record."""
    found = _UNMATCHED_SUPPRESSIONS.get(event.event_type)
    if found is None or not event.recipient or _is_soft_bounce(event):
        return "unmatched"
    reason, what = found
    shop_ids = list(
        Customer.objects.filter(email__iexact=event.recipient)
        .order_by("shop_id")
        .values_list("shop_id", flat=True)
        .distinct()
    )
    for shop_id in shop_ids:
        suppression_add(
            shop_id=shop_id,
            channel=Channel.EMAIL,
            address=event.recipient,
            reason=reason,
            source=f"{provider} (unmatched)",
            detail=f"{what} an email we could not match to a message: {_note(provider, event)}",
        )
    return "unmatched, suppressed" if shop_ids else "unmatched"


@transaction.atomic
def email_tracking_record(*, esp_name: str, event: AnymailTrackingEvent) -> str:
    """Apply one tracking event from the email provider; returns what happened ("duplicate",
    "unmatched", "ignored", or the effect), for the log and the tests."""
    provider = esp_name.lower()[:32]
    stored = _event_store(provider, event)
    if stored is None:
        return "duplicate"
    message = _message_for(event)
    if message is None:  # not sent by us, or already deleted
        return _unmatched(event, provider)
    stored.message = message
    stored.save(update_fields=["message"])
    effect = _EFFECTS.get(event.event_type, _noted)
    return effect(message, event, provider)
