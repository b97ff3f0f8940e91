"""The customer's message preferences page, mounted at `/preferences/` by the root URLconf."""

from django.urls import path

from notifications.preferences import preferences_page

urlpatterns = [
    path("<str:token>/", preferences_page, name="preferences"),
]
