from django.urls import path

from orders.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.OverviewView.as_view(), name="home"),
    path("orders/", views.OrderListView.as_view(), name="order_list"),
    path("orders/<int:pk>/", views.OrderDetailView.as_view(), name="order_detail"),
    path("shop/", views.ShopSelectView.as_view(), name="shop_select"),
]
