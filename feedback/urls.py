"""Everything the feedback app serves under `/feedback/`: the survey's pages here, each other
part (reviews) with its own patterns. The reviews' fixed prefixes (api/, widget/, feeds/,
photos/) come first, before the survey's `<token>/`."""

from django.urls import include, path

from feedback.surveys import views as survey_views

app_name = "feedback"

urlpatterns = [
    path("", include("feedback.reviews.urls")),
    path("<str:token>/", survey_views.survey_page, name="survey"),
    path("<str:token>/score/<int:score>/", survey_views.survey_score, name="score"),
]
