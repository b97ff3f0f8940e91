from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.events import OrderEventName
from orders.models import (
    ORDER_TRANSITIONS,
    FinancialStatus,
    LineItem,
    Order,
    OrderEvent,
    OrderStatus,
    Product,
    Shop,
    Variant,
)
from orders.models.orders import MONEY_BACK_FINANCIAL_STATUSES
from orders.services.customers import customer_upsert
from orders.services.data import LineItemData, OrderData
from orders.services.payments import order_payment_status_record, order_refunds_record
from postpurchase import events
from postpurchase.locks import row_lock
from postpurchase.permissions import Actor
from postpurchase.states import transition


@dataclass(frozen=True)
class OrderIngestResult:
    order: Order
    created: bool
    changed: bool


_ORDER_FIELDS = (
    "number",
    "currency",
    "subtotal",
    "discount_total",
    "shipping_total",
    "tax_total",
    "total",
    "placed_at",
    "email",
    "phone",
)


def _order_values(data: OrderData) -> dict[str, Any]:
    values = {name: getattr(data, name) for name in _ORDER_FIELDS}
    address = data.shipping_address
    values.update(
        shipping_name=address.name,
        shipping_address1=address.address1,
        shipping_address2=address.address2,
        shipping_city=address.city,
        shipping_province=address.province,
        shipping_postcode=address.postcode,
        shipping_country=address.country,
        source_updated_at=data.source_updated_at,
        discount_codes=list(data.discount_codes),
        source_fingerprint=data.fingerprint(),
    )
    return values


def _lock_or_create(shop: Shop, data: OrderData) -> tuple[Order, bool]:
    order = (
        Order.objects.select_for_update().filter(shop=shop, external_id=data.external_id).first()
    )
    if order is not None:
        return order, False
    try:
        with transaction.atomic():
            order = Order.objects.create(
                shop=shop, external_id=data.external_id, source=data.source, **_order_values(data)
            )
        return order, True
    except IntegrityError:
        # Two deliveries raced to create the same order; the other won, so update theirs.
        return Order.objects.select_for_update().get(shop=shop, external_id=data.external_id), False


@transaction.atomic
def order_ingest(*, shop: Shop, data: OrderData, publish: bool = True) -> OrderIngestResult:
    """Create or update an order from any source, once: a repeat of the same data changes
    nothing, and an update older than the one already applied is ignored.

    `publish=False` is for backfilled history, which must not trigger messages."""
    order, created = _lock_or_create(shop, data)
    payment_before = order.financial_status
    if not created:
        if order.source_fingerprint == data.fingerprint():
            return OrderIngestResult(order, created=False, changed=False)
        if (
            data.source_updated_at
            and order.source_updated_at
            and data.source_updated_at < order.source_updated_at
        ):
            return OrderIngestResult(order, created=False, changed=False)
        for name, value in _order_values(data).items():
            setattr(order, name, value)
    if data.customer is not None:
        order.customer = customer_upsert(shop=shop, data=data.customer, publish=publish)
    order.save()
    _line_items_sync(order, data.line_items)
    OrderEvent.objects.create(
        shop=shop,
        order=order,
        kind=OrderEvent.Kind.CREATED if created else OrderEvent.Kind.UPDATED,
        note=f"from {order.get_source_display()}",
    )
    if created and publish:
        events.publish(
            name=OrderEventName.ORDER_PLACED,
            shop_id=shop.pk,
            order_id=order.pk,
            customer_id=order.customer_id,
        )
    if data.is_paid:
        order_mark_paid(order=order, paid_at=data.paid_at, publish=publish)
    if data.financial_status:
        order_payment_status_record(order=order, status=data.financial_status)
    refunds_added = order_refunds_record(order=order, refunds=data.refunds)
    moved_to_money_back = (
        order.financial_status != payment_before
        and order.financial_status in MONEY_BACK_FINANCIAL_STATUSES
    )
    if publish and (refunds_added or moved_to_money_back):
        events.publish(
            name=OrderEventName.ORDER_REFUNDED,
            shop_id=shop.pk,
            order_id=order.pk,
            customer_id=order.customer_id,
            financial_status=order.financial_status,
            refunds_added=refunds_added,
        )
    if data.cancelled_at and order.status != OrderStatus.CANCELLED:
        order_cancel(order=order, reason=data.cancel_reason, at=data.cancelled_at, publish=publish)
    return OrderIngestResult(order, created=created, changed=True)


@transaction.atomic
def order_update(*, order: Order, changes: Callable[[Order], OrderData]) -> OrderIngestResult:
    """Apply `changes`, worked out from the order as stored, under the order's lock: two
    updates of one order never both start from the same stored version and undo each other."""
    row_lock(order)
    return order_ingest(shop=order.shop, data=changes(order))


def _catalog_lookup(shop: Shop, item: LineItemData) -> tuple[Product | None, Variant | None]:
    variant = None
    if item.variant_external_id:
        variant = Variant.objects.filter(shop=shop, external_id=item.variant_external_id).first()
    if variant is None and item.sku:
        variant = Variant.objects.filter(shop=shop, sku=item.sku).order_by("pk").first()
    if variant is not None:
        return variant.product, variant
    product = None
    if item.product_external_id:
        product = Product.objects.filter(shop=shop, external_id=item.product_external_id).first()
    return product, None


def _line_items_sync(order: Order, items: tuple[LineItemData, ...]) -> None:
    existing = {li.external_id: li for li in order.line_items.all()}
    for item in items:
        product, variant = _catalog_lookup(order.shop, item)
        values = {
            "title": item.title,
            "variant_title": item.variant_title,
            "sku": item.sku,
            "quantity": item.quantity,
            "unit_price": item.unit_price,
            "discount_total": item.discount_total,
            "requires_shipping": item.requires_shipping,
            "product": product,
            "variant": variant,
        }
        line = existing.get(item.external_id)
        if line is None:
            LineItem.objects.create(
                shop_id=order.shop_id, order=order, external_id=item.external_id, **values
            )
            continue
        for name, value in values.items():
            setattr(line, name, value)
        line.save()


def order_mark_paid(*, order: Order, paid_at: datetime | None = None, publish: bool = True) -> bool:
    """Record payment once; returns whether this call recorded it."""
    if order.paid_at is not None:  # a payment is never undone: no lock needed to see it
        return False
    with transaction.atomic():
        row_lock(order)
        if order.paid_at is not None:
            return False
        previous = order.financial_status
        order.paid_at = paid_at or timezone.now()
        order.financial_status = FinancialStatus.PAID
        order.save(update_fields=["paid_at", "financial_status", "updated_at"])
        OrderEvent.objects.create(
            shop_id=order.shop_id,
            order=order,
            kind=OrderEvent.Kind.PAID,
            from_status=previous,
            to_status=FinancialStatus.PAID,
        )
        if publish:
            events.publish(name=OrderEventName.ORDER_PAID, shop_id=order.shop_id, order_id=order.pk)
    return True


@transaction.atomic
def order_cancel(
    *,
    order: Order,
    reason: str = "",
    at: datetime | None = None,
    actor: Actor = None,
    publish: bool = True,
) -> Order:
    """Cancel an order that has not shipped; raises IllegalTransition otherwise."""
    row_lock(order)
    order.cancelled_at = at or timezone.now()
    order.cancel_reason = reason[:255]
    transition(
        order,
        to=OrderStatus.CANCELLED,
        table=ORDER_TRANSITIONS,
        actor=actor,
        note=reason[:500],
        extra_fields=("cancelled_at", "cancel_reason"),
    )
    if publish:
        events.publish(
            name=OrderEventName.ORDER_CANCELLED,
            shop_id=order.shop_id,
            order_id=order.pk,
            reason=reason,
        )
    return order


@transaction.atomic
def order_transition(*, order_id: int, to: str, actor: Actor = None, note: str = "") -> Order:
    """Move an order by hand (staff or API): lock, check the table, record."""
    order = Order.objects.select_for_update().get(pk=order_id)
    if to == OrderStatus.CANCELLED:
        return order_cancel(order=order, reason=note, actor=actor)
    transition(order, to=to, table=ORDER_TRANSITIONS, actor=actor, note=note)
    return order
