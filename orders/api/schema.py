"""What the OpenAPI document says beyond what drf-spectacular infers from the views: the Bearer
scheme and the shape of error bodies. (The Idempotency-Key header is documented by
`orders.api.idempotency.idempotent` on each view it guards.)"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import serializers


class ShopApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "orders.api.auth.ShopApiKeyAuthentication"
    name = "ShopApiKey"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "pp_live_<prefix>_<secret>",
            "description": "A shop API key, sent as `Authorization: Bearer <key>`.",
        }


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    detail = serializers.CharField()


class InvalidRequestSerializer(serializers.Serializer):
    error = serializers.CharField(default="invalid request")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages by the dotted path of the field at fault, "
        'e.g. "line_items.0.quantity".',
    )


READ_ERRORS = {401: ErrorSerializer, 404: ErrorSerializer}
WRITE_ERRORS = {
    400: InvalidRequestSerializer,
    401: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
    422: ErrorSerializer,
}
