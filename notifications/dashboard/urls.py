from django.urls import path

from notifications.dashboard import integrations, views
from notifications.dashboard.email_frame import email_frame

app_name = "messaging"
urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("log/", views.MessageListView.as_view(), name="message_list"),
    path("log/<int:pk>/", views.MessageDetailView.as_view(), name="message_detail"),
    # Remote images stay out: loading the provider's pixel would count staff's look as an open.
    path(
        "log/<int:pk>/email/",
        email_frame(images=["data:"])(views.MessageEmailView.as_view()),
        name="message_email",
    ),
    path("log/<int:pk>/<slug:action>/", views.MessageActionView.as_view(), name="message_action"),
    path("flows/", views.FlowListView.as_view(), name="flow_list"),
    path("flows/<int:pk>/", views.FlowEditView.as_view(), name="flow_edit"),
    path("suppressions/", views.SuppressionListView.as_view(), name="suppression_list"),
    path(
        "suppressions/<int:pk>/remove/",
        views.SuppressionRemoveView.as_view(),
        name="suppression_remove",
    ),
    path("customers/", views.CustomerListView.as_view(), name="customer_list"),
    path("customers/<int:pk>/", views.CustomerTimelineView.as_view(), name="customer_detail"),
    # The settings area's integrations tab holds these buttons (orders' page, our sections).
    path(
        "integrations/email/test/",
        integrations.EmailTestView.as_view(),
        name="integration_email_test",
    ),
    path(
        "integrations/sms/test/",
        integrations.TextTestView.as_view(),
        name="integration_text_test",
    ),
]
