"""Every read the messaging dashboard makes, already scoped to the staff member's shop.

Each selector takes the shop and starts from `orders.tenancy.scoped` (or from an object already
fetched through it), so another shop's message, flow, address or customer never reaches a page:
a lookup by id is a 404, a list simply does not contain it.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models import Value as V
from django.db.models.functions import Coalesce, Concat
from django.shortcuts import get_object_or_404

from notifications.engine.suppression import suppression_key
from notifications.models import (
    PENDING_STATES,
    DeliveryAttempt,
    Flow,
    InboundMessage,
    Message,
    MessageEvent,
    MessageStatus,
    ProviderEvent,
    Suppression,
)
from orders.models import (
    Channel,
    Consent,
    Customer,
    Order,
    Purpose,
    Shop,
)
from orders.selectors import overview_window_start
from orders.tenancy import scoped
from postpurchase.message_kinds import message_kinds

TIMELINE_LIMIT = 100


def _shop_day_start(shop: Shop, day: date) -> datetime:
    """Midnight of `day` in the shop's zone: staff pick dates as they live them, not in UTC."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(shop.timezone))


def _person_search(query: str, prefix: str = "") -> Q:
    """Email, phone or name (first, last or both) of a customer, under `prefix`."""
    return (
        Q(**{f"{prefix}email__icontains": query})
        | Q(**{f"{prefix}phone__icontains": query})
        | Q(**{f"{prefix}first_name__icontains": query})
        | Q(**{f"{prefix}last_name__icontains": query})
        | Q(search_name__icontains=query)
    )


# Messages ------------------------------------------------------------------------------------


def message_kinds_for_shop(*, shop: Shop) -> list[str]:
    """The kinds staff can filter by: the shop's flows and every registered kind."""
    kinds = set(scoped(Flow, shop).values_list("kind", flat=True))
    kinds.update(kind.name for kind in message_kinds())
    return sorted(kinds)


def message_list_for_shop(
    *,
    shop: Shop,
    kind: str = "",
    channel: str = "",
    state: str = "",
    query: str = "",
    order: str = "",
    customer_id: int | None = None,
    created_from: date | None = None,
    created_to: date | None = None,
) -> QuerySet[Message]:
    """The shop's messages, newest first, with their customer and order for the log's rows.

    `query` matches the recipient or the customer's email, phone or name; `order` is an order
    number with or without its '#'. Dates are whole days in the shop's zone, both included."""
    messages = (
        scoped(Message, shop)
        .select_related("customer", "order")
        .order_by("-created_at", "-pk")
        .defer("context", "body_text", "body_html", "last_error")
    )
    if kind:
        messages = messages.filter(kind=kind)
    if channel:
        messages = messages.filter(channel=channel)
    if state:
        messages = messages.filter(status=state)
    if customer_id is not None:
        messages = messages.filter(customer_id=customer_id)
    query = query.strip()
    if query:
        messages = messages.annotate(
            search_name=Concat("customer__first_name", V(" "), "customer__last_name")
        ).filter(Q(recipient__icontains=query) | _person_search(query, "customer__"))
    bare = order.strip().removeprefix("#").strip()
    if bare:
        messages = messages.filter(
            Q(order__number__iexact=bare) | Q(order__number__iexact=f"#{bare}")
        )
    if created_from is not None:
        messages = messages.filter(created_at__gte=_shop_day_start(shop, created_from))
    if created_to is not None:
        end = _shop_day_start(shop, created_to + timedelta(days=1))
        messages = messages.filter(created_at__lt=end)
    return messages


def message_state_counts(*, messages: QuerySet[Message]) -> dict[str, int]:
    """How many of `messages` are in each state (every state listed, zeros included), in one
    GROUP BY query."""
    rows = messages.order_by().values("status").annotate(n=Count("pk"))
    found = {row["status"]: row["n"] for row in rows}
    return {state: found.get(state, 0) for state in MessageStatus.values}


def message_get_for_shop(*, shop: Shop, message_id: int) -> Message:
    """One message of the shop with its history, attempts and the provider's events; 404 for
    another shop's."""
    messages = (
        scoped(Message, shop)
        .select_related("customer", "order")
        .prefetch_related(
            Prefetch("events", queryset=MessageEvent.objects.select_related("actor")),
            Prefetch("attempts", queryset=DeliveryAttempt.objects.all()),
            Prefetch(
                "provider_events",
                queryset=ProviderEvent.objects.order_by("received_at", "pk"),
            ),
        )
    )
    return get_object_or_404(messages, pk=message_id)


# The fields of a provider's callback that say what happened, in the order shown; the whole
# payload is in admin. Twilio's status callbacks first, then what email providers send
# (anymail stores each provider's own event: Postmark, SendGrid, Mailgun, SES, ...).
_PROVIDER_EVENT_FIELDS = (
    "MessageStatus",
    "ErrorCode",
    "ErrorMessage",
    "RecordType",
    "Type",
    "event",
    "eventType",
    "notificationType",
    "status",
    "reason",
    "response",
    "Description",
    "Details",
    "DeliveredAt",
    "BouncedAt",
    "timestamp",
    "Recipient",
    "email",
    "recipient",
    "To",
    "MessageSid",
    "MessageID",
    "sg_message_id",
    "Message-Id",
)
_PROVIDER_EVENT_VALUE_MAX = 200


@dataclass(frozen=True)
class ProviderEventRow:
    provider: str
    kind: str
    received_at: datetime
    fields: list[tuple[str, str]]


def _payload_fields(payload: object) -> list[tuple[str, str]]:
    """The known fields of a payload, also one level down (Mailgun nests its event under
    "event-data"), as (name, text) pairs."""
    if not isinstance(payload, dict):
        return []
    found: list[tuple[str, str]] = []
    levels = [("", payload)] + [
        (f"{key}.", value) for key, value in payload.items() if isinstance(value, dict)
    ]
    for prefix, level in levels:
        for name in _PROVIDER_EVENT_FIELDS:
            value = level.get(name)
            if value in (None, "", [], {}) or isinstance(value, dict | list):
                continue
            found.append((f"{prefix}{name}", str(value)[:_PROVIDER_EVENT_VALUE_MAX]))
    return found


def message_provider_events(*, message: Message) -> list[ProviderEventRow]:
    """What the provider told us about the message, oldest first: kind, when, key fields."""
    return [
        ProviderEventRow(
            provider=event.provider,
            kind=event.kind,
            received_at=event.received_at,
            fields=_payload_fields(event.payload),
        )
        for event in message.provider_events.all()
    ]


_BLOCKED_REMOTE = (
    '<meta http-equiv="Content-Security-Policy" '
    "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
)
_HEAD_OPEN = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)


def message_html_preview(*, message: Message) -> str:
    """The email's HTML for a sandboxed frame, with remote content blocked: loading the
    provider's tracking pixel from the dashboard would count staff's look as the customer's
    open, and the page must not fetch anything from another host."""
    html = message.body_html
    if not html:
        return ""
    match = _HEAD_OPEN.search(html)
    if match:
        return html[: match.end()] + _BLOCKED_REMOTE + html[match.end() :]
    return _BLOCKED_REMOTE + html


# Flows ---------------------------------------------------------------------------------------


def flow_list_for_shop(*, shop: Shop) -> list[Flow]:
    """The shop's flows, the product's defaults first in their own order, then the rest."""
    position = {kind.name: index for index, kind in enumerate(message_kinds())}
    flows = list(scoped(Flow, shop))
    return sorted(flows, key=lambda flow: (position.get(flow.kind, len(position)), flow.kind))


def flow_get_for_shop(*, shop: Shop, flow_id: int) -> Flow:
    return get_object_or_404(scoped(Flow, shop), pk=flow_id)


# Suppression list ------------------------------------------------------------------------------


def suppression_list_for_shop(
    *, shop: Shop, query: str = "", channel: str = ""
) -> QuerySet[Suppression]:
    suppressions = scoped(Suppression, shop).order_by("-created_at", "-pk")
    query = query.strip()
    if query:
        suppressions = suppressions.filter(
            Q(address__icontains=query) | Q(detail__icontains=query) | Q(source__icontains=query)
        )
    if channel:
        suppressions = suppressions.filter(channel=channel)
    return suppressions


def suppression_get_for_shop(*, shop: Shop, suppression_id: int) -> Suppression:
    return get_object_or_404(scoped(Suppression, shop), pk=suppression_id)


# Customers -------------------------------------------------------------------------------------


def customer_list_for_shop(*, shop: Shop, query: str = "") -> QuerySet[Customer]:
    """The shop's customers, most recently added first, each with `message_count`."""
    counts = (
        Message.objects.filter(customer=OuterRef("pk"))
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    customers = (
        scoped(Customer, shop)
        .annotate(message_count=Coalesce(Subquery(counts, output_field=IntegerField()), 0))
        .order_by("-created_at", "-pk")
    )
    query = query.strip()
    if query:
        customers = customers.annotate(
            search_name=Concat("first_name", V(" "), "last_name")
        ).filter(_person_search(query))
    return customers


def customer_get_for_shop(*, shop: Shop, customer_id: int) -> Customer:
    return get_object_or_404(scoped(Customer, shop).select_related("shop"), pk=customer_id)


def customer_find_for_shop(*, shop: Shop, customer_id: int) -> Customer | None:
    """The shop's customer, or None (a filter naming another shop's customer matches nothing)."""
    return scoped(Customer, shop).filter(pk=customer_id).first()


@dataclass(frozen=True)
class CustomerTimelineEntry:
    at: datetime
    type: str  # "message", "reply" or "order"
    message: Message | None = None
    reply: InboundMessage | None = None
    order: Order | None = None


def customer_timeline(
    *, customer: Customer, limit: int = TIMELINE_LIMIT
) -> list[CustomerTimelineEntry]:
    """The customer's messages (at the time they went out, or are due), their replies and
    their orders, newest first; the latest `limit` of each kind, in three queries."""
    shop = customer.shop
    messages = (
        scoped(Message, shop)
        .filter(customer=customer)
        .defer("context", "body_text", "body_html", "last_error")
        .order_by("-send_at", "-pk")[:limit]
    )
    replies = (
        scoped(InboundMessage, shop).filter(customer=customer).order_by("-received_at")[:limit]
    )
    orders = scoped(Order, shop).filter(customer=customer).order_by("-placed_at")[:limit]
    entries = [CustomerTimelineEntry(o.placed_at, "order", order=o) for o in orders]
    entries += [
        CustomerTimelineEntry(m.sent_at or m.send_at, "message", message=m) for m in messages
    ]
    entries += [CustomerTimelineEntry(r.received_at, "reply", reply=r) for r in replies]
    # Newest first; at equal times what followed reads above what caused it: a reply above
    # the message, a message above its order.
    rank = {"order": 0, "message": 1, "reply": 2}
    return sorted(entries, key=lambda e: (e.at, rank[e.type], _entry_pk(e)), reverse=True)


def _entry_pk(entry: CustomerTimelineEntry) -> int:
    row = entry.message or entry.reply or entry.order
    return row.pk if row is not None else 0


@dataclass(frozen=True)
class ConsentCell:
    channel: str
    purpose: str
    status: str
    changed_at: datetime | None
    source: str


def customer_consents_by_purpose(*, customer: Customer) -> list[ConsentCell]:
    """Consent for every channel and purpose, 'Not recorded' where nothing was ever given."""
    recorded = {(c.channel, c.purpose): c for c in Consent.objects.filter(customer=customer)}
    cells = []
    for channel, channel_label in Channel.choices:
        for purpose, purpose_label in Purpose.choices:
            consent = recorded.get((channel, purpose))
            if consent is None:
                cells.append(ConsentCell(channel_label, purpose_label, "Not recorded", None, ""))
            else:
                cells.append(
                    ConsentCell(
                        channel_label,
                        purpose_label,
                        consent.get_status_display(),
                        consent.changed_at,
                        consent.source,
                    )
                )
    return cells


def customer_suppressions(*, customer: Customer) -> QuerySet[Suppression]:
    """The shop's suppressions of this customer's email and phone, on any channel."""
    addresses = [suppression_key(a) for a in (customer.email, customer.phone) if a]
    if not addresses:
        return Suppression.objects.none()
    return scoped(Suppression, customer.shop).filter(address__in=addresses).order_by("channel")


# Rates per flow --------------------------------------------------------------------------------

_SENT = Q(sent_at__isnull=False) | Q(
    status__in=[MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.BOUNCED]
)
_DELIVERED = Q(delivered_at__isnull=False) | Q(status=MessageStatus.DELIVERED)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class FlowRate:
    kind: str
    channel: str
    scheduled: int
    pending: int
    sent: int
    delivered: int
    opened: int
    clicked: int
    failed: int
    bounced: int
    suppressed: int
    cancelled: int

    @property
    def tracks_opens(self) -> bool:
        # Only email reports opens and clicks (a pixel and wrapped links); texts have neither.
        return self.channel == Channel.EMAIL

    @property
    def delivered_pct(self) -> float | None:
        return _percent(self.delivered, self.sent)

    @property
    def opened_pct(self) -> float | None:
        return _percent(self.opened, self.sent) if self.tracks_opens else None

    @property
    def clicked_pct(self) -> float | None:
        return _percent(self.clicked, self.sent) if self.tracks_opens else None


def flow_rates(*, shop: Shop, now: datetime | None = None) -> list[FlowRate]:
    """Per kind and channel, what became of the messages scheduled in the last 30 days.

    Percentages are of the messages sent (accepted by the provider); one GROUP BY query."""
    # Whole days in the shop's zone, as the overview's other numbers and the log's date filter
    # count them: each count links to the log, which must list as many.
    since = _shop_day_start(shop, overview_window_start(shop=shop, now=now))
    rows = (
        scoped(Message, shop)
        .filter(created_at__gte=since)
        .order_by()
        .values("kind", "channel")
        .annotate(
            scheduled=Count("pk"),
            pending=Count("pk", filter=Q(status__in=PENDING_STATES)),
            sent=Count("pk", filter=_SENT),
            delivered=Count("pk", filter=_DELIVERED),
            opened=Count("pk", filter=Q(opened_at__isnull=False)),
            clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
            failed=Count("pk", filter=Q(status=MessageStatus.FAILED)),
            bounced=Count("pk", filter=Q(status=MessageStatus.BOUNCED)),
            suppressed=Count("pk", filter=Q(status=MessageStatus.SUPPRESSED)),
            cancelled=Count("pk", filter=Q(status=MessageStatus.CANCELLED)),
        )
        .order_by("kind", "channel")
    )
    return [FlowRate(**row) for row in rows]
