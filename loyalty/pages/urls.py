"""The customer's loyalty page under `/loyalty/`."""

from django.urls import path

from loyalty.pages import views

app_name = "loyalty"

urlpatterns = [
    path("<str:token>/", views.loyalty_page, name="page"),
    path("<str:token>/redeem/", views.loyalty_redeem, name="redeem"),
]
