"""REST API v1, mounted at /api/v1/. The schema and its docs page are public; everything else
takes a shop API key."""

import json

from django.urls import path, re_path
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from orders.api import schema  # noqa: F401  (registers the Bearer scheme with drf-spectacular)
from orders.api.errors import api_not_found
from orders.api.views import CustomerViewSet, OrderViewSet, ShipmentViewSet

app_name = "api"


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI from drf-spectacular-sidecar's static files, its init script served by this
    view: nothing is loaded from another host, and nothing is inline (Content-Security-Policy)."""

    template_name = "orders/api/docs.html"

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        response = super().get(request, *args, **kwargs)
        if "settings" in response.data:
            # Swagger UI's default validator is an outside service; never call it.
            ui_settings = {**spectacular_settings.SWAGGER_UI_SETTINGS, "validatorUrl": None}
            response.data["settings"] = json.dumps(ui_settings)
        return response


router = SimpleRouter()
router.register("orders", OrderViewSet, basename="order")
router.register("shipments", ShipmentViewSet, basename="shipment")
router.register("customers", CustomerViewSet, basename="customer")

_public = {"authentication_classes": [], "permission_classes": [AllowAny]}
urlpatterns = [
    path(
        "openapi.json",
        SpectacularJSONAPIView.as_view(**_public),
        name="schema",
    ),
    path("docs/", ApiDocsView.as_view(url_name="api:schema", **_public), name="docs"),
    *router.urls,
    re_path(r"^(?P<path>.*)$", api_not_found),
]
