"""Production mode: `DJANGO_SETTINGS_MODULE=postpurchase.settings.production`.

`python manage.py check --deploy` reports nothing with these settings. Secrets are required.
"""

from postpurchase.settings.base import *  # noqa: F403
from postpurchase.settings.base import env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")  # no default: fail fast

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
# Health probes come from the orchestrator over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
