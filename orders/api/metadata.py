"""What `OPTIONS` answers on every API URL.

DRF's default (`SimpleMetadata`) describes a view's POST/PUT body by calling the view's
`get_serializer()`. Our views have no `serializer_class`: each action parses with its own input
serializer (orders.api.inputs) and answers with another (orders.api.serializers), so that
introspection raised and every authenticated `OPTIONS` on a URL taking POST answered 500.
Request and response bodies are described once, in the OpenAPI document; OPTIONS points to it."""

from typing import TYPE_CHECKING, Any

from django.urls import reverse
from rest_framework.metadata import BaseMetadata
from rest_framework.request import Request

if TYPE_CHECKING:  # DRF imports this module while rest_framework.views is still loading
    from rest_framework.views import APIView


class ApiMetadata(BaseMetadata):
    def determine_metadata(self, request: Request, view: "APIView") -> dict[str, Any]:
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
            "schema": request.build_absolute_uri(reverse("api:schema")),
        }
