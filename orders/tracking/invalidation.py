"""What drops a cached tracking page: any saved or deleted row the page shows.

Wired to the models' signals rather than called from each service, so that every write path
(services, admin, shell) is covered; bulk `update()`s bypass signals, and the one that touches
orders (erasing personal data) calls `tracking_page_forget` itself. Nothing else happens here.

A new order has no cached page yet: neither it nor its lines cost anything while the
transaction that creates it runs (a flash sale creates thousands). A customer's language or
time zone, a rare change, reaches a cached page within its minute."""

import threading
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from orders.models import LineItem, Order, Product, Shipment, ShipmentItem, Shop, TrackingEvent
from orders.tracking.cache import tracking_page_forget, tracking_shop_forget

_SHOWN_ON_THE_PAGE = (Order, LineItem, Shipment, ShipmentItem, TrackingEvent, Shop, Product)
_local = threading.local()


def _orders_without_page() -> set[int]:
    """Orders this thread created in its current transaction and has not rendered a page for
    since: nothing can be cached for them yet. An id left behind by a rolled back transaction is
    harmless: ids are never reused."""
    if not hasattr(_local, "created"):
        _local.created = set()
    return _local.created


def _order_created(order_id: int) -> None:
    created = _orders_without_page()
    created.add(order_id)
    transaction.on_commit(lambda: created.discard(order_id))


def tracking_page_cached(order_id: int) -> None:
    """A page of this order now exists: its changes must drop it from here on."""
    _orders_without_page().discard(order_id)


def _shipment_order_id(instance: ShipmentItem | TrackingEvent) -> int:
    shipment = instance._state.fields_cache.get("shipment")
    if shipment is not None:
        return shipment.order_id
    return Shipment.objects.filter(pk=instance.shipment_id).values_list("order_id")[0][0]


def _order_id(instance: Any) -> int:
    if isinstance(instance, Order):
        return instance.pk
    if isinstance(instance, LineItem | Shipment):
        return instance.order_id
    return _shipment_order_id(instance)


def _forget(sender: type, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if kwargs.get("raw"):  # loading fixtures
        return
    if isinstance(instance, Shop | Product):  # branding, deactivation, titles and pictures
        tracking_shop_forget(instance.pk if isinstance(instance, Shop) else instance.shop_id)
        return
    if isinstance(instance, Order) and created:
        _order_created(instance.pk)
        return
    try:
        order_id = _order_id(instance)
    except IndexError:  # the shipment went first, in a cascade: it forgot its order itself
        return
    if order_id not in _orders_without_page():
        tracking_page_forget([order_id])


for model in _SHOWN_ON_THE_PAGE:
    receiver(post_save, sender=model, dispatch_uid=f"tracking_forget_save_{model.__name__}")(
        _forget
    )
    receiver(post_delete, sender=model, dispatch_uid=f"tracking_forget_delete_{model.__name__}")(
        _forget
    )
