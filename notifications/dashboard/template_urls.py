from django.urls import path

from notifications.dashboard import template_views as views

app_name = "message_templates"
urlpatterns = [
    path("", views.TemplateListView.as_view(), name="list"),
    path("<slug:kind>/", views.TemplateEditView.as_view(), name="edit"),
    path("<slug:kind>/preview/", views.TemplatePreviewView.as_view(), name="preview"),
    path("reset/<int:pk>/", views.TemplateResetView.as_view(), name="reset"),
]
