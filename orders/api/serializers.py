"""What the API answers. Read-only: request bodies are parsed by orders.api.inputs.

Money is a decimal string with 2 places ("19.99"), times are ISO 8601 in UTC, and every object
carries our numeric `id` (used in URLs) next to the shop's `external_id`."""

from rest_framework import serializers

from orders.models import Consent, Customer, LineItem, Order, Shipment, TrackingEvent


class ConsentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Consent
        fields = ["channel", "status", "changed_at", "source"]


class CustomerSerializer(serializers.ModelSerializer):
    consents = ConsentSerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "external_id",
            "email",
            "phone",
            "first_name",
            "last_name",
            "birthday",
            "timezone",
            "locale",
            "consents",
            "redacted_at",
            "created_at",
            "updated_at",
        ]


class CustomerSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "external_id", "email", "phone", "first_name", "last_name"]


class ShippingAddressSerializer(serializers.Serializer):
    name = serializers.CharField(source="shipping_name")
    address1 = serializers.CharField(source="shipping_address1")
    address2 = serializers.CharField(source="shipping_address2")
    city = serializers.CharField(source="shipping_city")
    province = serializers.CharField(source="shipping_province")
    postcode = serializers.CharField(source="shipping_postcode")
    country = serializers.CharField(source="shipping_country")


class LineItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = LineItem
        fields = [
            "id",
            "external_id",
            "sku",
            "title",
            "variant_title",
            "quantity",
            "unit_price",
            "discount_total",
            "requires_shipping",
        ]


class TrackingEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrackingEvent
        fields = ["id", "status", "description", "location", "occurred_at", "source"]


class TrackingEventRecordedSerializer(TrackingEventSerializer):
    """A recorded scan with where it left its shipment and order."""

    shipment_id = serializers.IntegerField(read_only=True)
    shipment_status = serializers.CharField(source="shipment.status", read_only=True)
    order_id = serializers.IntegerField(source="shipment.order_id", read_only=True)
    order_status = serializers.CharField(source="shipment.order.status", read_only=True)

    class Meta(TrackingEventSerializer.Meta):
        fields = [
            *TrackingEventSerializer.Meta.fields,
            "shipment_id",
            "shipment_status",
            "order_id",
            "order_status",
        ]


class ShipmentItemSerializer(serializers.Serializer):
    line_item_id = serializers.IntegerField()
    quantity = serializers.IntegerField()


class ShipmentSerializer(serializers.ModelSerializer):
    order_id = serializers.IntegerField(read_only=True)
    items = ShipmentItemSerializer(many=True, read_only=True)
    tracking_events = TrackingEventSerializer(source="events", many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = [
            "id",
            "external_id",
            "order_id",
            "carrier",
            "tracking_number",
            "tracking_url",
            "status",
            "estimated_delivery_date",
            "shipped_at",
            "delivered_at",
            "items",
            "tracking_events",
            "created_at",
            "updated_at",
        ]


class OrderSerializer(serializers.ModelSerializer):
    customer_id = serializers.IntegerField(read_only=True, allow_null=True)
    discount_codes = serializers.ListField(child=serializers.CharField(), read_only=True)
    shipping_address = ShippingAddressSerializer(source="*", read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "external_id",
            "number",
            "status",
            "financial_status",
            "source",
            "currency",
            "subtotal",
            "discount_total",
            "shipping_total",
            "tax_total",
            "total",
            "placed_at",
            "paid_at",
            "cancelled_at",
            "cancel_reason",
            "delivered_at",
            "email",
            "phone",
            "shipping_address",
            "customer_id",
            "discount_codes",
            "created_at",
            "updated_at",
        ]


class OrderDetailSerializer(OrderSerializer):
    customer = CustomerSummarySerializer(read_only=True, allow_null=True)
    line_items = LineItemSerializer(many=True, read_only=True)
    shipments = ShipmentSerializer(many=True, read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "customer", "line_items", "shipments"]
