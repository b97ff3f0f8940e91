from django.urls import path

from orders.tracking import lookup, problems, views

app_name = "tracking"

urlpatterns = [
    path("", lookup.tracking_lookup, name="lookup"),
    path("<str:token>/", views.tracking_page, name="page"),
    path("<str:token>/shipments/", views.tracking_shipments, name="shipments"),
    path("<str:token>/problem/", problems.tracking_problem, name="problem"),
]
