"""The project's URLs with stand-ins for the template editor's, at a known place, to test the
messaging pages' links to it whether or not the real editor is installed."""

from django.http import HttpResponse
from django.urls import include, path

from postpurchase.urls import urlpatterns as project_urlpatterns


def _page(request, kind: str = "") -> HttpResponse:
    return HttpResponse(kind)


without_editor = [
    pattern
    for pattern in project_urlpatterns
    if getattr(pattern, "namespace", None) != "message_templates"
]
editor = (
    [
        path("", _page, name="list"),
        path("<slug:kind>/", _page, name="edit"),
    ],
    "message_templates",
)
urlpatterns = [path("dashboard/messages/templates/", include(editor)), *without_editor]
