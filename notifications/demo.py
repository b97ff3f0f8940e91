"""The demo shop's messages, added by `seed_demo` (through `orders.demo.demo_shop_seeded`).

Two parts. A few weeks of history, backfilled as rows and never sent: every confirmation and
shipment message the shop's recent orders would have had, in the final states real traffic
ends in (delivered, opened, clicked, bounced, suppressed, failed), each with its history and
delivery attempts. And a handful of messages for the newest orders, scheduled through
`message_schedule` to fall due over the next few minutes, so that the worker and beat of
`make run` send them while the message log is open.

Which messages: those of every registered kind that goes out at once, for the order's sake
(transactional, no delay), on an event of the order's timeline (placed, a parcel shipped or
moving on), planned by the kind's own planner as if the event had just happened (the history
as a backfill, never sent). The demo names no kind.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Prefetch
from django.dispatch import receiver
from django.utils import timezone

from notifications.engine.kinds import flows_ensure_defaults
from notifications.engine.recipients import recipients_for
from notifications.engine.rendering import message_render
from notifications.engine.scheduling import MessageRequest, message_schedule
from notifications.engine.suppression import suppression_key
from notifications.models import (
    AttemptOutcome,
    DeliveryAttempt,
    Flow,
    Message,
    MessageEvent,
    MessageStatus,
    Suppression,
    SuppressionReason,
)
from orders.demo import demo_shop_seeded, explicit_timestamps
from orders.events import OrderEventName
from orders.models import (
    Channel,
    Customer,
    LineItem,
    Order,
    OrderEvent,
    OrderStatus,
    Purpose,
    Shipment,
    Shop,
)
from postpurchase.events import Event
from postpurchase.message_kinds import PlanRequest, message_kind_find

HISTORY = timedelta(days=21)
# The newest orders get their messages live instead: the history stops short of them.
UPCOMING_ORDERS = 24
UPCOMING_WITHIN = timedelta(minutes=10)
BATCH = 1000
PROVIDERS: dict[str, str] = {
    Channel.EMAIL: "demo-email",
    Channel.SMS: "demo-sms",
    Channel.WHATSAPP: "demo-sms",
}

# The domain event each entry of an order's timeline published.
_TIMELINE_EVENTS: dict[str, str] = {
    OrderEvent.Kind.CREATED: OrderEventName.ORDER_PLACED,
    OrderEvent.Kind.SHIPMENT_CREATED: OrderEventName.SHIPMENT_CREATED,
    OrderEvent.Kind.SHIPMENT_STATUS: OrderEventName.SHIPMENT_STATUS_CHANGED,
}


@receiver(demo_shop_seeded, dispatch_uid="notifications.demo")
def demo_messages_seed(*, shop: Shop, now: datetime, seed: int, **kwargs: Any) -> dict[str, int]:
    """Give the freshly seeded demo shop its flows, its message history and a few messages
    due in the next minutes. Returns what it created, for the seed's summary."""
    flows_ensure_defaults(shop_id=shop.pk)
    flows = _flows_at_once(shop)
    orders = _recent_orders(shop, now)
    upcoming, past = orders[:UPCOMING_ORDERS], orders[UPCOMING_ORDERS:]
    rng = random.Random(f"{seed}:messages")  # noqa: S311 - demo data, not secrets
    with explicit_timestamps(Message, MessageEvent, Suppression):
        history = _History(rng, shop)
        for recent in past:
            for due in _owed(recent, flows, is_backfill=True):
                history.add(due)
        history.build()
        history.save()
    scheduled = _upcoming_schedule(rng, upcoming, flows)
    return {"messages": len(history.messages) + scheduled, "messages_scheduled": scheduled}


def _flows_at_once(shop: Shop) -> dict[str, list[Flow]]:
    """The shop's enabled flows of kinds that go out at once for the order's sake, by the
    event that starts them."""
    found: dict[str, list[Flow]] = {}
    for flow in Flow.objects.filter(
        shop=shop,
        is_enabled=True,
        trigger__in=_TIMELINE_EVENTS.values(),
        purpose=Purpose.TRANSACTIONAL,
        delay=timedelta(0),
    ).order_by("pk"):
        kind = message_kind_find(flow.kind)
        if kind is not None and kind.planner is not None:
            found.setdefault(flow.trigger, []).append(flow)
    return found


@dataclass(frozen=True)
class _RecentOrder:
    """An order of the last weeks, its customer, and the entries of its timeline that
    published an event a message kind plans from."""

    order: Order
    customer: Customer
    timeline: list[OrderEvent]


def _recent_orders(shop: Shop, now: datetime) -> list[_RecentOrder]:
    """The shop's orders of the last weeks, newest first, with what their messages say."""
    orders = list(
        Order.objects.filter(shop=shop, placed_at__gte=now - HISTORY, customer__isnull=False)
        .select_related("shop", "customer")
        .prefetch_related(
            Prefetch("line_items", queryset=LineItem.objects.order_by("pk")),
            Prefetch("shipments", queryset=Shipment.objects.order_by("pk")),
            "customer__consents",
        )
        .order_by("-placed_at")
    )
    timelines: dict[int, list[OrderEvent]] = {}
    for entry in OrderEvent.objects.filter(
        order__in=[order.pk for order in orders], kind__in=_TIMELINE_EVENTS
    ):
        timelines.setdefault(entry.order_id, []).append(entry)
    return [
        _RecentOrder(order, customer, timelines.get(order.pk, []))
        for order in orders
        if (customer := order.customer) is not None  # all of them: the filter asked for one
    ]


@dataclass(frozen=True)
class _Due:
    """One message the flows owed: for which order (and parcel), of which kind, when."""

    order: Order
    customer: Customer
    flow: Flow
    about: tuple[str, int]
    at: datetime
    context: dict[str, Any]


def _owed(recent: _RecentOrder, flows: dict[str, list[Flow]], *, is_backfill: bool) -> list[_Due]:
    """What the flows would have sent for this order, from its timeline: each entry replayed
    as the event it published, through the planner of each kind that event starts."""
    order, owed = recent.order, []
    for entry in recent.timeline:
        name = _TIMELINE_EVENTS[entry.kind]
        payload: dict[str, Any] = {"order_id": order.pk}
        if name != OrderEventName.ORDER_PLACED:
            if not entry.data.get("shipment_id"):
                continue
            payload["shipment_id"] = entry.data["shipment_id"]
        if entry.kind == OrderEvent.Kind.SHIPMENT_STATUS:
            payload |= {"from_status": entry.from_status, "to_status": entry.to_status}
        event = Event(id=0, name=name, shop_id=order.shop_id, payload=payload)
        for flow in flows.get(name, []):
            kind = message_kind_find(flow.kind)
            if kind is None or kind.planner is None or not flow.applies_to(payload):
                continue
            request = PlanRequest(
                kind=flow.kind,
                event=event,
                order=order,
                delay=flow.delay,
                now=entry.at,
                is_backfill=is_backfill,
            )
            owed += [
                _Due(order, recent.customer, flow, plan.about, plan.due, plan.context)
                for plan in kind.planner(request)
            ]
    return owed


class _History:
    """Rows for messages that were sent (or refused) before the demo began, with the mix of
    endings real traffic has: most delivered, many emails opened and some clicked, the odd
    hard bounce (after which the address is suppressed) and a few numbers that fail."""

    def __init__(self, rng: random.Random, shop: Shop) -> None:
        self.rng, self.shop = rng, shop
        self.messages: list[Message] = []
        self.events: list[tuple[Message, str, str, str, datetime]] = []
        self.attempts: list[DeliveryAttempt] = []
        self.suppressed: dict[tuple[str, str], Suppression] = {}
        self.keys: set[str] = set()
        self.owed: list[tuple[_Due, str, str, str]] = []
        self.bouncing: set[str] = set()
        self.unreachable: set[str] = set()

    def add(self, due: _Due) -> None:
        for channel, recipient in recipients_for(
            due.order, due.flow.channels, purpose=due.flow.purpose
        ):
            key = ":".join(
                str(p)
                for p in (self.shop.pk, due.order.customer_id, due.flow.kind, *due.about, channel)
            )
            # A parcel out for delivery twice (a failed attempt) got one message, as live.
            if key not in self.keys:
                self.keys.add(key)
                self.owed.append((due, channel, recipient, key))

    def build(self) -> None:
        """Settle the owed messages in the order they were due, so that a bounce suppresses
        the address for what follows. A few addresses bounce and a few numbers cannot be
        reached (at least one of each, so that every ending shows even in a small demo)."""
        self.owed.sort(key=lambda owed: owed[0].at)
        emails = sorted({r for _, channel, r, _ in self.owed if channel == Channel.EMAIL})
        phones = sorted({r for _, channel, r, _ in self.owed if channel != Channel.EMAIL})
        picked = self.rng.sample(emails, min(len(emails), 2 + len(emails) // 60))
        # One address the provider refuses outright (a typo), the others bounce later.
        self.unreachable = set(picked[:1])
        self.bouncing = set(picked[1:])
        self.unreachable |= set(self.rng.sample(phones, min(len(phones), 1 + len(phones) // 40)))
        for due, channel, recipient, key in self.owed:
            self._message(due, channel, recipient, key)

    def _message(self, due: _Due, channel: str, recipient: str, key: str) -> None:
        text = message_render(kind=due.flow.kind, channel=channel, context=due.context)
        at = due.at + timedelta(seconds=self.rng.uniform(2, 40))
        message = Message(
            shop=self.shop,
            customer=due.customer,
            order=due.order,
            kind=due.flow.kind,
            channel=channel,
            purpose=due.flow.purpose,
            recipient=recipient,
            timezone=due.customer.timezone,
            about_type=due.about[0],
            about_id=due.about[1],
            context=due.context,
            subject=text.subject[:255],
            body_text=text.body_text,
            body_html=text.body_html,
            send_at=due.at,
            queued_at=at,
            dedupe_key=key,
            created_at=due.at,
        )
        self._move(message, MessageStatus.SCHEDULED, MessageStatus.QUEUED, "due", at)
        self._settle(message, at)
        message.updated_at = max(e[4] for e in self.events if e[0] is message)
        self.messages.append(message)

    def _settle(self, message: Message, at: datetime) -> None:
        key = (message.channel, suppression_key(message.recipient))
        if key in self.suppressed:
            reason = self.suppressed[key].get_reason_display().lower()
            self._move(message, "queued", "suppressed", f"recipient suppressed: {reason}", at)
            return
        message.sending_at, message.attempt_count = at, 1
        self._move(message, "queued", "sending", "attempt 1", at)
        if message.recipient in self.unreachable:
            self._fail(message, at + timedelta(milliseconds=400))
            return
        sent_at = at + timedelta(milliseconds=self.rng.uniform(150, 900))
        self._sent(message, sent_at)
        if message.recipient in self.bouncing:
            self._bounce(message, sent_at + timedelta(seconds=self.rng.uniform(5, 90)))
        else:
            self._deliver(message, sent_at)

    def _sent(self, message: Message, at: datetime) -> None:
        message.provider = PROVIDERS[message.channel]
        message.provider_message_id = f"demo-{uuid.UUID(int=self.rng.getrandbits(128)).hex}"
        message.sent_at = at
        self._attempt(message, AttemptOutcome.SENT, at)
        self._move(message, "sending", "sent", "", at)

    def _deliver(self, message: Message, sent_at: datetime) -> None:
        delivered = sent_at + timedelta(seconds=self.rng.uniform(2, 60))
        message.delivered_at = delivered
        self._move(message, "sent", "delivered", "delivered: reported by the provider", delivered)
        if message.channel != Channel.EMAIL or self.rng.random() >= 0.58:
            return
        opened = delivered + timedelta(minutes=self.rng.expovariate(1 / 90))
        message.opened_at = opened
        if self.rng.random() < 0.3:
            message.clicked_at = opened + timedelta(seconds=self.rng.uniform(5, 240))

    def _bounce(self, message: Message, at: datetime) -> None:
        detail = "550 5.1.1 The email account that you tried to reach does not exist"
        self._move(message, "sent", "bounced", f"bounced: {detail}", at)
        self._suppress(message, SuppressionReason.HARD_BOUNCE, detail, at)

    def _fail(self, message: Message, at: datetime) -> None:
        if message.channel == Channel.EMAIL:
            error = "Invalid 'To' address: the provider refused to send to it"
            self._suppress(message, SuppressionReason.INVALID, error, at)
        else:
            error = "30003: Unreachable destination handset"
        message.last_error = error
        self._attempt(message, AttemptOutcome.PERMANENT, at, error=error)
        self._move(message, "sending", "failed", error, at)

    def _suppress(self, message: Message, reason: str, detail: str, at: datetime) -> None:
        address = suppression_key(message.recipient)
        self.suppressed[(message.channel, address)] = Suppression(
            shop=self.shop,
            channel=message.channel,
            address=address,
            reason=reason,
            source=PROVIDERS[message.channel],
            detail=detail,
            created_at=at,
            updated_at=at,
        )

    def _attempt(self, message: Message, outcome: str, at: datetime, error: str = "") -> None:
        self.attempts.append(
            DeliveryAttempt(
                message=message,
                started_at=at - timedelta(milliseconds=120),
                finished_at=at,
                outcome=outcome,
                provider_message_id=message.provider_message_id,
                error=error,
            )
        )

    def _move(self, message: Message, from_status: str, to: str, note: str, at: datetime) -> None:
        message.status, message.status_reason = to, note[:255]
        self.events.append((message, from_status, to, note, at))

    def save(self) -> None:
        Message.objects.bulk_create(self.messages, batch_size=BATCH)
        MessageEvent.objects.bulk_create(
            (
                MessageEvent(message=m, from_status=f, to_status=t, note=note[:500], at=at)
                for m, f, t, note, at in sorted(self.events, key=lambda e: e[4])
            ),
            batch_size=BATCH,
        )
        for attempt in self.attempts:
            attempt.message_id = attempt.message.pk
        DeliveryAttempt.objects.bulk_create(self.attempts, batch_size=BATCH)
        Suppression.objects.bulk_create(self.suppressed.values(), batch_size=BATCH)


def _upcoming_schedule(
    rng: random.Random, orders: list[_RecentOrder], flows: dict[str, list[Flow]]
) -> int:
    """Schedule, through the service every flow uses, the message each of the newest orders
    is owed next, due at moments spread over the next few minutes."""
    start, scheduled = timezone.now(), 0
    for n, recent in enumerate(orders):
        order = recent.order
        owed = _owed(recent, flows, is_backfill=False)
        if not owed or order.status == OrderStatus.CANCELLED:
            continue
        due = owed[-1]
        at = start + UPCOMING_WITHIN * (n + rng.random()) / len(orders)
        for channel, recipient in recipients_for(
            order, due.flow.channels, purpose=due.flow.purpose
        ):
            _, created = message_schedule(
                request=MessageRequest(
                    shop_id=order.shop_id,
                    customer_id=order.customer_id,
                    order_id=order.pk,
                    kind=due.flow.kind,
                    channel=channel,
                    purpose=due.flow.purpose,
                    recipient=recipient,
                    about_type=due.about[0],
                    about_id=due.about[1],
                    send_at=at,
                    context=due.context,
                )
            )
            scheduled += created
    return scheduled
