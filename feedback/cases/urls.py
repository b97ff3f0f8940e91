from django.urls import path

from feedback.cases import views

app_name = "feedback_cases"
urlpatterns = [
    path("", views.QueueView.as_view(), name="queue"),
    path("<int:pk>/", views.CaseDetailView.as_view(), name="detail"),
    path("<int:pk>/<slug:action>/", views.CaseActionView.as_view(), name="action"),
]
