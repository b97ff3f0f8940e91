"""The project's URLs plus stand-ins for the template editor's, to test the links to it."""

from django.http import HttpResponse
from django.urls import include, path

from postpurchase.urls import urlpatterns as project_urlpatterns


def _page(request, kind: str = "") -> HttpResponse:
    return HttpResponse(kind)


editor = (
    [
        path("", _page, name="list"),
        path("<slug:kind>/", _page, name="edit"),
    ],
    "message_templates",
)
urlpatterns = [
    path("dashboard/messages/templates/", include(editor)),
    *project_urlpatterns,
]
