from django.urls import path

from loyalty.dashboard import views

app_name = "loyalty_dashboard"
urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("start/", views.ProgrammeStartView.as_view(), name="start"),
    path("members/", views.MembersView.as_view(), name="members"),
    path("members/<int:pk>/", views.MemberView.as_view(), name="member"),
    path("members/<int:pk>/adjust/", views.MemberAdjustView.as_view(), name="member_adjust"),
    path("settings/", views.SettingsView.as_view(), name="settings"),
    path("settings/tiers/", views.TiersView.as_view(), name="tiers"),
    path("settings/preview/", views.PreviewView.as_view(), name="preview"),
    path("rewards/", views.RewardsView.as_view(), name="rewards"),
    path("rewards/new/", views.RewardAddView.as_view(), name="reward_add"),
    path("rewards/<int:pk>/", views.RewardView.as_view(), name="reward"),
    path("rewards/<int:pk>/offer/", views.RewardOfferView.as_view(), name="reward_offer"),
    path("rewards/<int:pk>/remove/", views.RewardRemoveView.as_view(), name="reward_remove"),
]
