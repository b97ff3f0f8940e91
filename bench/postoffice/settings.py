"""The smallest Django project that runs django-post_office against the benchmark's database.

Used only by `bench/postoffice/send.py`, with the interpreter of `bench/.venv-postoffice`: the
project itself never installs or imports post_office. Its tables live in `pp_bench` beside the
project's and go when the benchmark drops that database.
"""

import os

# A throwaway project on a throwaway database: nothing to keep secret.
SECRET_KEY = "bench-postoffice-only"
DEBUG = False
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "post_office"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("BENCH_DB_NAME", "pp_bench"),
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": "5432",
        "CONN_MAX_AGE": 600,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The same provider path as the outbox's measurement: anymail's test backend.
EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
POST_OFFICE = {
    "BACKENDS": {"default": "anymail.backends.test.EmailBackend"},
    "DEFAULT_PRIORITY": "medium",
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
