"""REST API v1 views: parse the request, call one service, answer with a serializer.

Every query starts from the calling key's shop (orders.api.selectors), so another shop's
object is a 404 and never appears in a list."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from orders.api import inputs, mapping, selectors
from orders.api.auth import request_shop
from orders.api.idempotency import idempotent
from orders.api.schema import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS
from orders.api.serializers import (
    CustomerSerializer,
    OrderDetailSerializer,
    OrderSerializer,
    ShipmentSerializer,
    TrackingEventRecordedSerializer,
)
from orders.models import Customer, Order, Shipment, Shop
from orders.services import (
    order_cancel,
    order_ingest,
    order_update,
    shipment_upsert,
    tracking_event_record,
)
from orders.services.data import OrderData


def _parse(serializer_class: type[serializers.Serializer], data: Any, **kwargs: Any) -> dict:
    parser = serializer_class(data=data, **kwargs)
    parser.is_valid(raise_exception=True)
    return parser.validated_data


class ShopApiViewSet(GenericViewSet):
    """Subclasses set `queryset` to an empty one of their model: it tells the schema what the
    `{id}` in their URLs is, and any query that bypasses get_queryset() finds nothing."""

    @property
    def shop(self) -> Shop:
        return request_shop(self.request)


class OrderViewSet(ShopApiViewSet):
    queryset = Order.objects.none()

    def get_queryset(self) -> QuerySet[Order]:
        return selectors.order_detail_queryset(shop=self.shop)

    def _detail(self, order: Order, *, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=order.pk)
        return Response(OrderDetailSerializer(fresh).data, status=status_code)

    @extend_schema(
        parameters=[inputs.OrderFilter],
        responses={200: OrderSerializer(many=True), **LIST_ERRORS},
    )
    def list(self, request: Request) -> Response:
        filters = _parse(inputs.OrderFilter, request.query_params)
        page = self.paginate_queryset(selectors.order_list(shop=self.shop, filters=filters))
        return self.get_paginated_response(OrderSerializer(page, many=True).data)

    @extend_schema(responses={200: OrderDetailSerializer, **READ_ERRORS})
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(OrderDetailSerializer(self.get_object()).data)

    @extend_schema(
        request=inputs.OrderInput,
        responses={201: OrderDetailSerializer, 200: OrderDetailSerializer, **WRITE_ERRORS},
        description="Create an order, or update the one with the same `external_id` (200).",
    )
    @idempotent
    def create(self, request: Request) -> Response:
        values = _parse(inputs.OrderInput, request.data)
        result = order_ingest(shop=self.shop, data=mapping.order_data(values))
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return self._detail(result.order, status_code=code)

    @extend_schema(
        request=inputs.OrderInput,
        responses={200: OrderDetailSerializer, **WRITE_ERRORS},
        description="Change some fields of an order. Nested objects merge field by field; "
        "line items are matched by `external_id`, and a new one must be complete.",
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        order = get_object_or_404(selectors.orders_of_shop(shop=self.shop), pk=pk)

        def merged(locked: Order) -> OrderData:
            # Called under the order's lock: the patch is laid over the order as stored now.
            stored = self.get_queryset().get(pk=locked.pk)
            context = {"default_region": stored.shipping_country}
            patch = _parse(inputs.OrderInput, request.data, partial=True, context=context)
            return mapping.order_data(mapping.order_values_merged(stored, patch))

        result = order_update(order=order, changes=merged)
        return self._detail(result.order)

    @extend_schema(
        request=inputs.CancelInput,
        responses={200: OrderDetailSerializer, **WRITE_ERRORS},
        description="Cancel an order that has not shipped; a shipped order answers 422.",
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        values = _parse(inputs.CancelInput, request.data)
        order = get_object_or_404(selectors.orders_of_shop(shop=self.shop), pk=pk)
        order_cancel(order=order, reason=values.get("reason", ""))
        return self._detail(order)

    @extend_schema(
        request=inputs.ShipmentInput,
        responses={201: ShipmentSerializer, 200: ShipmentSerializer, **WRITE_ERRORS},
        description="Add a shipment to the order (200 when it updates the shipment with the "
        "same `external_id` or tracking number). The order moves to `shipped`.",
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def shipments(self, request: Request, pk: str) -> Response:
        order = self.get_object()
        values = _parse(inputs.ShipmentInput, request.data, context={"order": order})
        shipment, created = shipment_upsert(order=order, data=mapping.shipment_data(values))
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        fresh = selectors.shipments_with_history(self.shop).get(pk=shipment.pk)
        return Response(ShipmentSerializer(fresh).data, status=code)


class ShipmentViewSet(ShopApiViewSet):
    queryset = Shipment.objects.none()

    def get_queryset(self) -> QuerySet[Shipment]:
        return selectors.shipments_with_history(self.shop)

    @extend_schema(responses={200: ShipmentSerializer, **READ_ERRORS})
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(ShipmentSerializer(self.get_object()).data)

    @extend_schema(
        request=inputs.TrackingEventInput,
        responses={
            201: TrackingEventRecordedSerializer,
            200: TrackingEventRecordedSerializer,
            **WRITE_ERRORS,
        },
        description="Record a carrier scan (200 when the same scan was already recorded). The "
        "newest scan moves the shipment, and the order is delivered once every shipment is.",
    )
    @idempotent
    @action(detail=True, methods=["post"], url_path="tracking-events")
    def tracking_events(self, request: Request, pk: str) -> Response:
        values = _parse(inputs.TrackingEventInput, request.data)
        shipment = get_object_or_404(selectors.shipments_of_shop(shop=self.shop), pk=pk)
        event, created = tracking_event_record(
            shipment=shipment, data=mapping.tracking_event_data(values)
        )
        recorded = selectors.tracking_event_get(shop=self.shop, event_id=event.pk)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(TrackingEventRecordedSerializer(recorded).data, status=code)


class CustomerViewSet(ShopApiViewSet):
    queryset = Customer.objects.none()

    def get_queryset(self) -> QuerySet[Customer]:
        return selectors.customer_list(shop=self.shop, filters={})

    @extend_schema(
        parameters=[inputs.CustomerFilter],
        responses={200: CustomerSerializer(many=True), **LIST_ERRORS},
    )
    def list(self, request: Request) -> Response:
        filters = _parse(inputs.CustomerFilter, request.query_params)
        page = self.paginate_queryset(selectors.customer_list(shop=self.shop, filters=filters))
        return self.get_paginated_response(CustomerSerializer(page, many=True).data)

    @extend_schema(responses={200: CustomerSerializer, **READ_ERRORS})
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(CustomerSerializer(self.get_object()).data)
