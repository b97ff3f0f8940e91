from django.urls import path

from feedback.cases import views

app_name = "feedback_cases"
urlpatterns = [
    path("", views.QueueView.as_view(), name="queue"),
    path("new/order/<int:pk>/", views.CaseOpenView.as_view(), name="open_for_order"),
    path("<int:pk>/", views.CaseDetailView.as_view(), name="detail"),
    path("<int:pk>/<slug:action>/", views.CaseActionView.as_view(), name="action"),
]
