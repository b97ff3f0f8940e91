from django.urls import path, re_path

from orders.branding import brand_stylesheet
from orders.tracking import lookup, problems, views

app_name = "tracking"

urlpatterns = [
    path("", lookup.tracking_lookup, name="lookup"),
    # The shop's colours for every customer page (tracking, returns, preferences).
    re_path(r"^brand/(?P<key>[0-9a-f]{6})\.css$", brand_stylesheet, name="brand_stylesheet"),
    path("<str:token>/", views.tracking_page, name="page"),
    path("<str:token>/shipments/", views.tracking_shipments, name="shipments"),
    path("<str:token>/problem/", problems.tracking_problem, name="problem"),
]
