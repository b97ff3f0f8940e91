"""What the OpenAPI document says beyond what drf-spectacular infers from the views: the Bearer
scheme and the shape of error bodies. (The Idempotency-Key header is documented by
`orders.api.idempotency.idempotent` on each view it guards.)"""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import is_list_serializer
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


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's inference, plus what it leaves out: a list that may not be empty
    (`many=True, allow_empty=False`) says `minItems: 1`, as its validation does."""

    def _map_serializer_field(
        self, field: serializers.Field, direction: str, bypass_extensions: bool = False
    ) -> Any:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if schema and is_list_serializer(field) and not field.allow_empty:
            schema["minItems"] = 1
        return schema


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    detail = serializers.CharField()


class InvalidRequestSerializer(serializers.Serializer):
    error = serializers.CharField(default="invalid request")
    # The response's "fields" key: DRF's metaclass takes declared fields out of the class, so
    # this does not replace `Serializer.fields` as the stubs think.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages by the dotted path of the field at fault, "
        'e.g. "line_items.0.quantity".',
    )


READ_ERRORS = {401: ErrorSerializer, 404: ErrorSerializer}
# A list also refuses a malformed filter (400); a page past the last is a 404.
LIST_ERRORS = {400: InvalidRequestSerializer, **READ_ERRORS}
WRITE_ERRORS = {
    400: InvalidRequestSerializer,
    401: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
    422: ErrorSerializer,
}
