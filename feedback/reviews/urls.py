"""The reviews' public URLs, included by `feedback.urls` under `/feedback/`."""

from django.urls import path

from feedback.reviews import feed, storefront, views

urlpatterns = [
    path("<str:token>/review/", views.review_page, name="review"),
    path(
        "api/<slug:shop>/<str:product>/reviews.json", storefront.reviews_json, name="reviews_json"
    ),
    path("widget/<slug:shop>/<str:product>/", storefront.review_widget, name="review_widget"),
    path("photos/<str:token>", storefront.review_photo, name="review_photo"),
    path("feeds/<slug:shop>/google-product-reviews.xml", feed.review_feed, name="review_feed"),
]
