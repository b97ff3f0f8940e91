"""Turning the plans of the registered kinds into scheduled messages: an event is handed to every
enabled flow it starts, each kind's planner (`postpurchase.message_kinds`) says what its flow
owes, and each plan is scheduled on the flow's channels the customer can receive. The periodic
flows schedule their plans through `flow_schedule` too.

The engine knows the kinds only through the registry: it subscribes to the event of every kind
registered with a planner, whichever app registers it, and loads the order the event is about
(every kind's event names one)."""

from django.utils import timezone

from notifications.engine.kinds import ensured_shops_forget, flows_for
from notifications.engine.quiet_hours import RecipientPlace
from notifications.engine.recipients import recipients_for
from notifications.engine.scheduling import MessageRequest, message_schedule, messages_cancel
from notifications.models import Flow, Message
from orders.models import Customer, Order, Purpose
from postpurchase import events, message_kinds
from postpurchase.events import Event
from postpurchase.message_kinds import MessageKind, MessagePlan, Planner, PlanRequest


def customer_as_recipient(customer: Customer) -> Order:
    """An unsaved order carrying only the customer, for messages about the customer rather
    than one of their orders (birthdays): `recipients_for` reads contact data from an order
    and falls back to the customer's own."""
    return Order(shop_id=customer.shop_id, customer=customer)


def flow_schedule(*, flow: Flow, order: Order, plan: MessagePlan) -> list[Message]:
    """Schedule the planned message on every channel of the flow the customer can receive.
    `order` may be unsaved (see `customer_as_recipient`): the message is then about no order.

    Nothing that sells (a review request, a reminder to buy again) is scheduled about an order
    whose payment was voided or fully refunded; the send checks that again, as the payment may
    be reversed after scheduling (`sending._moot_reason`)."""
    if flow.purpose == Purpose.MARKETING and order.is_payment_reversed:
        return []
    scheduled = []
    recipients = recipients_for(order, flow.channels, purpose=flow.purpose)
    kind = message_kinds.message_kind_find(flow.kind)
    if kind is not None and kind.single_channel:
        recipients = recipients[:1]
    # Read once for all channels, from objects already loaded: saves a query per message.
    place = RecipientPlace.for_order(order) if recipients else None
    for channel, recipient in recipients:
        message, _ = message_schedule(
            request=MessageRequest(
                shop_id=flow.shop_id,
                customer_id=order.customer_id,
                order_id=order.pk,
                kind=flow.kind,
                channel=channel,
                purpose=flow.purpose,
                recipient=recipient,
                about_type=plan.about[0],
                about_id=plan.about[1],
                send_at=plan.due,
                expires_at=plan.due + flow.useful_for if flow.useful_for else None,
                context=plan.context,
                place=place,
                about_is_new=plan.about_is_new,
            )
        )
        scheduled.append(message)
    return scheduled


def event_schedule_messages(event: Event) -> list[Message]:
    """Schedule what every enabled flow this event starts owes the customer, as its kind's
    planner says. A shipment event's messages are about the shipment, so a split order gets one
    per parcel; a return event's are about the return, so an order returned twice gets two."""
    flows = flows_for(shop_id=event.shop_id, trigger=event.name, payload=event.payload)
    planned: list[tuple[Flow, Planner]] = []
    for flow in flows:
        # A flow of a kind no app registers any more (an app uninstalled) owes nothing.
        kind = message_kinds.message_kind_find(flow.kind)
        if kind is not None and kind.planner is not None:
            planned.append((flow, kind.planner))
    if not planned:
        return []
    order = (
        Order.objects.select_related("shop", "customer")
        .prefetch_related("line_items")
        .get(pk=event.payload["order_id"])
    )
    now = timezone.now()
    scheduled = []
    for flow, planner in planned:
        request = PlanRequest(kind=flow.kind, event=event, order=order, delay=flow.delay, now=now)
        for plan in planner(request):
            scheduled += flow_schedule(flow=flow, order=order, plan=plan)
    return scheduled


def order_cancelled_cancel_messages(event: Event) -> int:
    """A cancelled order's messages still waiting are moot, whatever their kind."""
    return messages_cancel(order_id=event.payload["order_id"], reason="the order was cancelled")


def _subscriber_key(trigger: str) -> str:
    # The subscriber's name in the events' delivery records: stable across releases.
    return f"notifications.{trigger}"


def kind_registered(kind: MessageKind, *, registered: bool) -> None:
    """Listen to the event of every kind registered with a planner (and stop when the last kind
    it starts is unregistered); shops get a newly registered kind's flow on their next event."""
    ensured_shops_forget()
    if kind.is_periodic:
        return
    if registered:
        events.subscribe(kind.trigger, event_schedule_messages, key=_subscriber_key(kind.trigger))
        return
    still_planned = any(
        other.trigger == kind.trigger and not other.is_periodic
        for other in message_kinds.message_kinds()
    )
    if not still_planned:
        events.unsubscribe(kind.trigger, _subscriber_key(kind.trigger))
