"""Test speed-ups only. Tests always run on PostgreSQL and Redis."""

import os
from datetime import timedelta

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postpurchase")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_db_per_test_process(url: str) -> str:
    """Parallel test processes (pytest-xdist) each get their own Redis database, so one
    process's Celery worker never consumes another's tasks."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    base, _, db = url.rpartition("/")
    return f"{base}/{(int(db or 0) - int(worker[2:])) % 16}"


os.environ["REDIS_URL"] = _redis_db_per_test_process(os.environ["REDIS_URL"])

from postpurchase.settings.base import *  # noqa: E402, F403

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PUBLIC_BASE_URL = "https://shop.test"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost", "shop.test"]
CELERY_BEAT_SCHEDULE = {}
# Every stored webhook asks for its own dispatch round at once: tests see no debounce.
WEBHOOK_DISPATCH_DELAY = timedelta(0)
# Serve static files from the finders; tests never run collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
