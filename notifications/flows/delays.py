"""Delay detection: parcels that went quiet or missed their estimated date get a proactive
apology, once per parcel, before the customer has to ask."""

import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from notifications.engine.kinds import flows_enabled_for_kind
from notifications.engine.planning import flow_schedule
from notifications.models import Message
from orders.messages import order_context, shipment_context
from orders.models import OrderStatus, Shipment, ShipmentStatus, Shop
from postpurchase.message_kinds import MessagePlan

KIND = "shipment_delayed"

# Parcels still on their way. An exception is left out: its own flow has already apologised
# and promised to write again when the parcel moves.
_ON_THE_WAY = (
    ShipmentStatus.PENDING,
    ShipmentStatus.LABEL_CREATED,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.OUT_FOR_DELIVERY,
)


def _past_estimate(shop_ids: list[int], now: datetime) -> Q:
    """Past the estimated delivery date: that whole day is over in the shop's zone."""
    condition = Q(pk__in=[])
    zones = Shop.objects.filter(pk__in=shop_ids).values_list("timezone", flat=True).distinct()
    for zone in zones:
        today = now.astimezone(zoneinfo.ZoneInfo(zone)).date()
        condition |= Q(shop__timezone=zone, estimated_delivery_date__lt=today)
    return condition


def shipments_overdue(
    *, shop_ids: list[int], now: datetime, silent_for: timedelta
) -> list[Shipment]:
    """Undelivered parcels of these shops with no scan for `silent_for` (counted from when they
    shipped when they never had one) or past their estimated date, not yet apologised for."""
    apologised = Message.objects.filter(kind=KIND, about_type="shipment", about_id=OuterRef("pk"))
    return list(
        Shipment.objects.filter(shop_id__in=shop_ids, status__in=_ON_THE_WAY)
        .exclude(order__status=OrderStatus.CANCELLED)
        .annotate(last_heard=Coalesce("last_event_at", "shipped_at", "created_at"))
        .filter(Q(last_heard__lt=now - silent_for) | _past_estimate(shop_ids, now))
        .exclude(Exists(apologised))
        .select_related("order__shop", "order__customer")
        .order_by("pk")
    )


def _why(shipment: Shipment, now: datetime, silent_for: timedelta) -> str:
    last_heard = shipment.last_event_at or shipment.shipped_at or shipment.created_at
    return "no_scan" if last_heard < now - silent_for else "past_estimate"


def shipments_delayed_schedule(*, now: datetime | None = None) -> list[Message]:
    """Schedule the `shipment_delayed` apology for every overdue parcel of the shops whose flow
    is on. `NOTIFICATIONS_SHIPMENT_SILENT_DAYS` says how long without a scan is overdue."""
    now = now or timezone.now()
    flows = flows_enabled_for_kind(kind=KIND)
    if not flows:
        return []
    silent_for = timedelta(days=settings.NOTIFICATIONS_SHIPMENT_SILENT_DAYS)
    scheduled = []
    for shipment in shipments_overdue(shop_ids=list(flows), now=now, silent_for=silent_for):
        order = shipment.order
        flow = flows[shipment.shop_id]
        context = (
            order_context(order)
            | shipment_context(shipment)
            | {"delay_reason": _why(shipment, now, silent_for)}
        )
        plan = MessagePlan(about=("shipment", shipment.pk), due=now + flow.delay, context=context)
        scheduled += flow_schedule(flow=flow, order=order, plan=plan)
    return scheduled
