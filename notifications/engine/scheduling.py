import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Field

from notifications.engine.quiet_hours import (
    RecipientPlace,
    obeys_quiet_hours,
    quiet_hours_next_opening,
    quiet_hours_note,
)
from notifications.models import MESSAGE_TRANSITIONS, PENDING_STATES, Message, MessageStatus
from postpurchase.states import transition_rows


@dataclass(frozen=True)
class MessageRequest:
    """Everything needed to owe a customer one message."""

    shop_id: int
    customer_id: int | None
    kind: str
    channel: str
    purpose: str
    recipient: str
    about_type: str
    about_id: int
    send_at: datetime
    order_id: int | None = None
    expires_at: datetime | None = None
    context: dict[str, Any] | None = None
    # Where the recipient is, when the caller already holds it (`RecipientPlace.for_order`):
    # spares `message_schedule` the query that reads it.
    place: RecipientPlace | None = None
    # No message about this object can exist yet (`MessagePlan.about_is_new`): no look-up.
    about_is_new: bool = False

    def dedupe_key(self) -> str:
        return ":".join(
            str(part)
            for part in (
                self.shop_id,
                self.customer_id or "-",
                self.kind,
                self.about_type,
                self.about_id,
                self.channel,
            )
        )


def message_schedule(*, request: MessageRequest) -> tuple[Message, bool]:
    """The one entry point every app uses to owe a customer a message.

    Returns (message, created). Asking again for the same message (same shop, customer, kind,
    object and channel) returns the first row untouched: an event, a webhook or a task that runs
    twice never sends twice. The recipient's zone and region are resolved and stored, and a
    message that must respect quiet hours and is due outside them is scheduled for the window's
    next opening. Costs one SELECT when the message exists, else one to read where the recipient
    is (none when the request carries its `place`) and an INSERT that does nothing when the key
    is taken (so two callers racing on the same key still get one row); the quiet-hours rules
    are read at most once a minute per process. A request `about_is_new` skips the look-up."""
    key = request.dedupe_key()
    if not request.about_is_new:
        existing = Message.objects.filter(dedupe_key=key).first()
        if existing is not None:
            return existing, False
    zone, region = _recipient_zone_and_region(request)
    send_at, reason = request.send_at, ""
    if obeys_quiet_hours(channel=request.channel, purpose=request.purpose):
        opening = quiet_hours_next_opening(at=send_at, zone=zone, region=region)
        if opening is not None:
            send_at, reason = opening, quiet_hours_note(opening=opening, zone=zone)
    message = Message(
        shop_id=request.shop_id,
        customer_id=request.customer_id,
        order_id=request.order_id,
        kind=request.kind,
        channel=request.channel,
        purpose=request.purpose,
        recipient=request.recipient,
        timezone=zone,
        region=region,
        about_type=request.about_type,
        about_id=request.about_id,
        send_at=send_at,
        status_reason=reason,
        expires_at=request.expires_at,
        context=request.context or {},
        dedupe_key=key,
    )
    if not _insert_unless_known(message):
        # Another caller scheduled the same message between our look-up and our INSERT.
        return Message.objects.get(dedupe_key=key), False
    return message, True


_MESSAGE_FIELDS: list[Field] = [
    field for field in Message._meta.concrete_fields if not field.primary_key
]


@functools.cache
def _insert_sql() -> str:
    """The text is the same for every message: made once per process."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in _MESSAGE_FIELDS)
    placeholders = ", ".join(["%s"] * len(_MESSAGE_FIELDS))
    # Only the model's own table and column names go into the text; every value is a parameter.
    return (
        f"INSERT INTO {quote(Message._meta.db_table)} ({columns}) VALUES ({placeholders}) "  # noqa: S608
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
    )


def _insert_unless_known(message: Message) -> bool:
    """INSERT the message unless its dedupe key is taken, in one statement and without a
    savepoint (a conflict does not abort the transaction); whether it was inserted."""
    params = [
        field.get_db_prep_save(field.pre_save(message, True), connection)
        for field in _MESSAGE_FIELDS
    ]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(), params)
        row = cursor.fetchone()
    if row is None:
        return False
    message.pk = row[0]
    message._state.adding = False
    message._state.db = connection.alias
    return True


def _recipient_zone_and_region(request: MessageRequest) -> tuple[str, str]:
    place = request.place or RecipientPlace.load(
        shop_id=request.shop_id, customer_id=request.customer_id, order_id=request.order_id
    )
    # A text goes to its recipient's number; an email's reader is placed by the customer's.
    phone = request.recipient if request.channel != "email" else ""
    return place.zone(phone=phone, at=request.send_at), place.region(phone=phone)


@transaction.atomic
def messages_cancel(
    *,
    reason: str,
    order_id: int | None = None,
    about: tuple[str, int] | None = None,
    kinds: tuple[str, ...] = (),
) -> int:
    """Cancel pending (scheduled or queued) messages about an order or an object, optionally of
    some kinds only: a cancelled order cancels everything pending for it, a reorder cancels the
    replenishment reminder. Returns how many were cancelled."""
    if order_id is None and about is None:
        raise ValueError("say which order or object the messages are about")
    pending = Message.objects.all()
    if order_id is not None:
        pending = pending.filter(order_id=order_id)
    if about is not None:
        pending = pending.filter(about_type=about[0], about_id=about[1])
    if kinds:
        pending = pending.filter(kind__in=kinds)
    # Pending: not yet in a provider's hands. (The send path may also cancel a message mid-send,
    # which this must not.)
    cancelled = transition_rows(
        pending.order_by("pk"),
        to=MessageStatus.CANCELLED,
        table=MESSAGE_TRANSITIONS,
        among=PENDING_STATES,
        note=reason,
        values={"status_reason": reason[:255]},
    )
    return len(cancelled)
