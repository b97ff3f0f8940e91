from django.urls import path

from returns.dashboard import views

app_name = "returns_dashboard"
urlpatterns = [
    path("", views.QueueView.as_view(), name="queue"),
    path("bulk/", views.BulkActionView.as_view(), name="bulk"),
    path("policy/", views.PolicyView.as_view(), name="policy"),
    path("return-address/", views.ReturnAddressView.as_view(), name="return_address"),
    path("report/", views.ReportView.as_view(), name="report"),
    path("<int:pk>/", views.ReturnDetailView.as_view(), name="detail"),
    path(
        "<int:pk>/items/<int:item_id>/photo",
        views.ReturnItemPhotoView.as_view(),
        name="item_photo",
    ),
    path("<int:pk>/<slug:action>/", views.ReturnActionView.as_view(), name="action"),
]
