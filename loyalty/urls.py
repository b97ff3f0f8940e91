"""Everything the loyalty app serves customers under `/loyalty/`; each part with its own
patterns. Fixed prefixes (the referral link's `r/`) come before any `<token>/`."""

from django.urls import include, path

urlpatterns = [
    # --- The customer's loyalty page ---
    path("", include("loyalty.pages.urls")),
]
