from django.urls import path

from returns.portal import views

app_name = "returns"

urlpatterns = [
    path("", views.returns_lookup, name="lookup"),
    path("<str:token>/", views.returns_start, name="start"),
    path("<str:token>/r/<str:rma>/", views.returns_detail, name="detail"),
    path("<str:token>/r/<str:rma>/slip/", views.returns_slip, name="slip"),
]
