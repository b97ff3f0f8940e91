from django.urls import path

from orders.shop_settings import views

app_name = "staff_invitation"
urlpatterns = [
    path("<str:token>/", views.InvitationAcceptView.as_view(), name="accept"),
]
