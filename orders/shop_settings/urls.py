from django.urls import path

from orders.shop_settings import views

app_name = "shop_settings"
urlpatterns = [
    path("", views.SettingsHomeView.as_view(), name="home"),
    path("staff/", views.StaffListView.as_view(), name="staff"),
    path("staff/<int:pk>/role/", views.StaffRoleView.as_view(), name="staff_role"),
    path("staff/<int:pk>/remove/", views.StaffRemoveView.as_view(), name="staff_remove"),
    path("sender/", views.SenderIdentityView.as_view(), name="sender"),
    path("api-keys/", views.ApiKeyListView.as_view(), name="api_keys"),
    path("api-keys/<int:pk>/revoke/", views.ApiKeyRevokeView.as_view(), name="api_key_revoke"),
]
