from django.urls import path

from feedback.reviews.dashboard import views

app_name = "reviews_dashboard"
urlpatterns = [
    path("", views.QueueView.as_view(), name="queue"),
    path("incentive/", views.IncentiveView.as_view(), name="incentive"),
    path("<int:pk>/", views.ReviewDetailView.as_view(), name="detail"),
    path("<int:pk>/photos/<int:photo_id>", views.ReviewPhotoView.as_view(), name="photo"),
    path("<int:pk>/<slug:action>/", views.ReviewActionView.as_view(), name="action"),
]
