from django.urls import path

from feedback.configuration import views

app_name = "feedback_settings"
urlpatterns = [
    path("", views.SurveySettingsView.as_view(), name="surveys"),
    path("cases/", views.CasePolicyView.as_view(), name="case_policy"),
]
