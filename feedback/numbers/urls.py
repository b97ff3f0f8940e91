from django.urls import path

from feedback.numbers import views

app_name = "feedback_numbers"
urlpatterns = [path("", views.NumbersView.as_view(), name="overview")]
