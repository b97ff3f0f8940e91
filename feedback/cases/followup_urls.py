from django.urls import path

from feedback.cases import followup_views

app_name = "feedback_case"
urlpatterns = [
    path("<str:token>/<slug:answer>/", followup_views.case_followup, name="followup"),
]
