from django.urls import path

from orders.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.OverviewView.as_view(), name="home"),
    path("orders/", views.OrderListView.as_view(), name="order_list"),
    path("orders/<int:pk>/", views.OrderDetailView.as_view(), name="order_detail"),
    path(
        "orders/<int:pk>/tracking-link/renew/",
        views.TrackingLinkRenewView.as_view(),
        name="tracking_link_renew",
    ),
    path(
        "orders/<int:pk>/problems/<int:report_id>/photo",
        views.ProblemReportPhotoView.as_view(),
        name="problem_photo",
    ),
    path(
        "orders/<int:pk>/problems/<int:report_id>/resolve/",
        views.ProblemReportResolveView.as_view(),
        name="problem_resolve",
    ),
    path("shop/", views.ShopSelectView.as_view(), name="shop_select"),
]
