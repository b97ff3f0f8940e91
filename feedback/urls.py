"""The feedback app's customer pages, under /feedback/ (the root URLconf includes this).
The survey's are here; the reviews' come under /feedback/<token>/review/."""

from django.urls import path

from feedback.surveys import views as survey_views

app_name = "feedback"

urlpatterns = [
    path("<str:token>/", survey_views.survey_page, name="survey"),
    path("<str:token>/score/<int:score>/", survey_views.survey_score, name="score"),
]
