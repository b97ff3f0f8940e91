"""Everything the feedback app serves under `/feedback/`: each part brings its own patterns."""

from django.urls import include, path

app_name = "feedback"

urlpatterns = [
    path("", include("feedback.reviews.urls")),
]
