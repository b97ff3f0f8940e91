from django.urls import path

from orders.ingest import carrier_views, shopify_views

app_name = "webhooks"
urlpatterns = [
    path("shopify/", shopify_views.shopify_webhook, name="shopify"),
    path("carriers/<slug:provider>/", carrier_views.carrier_webhook, name="carrier"),
]
