"""What drops a cached tracking page: any saved or deleted row the page shows.

Wired to the models' signals rather than called from each service, so that every write path
(services, admin, shell) is covered; bulk `update()`s bypass signals, and the one that touches
orders (erasing personal data) calls `tracking_page_forget` itself. Nothing else happens here."""

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from orders.models import (
    Customer,
    LineItem,
    Order,
    Product,
    Shipment,
    ShipmentItem,
    Shop,
    TrackingEvent,
)
from orders.tracking.cache import tracking_page_forget, tracking_shop_forget

_SHOWN_ON_THE_PAGE = (
    Order,
    LineItem,
    Shipment,
    ShipmentItem,
    TrackingEvent,
    Customer,
    Shop,
    Product,
)


def _order_ids(instance: Any) -> list[int]:
    if isinstance(instance, Order):
        return [instance.pk]
    if isinstance(instance, LineItem | Shipment):
        return [instance.order_id]
    if isinstance(instance, ShipmentItem | TrackingEvent):
        return [Shipment.objects.filter(pk=instance.shipment_id).values_list("order_id")[0][0]]
    if isinstance(instance, Customer):  # the page's language and time zone are the customer's
        return list(instance.orders.values_list("pk", flat=True))
    return []


def _forget(sender: type, instance: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):  # loading fixtures
        return
    if isinstance(instance, Shop | Product):  # branding, deactivation, titles and pictures
        tracking_shop_forget(instance.pk if isinstance(instance, Shop) else instance.shop_id)
        return
    try:
        order_ids = _order_ids(instance)
    except IndexError:  # the shipment went first, in a cascade: it forgot its order itself
        return
    tracking_page_forget(order_ids)


for model in _SHOWN_ON_THE_PAGE:
    receiver(post_save, sender=model, dispatch_uid=f"tracking_forget_save_{model.__name__}")(
        _forget
    )
    receiver(post_delete, sender=model, dispatch_uid=f"tracking_forget_delete_{model.__name__}")(
        _forget
    )
