"""The loyalty API under /api/v1/ (mounted before orders' API, whose last pattern answers every
other path with a 404)."""

from django.urls import path

from loyalty.api import views

app_name = "loyalty_api"

urlpatterns = [
    path("customers/<int:id>/loyalty/", views.LoyaltyAccountView.as_view(), name="account"),
    path(
        "customers/<int:id>/loyalty/adjustments/",
        views.LoyaltyAdjustmentView.as_view(),
        name="adjustments",
    ),
]
