from csp.constants import SELF
from django.urls import path

from notifications.dashboard import template_views as views
from notifications.dashboard.email_frame import email_frame

app_name = "message_templates"
urlpatterns = [
    path("", views.TemplateListView.as_view(), name="list"),
    # A draft shows the pictures it would send.
    path(
        "preview-frames/<slug:token>/",
        email_frame(images=[SELF, "https:", "data:"])(views.TemplatePreviewFrameView.as_view()),
        name="preview_frame",
    ),
    path("<slug:kind>/", views.TemplateEditView.as_view(), name="edit"),
    path("<slug:kind>/preview/", views.TemplatePreviewView.as_view(), name="preview"),
    path("reset/<int:pk>/", views.TemplateResetView.as_view(), name="reset"),
]
