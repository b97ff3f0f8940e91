"""The API's reads, each scoped to the calling shop: another shop's rows do not exist here."""

from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet

from orders.models import (
    Customer,
    LineItem,
    Order,
    Shipment,
    ShipmentItem,
    Shop,
    TrackingEvent,
)
from orders.tenancy import scoped


def _filtered(qs: QuerySet, filters: dict[str, Any]) -> QuerySet:
    if filters.get("external_id"):
        qs = qs.filter(external_id=filters["external_id"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("email"):
        qs = qs.filter(email__iexact=filters["email"])
    updated_since: datetime | None = filters.get("updated_since")
    if updated_since is not None:
        qs = qs.filter(updated_at__gte=updated_since)
    return qs


def order_list(*, shop: Shop, filters: dict[str, Any]) -> QuerySet[Order]:
    return _filtered(scoped(Order, shop), filters).order_by("-placed_at", "-pk")


def shipments_with_history(shop: Shop) -> QuerySet[Shipment]:
    return (
        scoped(Shipment, shop)
        .order_by("pk")
        .prefetch_related(
            Prefetch("items", queryset=ShipmentItem.objects.order_by("pk")),
            "events",
        )
    )


def order_detail_queryset(*, shop: Shop) -> QuerySet[Order]:
    """Orders with everything the detail view shows, loaded in a fixed number of queries."""
    return (
        scoped(Order, shop)
        .select_related("customer")
        .prefetch_related(
            Prefetch(
                "line_items",
                queryset=LineItem.objects.order_by("pk").select_related("product", "variant"),
            ),
            Prefetch("shipments", queryset=shipments_with_history(shop)),
        )
    )


def orders_of_shop(*, shop: Shop) -> QuerySet[Order]:
    """The shop's orders, for a write to find its order in (the service locks the row)."""
    return scoped(Order, shop)


def shipments_of_shop(*, shop: Shop) -> QuerySet[Shipment]:
    """The shop's shipments, for a write to find its shipment in (the service locks it)."""
    return scoped(Shipment, shop)


def tracking_event_get(*, shop: Shop, event_id: int) -> TrackingEvent:
    return scoped(TrackingEvent, shop).select_related("shipment__order").get(pk=event_id)


def customer_list(*, shop: Shop, filters: dict[str, Any]) -> QuerySet[Customer]:
    return _filtered(scoped(Customer, shop), filters).prefetch_related("consents").order_by("-pk")
