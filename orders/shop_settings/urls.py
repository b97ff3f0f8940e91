from csp.constants import SELF
from django.urls import path

from orders.shop_settings import views
from postpurchase.security import framable_by

app_name = "shop_settings"
urlpatterns = [
    path("", views.SettingsHomeView.as_view(), name="home"),
    path("staff/", views.StaffListView.as_view(), name="staff"),
    path("staff/<int:pk>/role/", views.StaffRoleView.as_view(), name="staff_role"),
    path("staff/<int:pk>/remove/", views.StaffRemoveView.as_view(), name="staff_remove"),
    path(
        "staff/invitations/<int:pk>/revoke/",
        views.StaffInvitationRevokeView.as_view(),
        name="staff_invitation_revoke",
    ),
    path("profile/", views.ShopProfileView.as_view(), name="profile"),
    path(
        "profile/preview/frame/",
        views.ShopProfilePreviewFrameView.as_view(),
        name="profile_preview_frame",
    ),
    path(
        "profile/preview/",
        # Shown in a frame on the profile page, so it may be framed by our own pages.
        framable_by(SELF)(views.ShopProfilePreviewView.as_view()),
        name="profile_preview",
    ),
    path("sender/", views.SenderIdentityView.as_view(), name="sender"),
    path("integrations/", views.IntegrationsView.as_view(), name="integrations"),
    path(
        "integrations/shopify/secret/",
        views.ShopifySecretView.as_view(),
        name="integration_shopify_secret",
    ),
    path(
        "integrations/carriers/<slug:provider>/secret/",
        views.CarrierSecretView.as_view(),
        name="integration_carrier_secret",
    ),
    path("api-keys/", views.ApiKeyListView.as_view(), name="api_keys"),
    path("api-keys/<int:pk>/revoke/", views.ApiKeyRevokeView.as_view(), name="api_key_revoke"),
]
