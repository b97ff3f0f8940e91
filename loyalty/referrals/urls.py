"""The referral link's pages, under `/loyalty/r/`."""

from django.urls import path

from loyalty.referrals import views

app_name = "loyalty_referrals"

urlpatterns = [
    path("<str:code>/", views.referral_page, name="page"),
    path("<str:code>/welcome/<str:token>/", views.referral_welcome, name="welcome"),
]
