from collections import defaultdict
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from orders.events import OrderEventName
from orders.models import (
    ORDER_TRANSITIONS,
    SHIPMENT_TRANSITIONS,
    Order,
    OrderEvent,
    OrderStatus,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
    TrackingEvent,
)
from orders.services.data import ShipmentData, TrackingEventData
from postpurchase import events
from postpurchase.exceptions import DomainError
from postpurchase.locks import row_lock
from postpurchase.permissions import Actor
from postpurchase.states import can_transition, transition


def _find_shipment(order: Order, data: ShipmentData) -> Shipment | None:
    qs = Shipment.objects.select_for_update().filter(order=order)
    if data.external_id:
        return qs.filter(external_id=data.external_id).first()
    if data.tracking_number:
        return qs.filter(tracking_number=data.tracking_number).first()
    return None


def shipment_ingest(*, order: Order, data: ShipmentData, publish: bool = True) -> Shipment:
    """Create or update a shipment of `order`, its items and tracking history, once."""
    return shipment_upsert(order=order, data=data, publish=publish)[0]


@transaction.atomic
def shipment_upsert(
    *, order: Order, data: ShipmentData, publish: bool = True
) -> tuple[Shipment, bool]:
    """`shipment_ingest`, also saying whether the shipment is new: the order stays locked from
    the search for the shipment to its creation, so the answer is exact."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status == OrderStatus.CANCELLED:
        raise DomainError(f"Order {order.number} is cancelled; it cannot ship.")
    found = _find_shipment(order, data)
    created = found is None
    shipment = found or Shipment(shop_id=order.shop_id, order=order, external_id=data.external_id)
    for name in ("carrier", "tracking_number", "tracking_url", "estimated_delivery_date"):
        value = getattr(data, name)
        if value not in ("", None):
            setattr(shipment, name, value)
    _first_estimate_keep(shipment)
    shipment.shipped_at = shipment.shipped_at or data.shipped_at or timezone.now()
    shipment.save()
    _shipment_items_sync(shipment, data)
    if created:
        OrderEvent.objects.create(
            shop_id=order.shop_id,
            order=order,
            kind=OrderEvent.Kind.SHIPMENT_CREATED,
            note=str(shipment),
            data={"shipment_id": shipment.pk},
        )
        if order.status == OrderStatus.PLACED:
            transition(order, to=OrderStatus.SHIPPED, table=ORDER_TRANSITIONS)
        if publish:
            events.publish(
                name=OrderEventName.SHIPMENT_CREATED,
                shop_id=order.shop_id,
                order_id=order.pk,
                shipment_id=shipment.pk,
            )
    for event in data.events:
        tracking_event_record(shipment=shipment, data=event, publish=publish)
    if data.status and data.status != shipment.status:
        tracking_event_record(
            shipment=shipment,
            data=TrackingEventData(
                status=data.status,
                occurred_at=data.status_at or timezone.now(),
                description="Status reported by the shop",
                source="shop",
                # One record per status the shop reports, however often it repeats it.
                external_id=f"shop-status:{data.status}",
            ),
            publish=publish,
        )
    return shipment, created


def _shipment_items_sync(shipment: Shipment, data: ShipmentData) -> None:
    if not data.items:
        return
    lines = {li.external_id: li for li in shipment.order.line_items.all()}
    for item in data.items:
        line = lines.get(item.line_item_external_id)
        if line is None:
            raise DomainError(
                f"line item {item.line_item_external_id} is not part of order "
                f"{shipment.order.number}"
            )
        ShipmentItem.objects.update_or_create(
            shipment=shipment, line_item=line, defaults={"quantity": item.quantity}
        )


@transaction.atomic
def tracking_event_record(
    *, shipment: Shipment, data: TrackingEventData, publish: bool = True
) -> tuple[TrackingEvent, bool]:
    """Store a carrier scan once and move the shipment forward if the scan is its newest.

    A scan that arrives late (older than the latest one) or that the shipment's state machine
    does not allow from where it stands is kept in the history but moves nothing. A new scan
    locks the shipment before looking at where it stands."""
    try:
        with transaction.atomic():
            event = TrackingEvent.objects.create(
                shop_id=shipment.shop_id,
                shipment=shipment,
                status=data.status,
                description=data.description[:500],
                location=data.location[:255],
                occurred_at=data.occurred_at,
                source=data.source[:32],
                dedupe_key=data.dedupe_key(),
            )
    except IntegrityError:
        existing = TrackingEvent.objects.get(shipment=shipment, dedupe_key=data.dedupe_key())
        return existing, False
    row_lock(shipment)
    is_newest = shipment.last_event_at is None or data.occurred_at >= shipment.last_event_at
    if is_newest:
        shipment.last_event_at = data.occurred_at
        shipment.save(update_fields=["last_event_at", "updated_at"])
        if data.status != shipment.status and can_transition(
            shipment.status, data.status, SHIPMENT_TRANSITIONS
        ):
            shipment_transition(
                shipment=shipment,
                to=data.status,
                at=data.occurred_at,
                tracking_event_id=event.pk,
                publish=publish,
            )
    return event, True


@transaction.atomic
def shipment_transition(
    *,
    shipment: Shipment,
    to: str,
    at: datetime | None = None,
    actor: Actor = None,
    tracking_event_id: int | None = None,
    publish: bool = True,
) -> Shipment:
    """Move a shipment to `to` (raises IllegalTransition) and, once every shipment of the order
    is delivered, deliver the order."""
    row_lock(shipment)
    from_status = shipment.status
    extra: tuple[str, ...] = ()
    if to == ShipmentStatus.DELIVERED:
        shipment.delivered_at = at or timezone.now()
        extra = ("delivered_at",)
    transition(shipment, to=to, table=SHIPMENT_TRANSITIONS, actor=actor, extra_fields=extra)
    if publish:
        events.publish(
            name=OrderEventName.SHIPMENT_STATUS_CHANGED,
            shop_id=shipment.shop_id,
            order_id=shipment.order_id,
            shipment_id=shipment.pk,
            from_status=from_status,
            to_status=to,
            tracking_event_id=tracking_event_id,
        )
    if to == ShipmentStatus.DELIVERED:
        order_deliver_if_complete(order_id=shipment.order_id, publish=publish)
    return shipment


def _every_item_shipped(order: Order) -> bool:
    shipped: dict[int, int] = defaultdict(int)
    shipment_ids = set()
    for item in ShipmentItem.objects.filter(shipment__order=order):
        shipped[item.line_item_id] += item.quantity
        shipment_ids.add(item.shipment_id)
    if order.shipments.exclude(pk__in=shipment_ids).exists():
        # A shipment without an item list is taken to carry everything not listed elsewhere.
        return True
    return all(
        shipped[line.pk] >= line.quantity
        for line in order.line_items.all()
        if line.requires_shipping
    )


@transaction.atomic
def order_deliver_if_complete(*, order_id: int, publish: bool = True) -> bool:
    """Deliver the order when all its shipments are delivered and nothing is left to ship.
    Publishes `order_delivered` exactly once; returns whether this call delivered it."""
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.status != OrderStatus.SHIPPED:
        return False
    shipments = order.shipments.all()
    if not shipments or any(s.status != ShipmentStatus.DELIVERED for s in shipments):
        return False
    if not _every_item_shipped(order):
        return False
    order.delivered_at = shipments.aggregate(at=Max("delivered_at"))["at"] or timezone.now()
    transition(
        order, to=OrderStatus.DELIVERED, table=ORDER_TRANSITIONS, extra_fields=("delivered_at",)
    )
    if publish:
        events.publish(
            name=OrderEventName.ORDER_DELIVERED,
            shop_id=order.shop_id,
            order_id=order.pk,
            delivered_at=order.delivered_at.isoformat(),
        )
    return True


def _first_estimate_keep(shipment: Shipment) -> bool:
    """Remember the shipment's first estimate the first time it has one; never move it after.
    Returns whether it was set now."""
    if shipment.first_estimated_delivery_date or not shipment.estimated_delivery_date:
        return False
    shipment.first_estimated_delivery_date = shipment.estimated_delivery_date
    return True


def shipment_tracking_info_update(
    *, shipment: Shipment, estimated_delivery_date: date | None, tracking_url: str = ""
) -> bool:
    """Take the carrier's latest delivery estimate, and its tracking link when the shipment has
    none yet. Returns whether anything changed.

    A missing estimate keeps the one we hold: carriers drop it from some updates."""
    changed: list[str] = []
    if estimated_delivery_date and shipment.estimated_delivery_date != estimated_delivery_date:
        shipment.estimated_delivery_date = estimated_delivery_date
        changed.append("estimated_delivery_date")
        if _first_estimate_keep(shipment):
            changed.append("first_estimated_delivery_date")
    if tracking_url and not shipment.tracking_url:
        shipment.tracking_url = tracking_url[:500]
        changed.append("tracking_url")
    if changed:
        shipment.save(update_fields=[*changed, "updated_at"])
    return bool(changed)
