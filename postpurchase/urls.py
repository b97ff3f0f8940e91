"""The root URLconf: it only wires the apps' own URLconfs together (by name: the kernel imports
no app)."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from postpurchase import health


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    # Asked for at each request, not at import: the static file's hashed name (production's
    # manifest) is known only once collectstatic has run.
    return HttpResponsePermanentRedirect(static("favicon.ico"))


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard:home", permanent=False)),
    # Browsers ask for /favicon.ico whatever the page links: send them to the static icon.
    path("favicon.ico", favicon),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/invitations/", include("orders.shop_settings.invitation_urls")),
    path("dashboard/", include("orders.dashboard.urls")),
    path("dashboard/messages/", include("notifications.dashboard.urls")),
    path("dashboard/templates/", include("notifications.dashboard.template_urls")),
    path("dashboard/returns/", include("returns.dashboard.urls")),
    path("dashboard/feedback/", include("feedback.numbers.urls")),
    path("dashboard/feedback/reviews/", include("feedback.reviews.dashboard.urls")),
    path("dashboard/feedback/cases/", include("feedback.cases.urls")),
    path("dashboard/feedback/settings/", include("feedback.configuration.urls")),
    path("dashboard/settings/", include("orders.shop_settings.urls")),
    # Before orders' API: its last pattern answers every other /api/v1/ path with a 404.
    path("api/v1/", include("loyalty.api.urls")),
    path("api/v1/", include("orders.api.urls")),
    path("webhooks/", include("orders.ingest.urls")),
    path("webhooks/", include("notifications.urls")),
    path("webhooks/anymail/", include("anymail.urls")),
    path("preferences/", include("notifications.preferences_urls")),
    path("track/", include("orders.tracking.urls")),
    path("returns/", include("returns.portal.urls")),
    path("feedback/", include("feedback.urls")),
    path("feedback/case/", include("feedback.cases.followup_urls")),
    path("loyalty/", include("loyalty.urls")),
]

if settings.BENCH_ENDPOINTS:
    # Reference views for `make bench` only; never enabled in a real deployment.
    urlpatterns.append(path("bench/", include("bench.views")))
