"""Settings shared by every mode, read from the environment (and `.env` when present).

One engine everywhere: PostgreSQL and Redis in production, in the tests and in the demo. With
no DATABASE_URL or REDIS_URL, `make run` starts real ones from pip wheels under VAR_DIR
(`scripts/embedded.py`), so it works with nothing but Python and runs production's code.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# Local state of `make run`: the embedded servers' data, the beat schedule, uploads.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var"))).resolve()
# The addresses of the embedded servers a running `make run` started (scripts/embedded.py
# writes them there), so that `manage.py` run by hand in another terminal reaches them too.
# Anything set in the environment or in `.env` wins.
environ.Env.read_env(VAR_DIR / "services.env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "anymail",
    "csp",
    "pgtrigger",
    "postpurchase",
    "orders",
    "notifications",
    "returns",
    "feedback",
    "loyalty",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "postpurchase.security.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: it turns a sign-in refused for too many failures into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# --- Security headers -------------------------------------------------------------------------
# Every page: scripts and styles only from our own static files (no inline script or style
# attribute anywhere; a template that must inline one uses `request.csp_nonce`), and no page may
# be framed unless its view says so (`postpurchase.security.framable_by`).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        # Shops' logos and product pictures live on their own sites; data: for icons that
        # stylesheets inline (admin, API docs).
        "img-src": [SELF, "https:", "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# No page uses these; an empty list turns the feature off for the page and all it frames.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# The model every merchant-owned row belongs to. The kernel's own models refer to it by this
# name, as Django's refer to AUTH_USER_MODEL, so the kernel imports no app.
TENANT_MODEL = "orders.Shop"

ROOT_URLCONF = "postpurchase.urls"
WSGI_APPLICATION = "postpurchase.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "postpurchase.shell.context_processors.dashboard",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# Persistent connections: a new connection per request costs ten times a one-row read here.
# The default is the embedded server of `make run`, on the unix socket in its data folder.
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL",
        default=f"postgres://postgres@/postpurchase?host={quote(str(VAR_DIR / 'pg'), safe='/')}",
    ),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker and cache ------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "pp",
    }
}

CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "domain-events-redeliver": {
        "task": "postpurchase.tasks.domain_events_redeliver_task",
        "schedule": timedelta(minutes=1),
    },
    "webhook-events-resume": {
        "task": "orders.tasks.webhook_events_resume_task",
        "schedule": timedelta(minutes=1),
    },
    "messages-dispatch-due": {
        "task": "notifications.tasks.messages_dispatch_due_task",
        "schedule": timedelta(seconds=env.int("NOTIFICATIONS_DISPATCH_EVERY_SECONDS", default=5)),
    },
    "messages-recover-stuck": {
        "task": "notifications.tasks.messages_recover_stuck_task",
        "schedule": timedelta(seconds=env.int("NOTIFICATIONS_RECOVER_EVERY_SECONDS", default=30)),
    },
    "occasions-schedule-due": {
        "task": "notifications.tasks.occasions_schedule_due_task",
        "schedule": crontab(minute=2),
    },
    "shipments-delayed-schedule": {
        "task": "notifications.tasks.shipments_delayed_schedule_task",
        "schedule": crontab(minute=7),
    },
    "product-affinities-compute": {
        "task": "orders.tasks.product_affinities_compute_all_task",
        "schedule": crontab(minute=40, hour=2),
    },
    "idempotency-keys-purge": {
        "task": "orders.tasks.idempotency_keys_purge_task",
        "schedule": crontab(minute=17, hour=3),
    },
    # Surveys mirror their messages (sent, opened) and owe their one reminder.
    "survey-requests-refresh": {
        "task": "feedback.tasks.survey_requests_refresh_task",
        "schedule": timedelta(minutes=5),
    },
    "survey-reminders-schedule": {
        "task": "feedback.tasks.survey_reminders_schedule_task",
        "schedule": crontab(minute=12),
    },
    # Retrain each shop's sentiment model, rescore and refresh its topics.
    "texts-analyse-nightly": {
        "task": "feedback.tasks.texts_analyse_nightly_task",
        "schedule": crontab(minute=25, hour=3),
    },
    "tracking-page-views-flush": {
        "task": "orders.tasks.tracking_page_views_flush_task",
        "schedule": timedelta(minutes=1),
    },
    "cases-sla-breaches-notify": {
        "task": "feedback.tasks.cases_sla_breaches_notify_task",
        "schedule": timedelta(minutes=5),
    },
    # The feedback numbers page reads daily rollups: recount recent days, and a longer window
    # nightly.
    "feedback-rollups-recent": {
        "task": "feedback.tasks.feedback_rollups_recent_task",
        "schedule": timedelta(minutes=10),
    },
    "feedback-rollups-nightly": {
        "task": "feedback.tasks.feedback_rollups_nightly_task",
        "schedule": crontab(minute=40, hour=3),
    },
    # Loyalty: pending points confirmed once their return window closed, birthday and
    # anniversary bonuses on the customer's day, lots expired and their reminders, and the
    # nightly check that every balance is the sum of its entries.
    "loyalty-earnings-confirm": {
        "task": "loyalty.tasks.earnings_confirm_due_task",
        "schedule": crontab(minute=22),
    },
    "loyalty-occasions-award": {
        "task": "loyalty.tasks.occasions_award_due_task",
        "schedule": crontab(minute=4),
    },
    "loyalty-lots-expire": {
        "task": "loyalty.tasks.lots_expire_due_task",
        "schedule": crontab(minute=34),
    },
    "loyalty-expiry-reminders": {
        "task": "loyalty.tasks.expiry_reminders_send_task",
        "schedule": crontab(minute=50, hour=9),
    },
    "loyalty-ledger-check": {
        "task": "loyalty.tasks.ledger_check_task",
        "schedule": crontab(minute=10, hour=4),
    },
    # Loyalty tiers: yearly reviews and orders leaving the 12-month window, nightly; each
    # quarter's free-shipping perk, daily (so a member new to the tier gets it the next day).
    "loyalty-tiers-recompute": {
        "task": "loyalty.tasks.members_tier_recompute_task",
        "schedule": crontab(minute=50, hour=1),
    },
    "loyalty-free-shipping-perk": {
        "task": "loyalty.tasks.members_free_shipping_grant_task",
        "schedule": crontab(minute=20, hour=2),
    },
    # Referrers whose friend's first order has passed its return window.
    "loyalty-referrals-confirm": {
        "task": "loyalty.tasks.referrals_confirm_due_task",
        "schedule": crontab(minute=35),
    },
    # Loyalty rewards: settle redemptions whose code creation was lost or out of retries
    # (found in Shopify: issued; not found: points released), return the points of codes
    # unused by their end date, and tell members of rewards their points now afford.
    "loyalty-redemptions-settle-stuck": {
        "task": "loyalty.tasks.redemptions_settle_stuck_task",
        "schedule": timedelta(minutes=5),
    },
    "loyalty-redemptions-expire": {
        "task": "loyalty.tasks.redemptions_expire_task",
        "schedule": crontab(minute=23),
    },
    "loyalty-rewards-affordable-notify": {
        "task": "loyalty.tasks.rewards_affordable_notify_task",
        "schedule": crontab(minute=55, hour=9),
    },
}

# --- Auth, i18n, static -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"

# Sign-in throttling (django-axes) on /accounts/login/ and /admin/login/: an account is locked
# for one address after SIGNIN_ACCOUNT_FAILURES failures from it, and an address for every
# account after SIGNIN_ADDRESS_FAILURES, until SIGNIN_COOLOFF_MINUTES have passed without a
# further attempt (or ops unlock it: admin, or `manage.py axes_reset_username NAME`).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
SIGNIN_ACCOUNT_FAILURES = env.int("SIGNIN_ACCOUNT_FAILURES", default=5)
SIGNIN_ADDRESS_FAILURES = env.int("SIGNIN_ADDRESS_FAILURES", default=20)
AXES_HANDLER = "postpurchase.signin.SignInThrottle"
# One limit per rule, in this order (see postpurchase.signin.SignInThrottle).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
SIGNIN_LOCKOUT_LIMITS = [SIGNIN_ACCOUNT_FAILURES, SIGNIN_ADDRESS_FAILURES]
if min(SIGNIN_LOCKOUT_LIMITS) < 1:
    raise ImproperlyConfigured("SIGNIN_ACCOUNT_FAILURES and SIGNIN_ADDRESS_FAILURES must be ≥ 1")
AXES_FAILURE_LIMIT = SIGNIN_ACCOUNT_FAILURES
AXES_COOLOFF_TIME = timedelta(minutes=env.int("SIGNIN_COOLOFF_MINUTES", default=15))
# A successful sign-in forgives that account's failures from that address.
AXES_RESET_ON_SUCCESS = env.bool("SIGNIN_RESET_ON_SUCCESS", default=True)
# The client's address as the order lookup's limits count it (TRUSTED_PROXY_COUNT, IPv6 /64).
AXES_CLIENT_IP_CALLABLE = "orders.tracking.lookup.client_address"
AXES_LOCKOUT_CALLABLE = "postpurchase.signin.lockout_response"

# How many reverse proxies of our own sit in front of the web server: their X-Forwarded-For
# entries name the client (for per-address rate limits); anything further left is not believed.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Refunds of returned Shopify orders requested through Shopify's Admin API (off: staff refund
# by hand). The shop's `shopify_access_token` needs the write_orders scope.
RETURNS_SHOPIFY_REFUNDS = env.bool("RETURNS_SHOPIFY_REFUNDS", default=False)
# The Admin API's base for every call to a shop (`orders.shopify_admin`); GraphQL is at
# `{base}/graphql.json`. A stable version whose discount inputs take `context`.
SHOPIFY_ADMIN_API_URL = env.str(
    "SHOPIFY_ADMIN_API_URL", default="https://{domain}/admin/api/2026-10"
)

LANGUAGE_CODE = "en"
# The languages customers' pages and messages speak, chosen by the customer's locale; the
# dashboard stays in English. Translations live in `locale/<code>/LC_MESSAGES/django.po`.
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "/media/"

# --- Email and SMS ------------------------------------------------------------------------
# An SMTP server from EMAIL_URL (smtp://host:25, smtp+tls://user:pass@host:587,
# smtp+ssl://user:pass@host:465; quote special characters in the password, e.g. %40 for @)
# or from the separate EMAIL_HOST… variables, which override the URL's parts. Naming a server
# makes the SMTP backend the default; EMAIL_BACKEND (e.g. an anymail ESP) still wins.
_EMAIL_URL = env.email_url("EMAIL_URL") if env.str("EMAIL_URL", default="") else {}
# An empty variable counts as unset (docker-compose passes unset ones through as "").
EMAIL_HOST = env.str("EMAIL_HOST", default="") or _EMAIL_URL.get("EMAIL_HOST") or "localhost"
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default=_EMAIL_URL.get("EMAIL_HOST_USER") or "")
EMAIL_HOST_PASSWORD = env.str(
    "EMAIL_HOST_PASSWORD", default=_EMAIL_URL.get("EMAIL_HOST_PASSWORD") or ""
)
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=_EMAIL_URL.get("EMAIL_USE_TLS", False))
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=_EMAIL_URL.get("EMAIL_USE_SSL", False))
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured(
        "EMAIL_USE_TLS (STARTTLS, usually port 587) and EMAIL_USE_SSL (implicit TLS, usually "
        "port 465) exclude each other: set one."
    )
# The port each kind of connection usually listens on, when neither variable names one.
_SMTP_PORT = 465 if EMAIL_USE_SSL else 587 if EMAIL_USE_TLS else 25
EMAIL_PORT = env.int("EMAIL_PORT", default=_EMAIL_URL.get("EMAIL_PORT") or _SMTP_PORT)
_SMTP_NAMED = bool(_EMAIL_URL) or bool(env.str("EMAIL_HOST", default=""))
EMAIL_BACKEND = (
    env.str("EMAIL_BACKEND", default="")
    or _EMAIL_URL.get("EMAIL_BACKEND")
    or (
        "django.core.mail.backends.smtp.EmailBackend"
        if _SMTP_NAMED
        else "django.core.mail.backends.console.EmailBackend"
    )
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="orders@example.com")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in env.ENVIRON.items()
    if key.startswith("ANYMAIL_")
}
# The domain whose mail the ESP's inbound webhook hands to anymail: replies to a follow-up case
# go to `case+<signed id>@` it (blank: replies go to the shop's own address).
FEEDBACK_INBOUND_EMAIL_DOMAIN = env.str("FEEDBACK_INBOUND_EMAIL_DOMAIN", default="")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
# WhatsApp sender when it differs from TWILIO_FROM_NUMBER; ignored with a messaging service.
TWILIO_WHATSAPP_FROM_NUMBER = env.str("TWILIO_WHATSAPP_FROM_NUMBER", default="")
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=10.0)
# Only for tests and local fakes: replaces https://api.twilio.com.
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")
NOTIFICATIONS_CHANNELS = {
    "email": "notifications.engine.channels.email.EmailChannel",
    "sms": "notifications.engine.channels.sms.SmsChannel",
    "whatsapp": "notifications.engine.channels.sms.WhatsAppChannel",
}
NOTIFICATIONS_EMAIL_TIMEOUT = env.float("NOTIFICATIONS_EMAIL_TIMEOUT", default=10.0)
# Mail Django sends itself (password resets, error reports) waits no longer than ours.
EMAIL_TIMEOUT = NOTIFICATIONS_EMAIL_TIMEOUT

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["orders.api.auth.ShopApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["orders.api.auth.HasShopApiKey"],
    "DEFAULT_PAGINATION_CLASS": "orders.api.pagination.ApiPagination",
    "DEFAULT_SCHEMA_CLASS": "orders.api.schema.ApiAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "orders.api.errors.api_exception_handler",
    "DEFAULT_METADATA_CLASS": "orders.api.metadata.ApiMetadata",
    "UNAUTHENTICATED_USER": None,
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Postpurchase API",
    "DESCRIPTION": "Orders, shipments, tracking events and customers of one shop, and their "
    "loyalty points.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Request bodies get their own components, so that a field refusing a blank value says so
    # (`minLength: 1`) where it is read, without claiming it of the answers.
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `status`; name each enum after its model rather than by a hash.
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.OrderStatus",
        "ShipmentStatusEnum": "orders.models.ShipmentStatus",
        "TrackingStatusEnum": "orders.models.TrackingStatus",
        "ConsentStatusEnum": "orders.models.ConsentStatus",
        "LedgerEntryKindEnum": "loyalty.models.EntryKind",
        "LedgerEntrySubjectEnum": "loyalty.models.Subject",
    },
}

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # axes: failed sign-ins and lockouts are warnings; its start-up banner is not worth a line.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# Reference views measured by `make bench` (hello world, one-row read). Off in real deployments.
BENCH_ENDPOINTS = env.bool("BENCH_ENDPOINTS", default=False)

# How long a stored webhook may sit unprocessed before the beat sweep enqueues it again.
WEBHOOK_RESUME_AFTER = timedelta(minutes=2)
# Transient failures a webhook delivery may have before it is failed for ops to look at.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=12)
# Each process asks for a webhook dispatch round at most this often (see orders.ingest.webhooks).
WEBHOOK_DISPATCH_DELAY = timedelta(milliseconds=env.int("WEBHOOK_DISPATCH_DELAY_MS", default=250))

# --- Outbox ---------------------------------------------------------------------------------
# Due messages claimed in one transaction and handed to one send task (one enqueue per batch).
NOTIFICATIONS_DISPATCH_BATCH = 100
# Messages a send task claims, sends and records per commit (see notifications.engine.sending).
NOTIFICATIONS_SEND_CHUNK = 50
# Provider calls per message before a temporary failure becomes final ("gave up"). Between
# them the message waits `scheduled`, due again after a backoff that doubles from
# NOTIFICATIONS_RETRY_BACKOFF up to NOTIFICATIONS_RETRY_BACKOFF_MAX (each drawn from the upper
# half of its delay): 30 s, 1, 2, 4 and 8 minutes, some 15 minutes in all, past greylisting.
NOTIFICATIONS_MAX_SEND_ATTEMPTS = 6
NOTIFICATIONS_RETRY_BACKOFF = timedelta(seconds=30)
NOTIFICATIONS_RETRY_BACKOFF_MAX = timedelta(minutes=10)
# A queued message whose task was lost (a Redis flush, a killed worker) is enqueued again
# after this; it is safe, since no provider call happened (retries wait `scheduled`, not here).
NOTIFICATIONS_QUEUED_TIMEOUT = timedelta(
    seconds=env.int("NOTIFICATIONS_QUEUED_TIMEOUT_SECONDS", default=60)
)
# A message still `sending` after this was interrupted mid-call: held for review, never resent.
# A message is marked sending just before its own call, so this only has to outlast one call.
NOTIFICATIONS_SENDING_TIMEOUT = timedelta(
    seconds=env.int("NOTIFICATIONS_SENDING_TIMEOUT_SECONDS", default=120)
)
if NOTIFICATIONS_SENDING_TIMEOUT.total_seconds() <= 2 * max(
    NOTIFICATIONS_EMAIL_TIMEOUT, TWILIO_TIMEOUT_SECONDS
):
    raise ImproperlyConfigured(
        "NOTIFICATIONS_SENDING_TIMEOUT_SECONDS must exceed twice the provider timeouts "
        "(NOTIFICATIONS_EMAIL_TIMEOUT, TWILIO_TIMEOUT_SECONDS): a send still in progress "
        "would be held for review."
    )
# A parcel with no carrier scan for this many days gets the `shipment_delayed` apology.
NOTIFICATIONS_SHIPMENT_SILENT_DAYS = env.int("NOTIFICATIONS_SHIPMENT_SILENT_DAYS", default=3)
# Checks that hold marketing back while a customer has a problem open (see
# notifications.engine.compliance.customers_with_shipment_exception for the signature).
NOTIFICATIONS_MARKETING_PAUSE_CHECKS = [
    "notifications.engine.compliance.customers_with_shipment_exception",
    "returns.selectors.customers_with_open_return",
]
# Checks that keep a customer from being surveyed now (feedback.surveys.selectors.survey_holds):
# same signature as the marketing pause checks (customer ids -> {customer_id: reason}): a
# return open, a follow-up case open or waiting on the customer.
FEEDBACK_SURVEY_HOLD_CHECKS = [
    "returns.selectors.customers_with_open_return",
    "feedback.cases.selectors.customers_with_open_case",
]
# A customer's free text (a text message no survey or case took, the "why" of a score that
# opened no case) whose sentiment, on the analysis' scale from -1 (hostile) to 1 (delighted),
# is below this opens a follow-up case of its own ("Negative words"). VADER scores a plain
# complaint ("the lid leaks") around -0.3 and an angry one ("worst … ever, nobody answers")
# below -0.6: -0.5 catches the angry ones without a case for every mild grumble.
FEEDBACK_TEXT_CASE_THRESHOLD = env.float("FEEDBACK_TEXT_CASE_THRESHOLD", default=-0.5)
# Reviews: the line items of an order that went back (fully) in a return are not offered for
# review. A dotted path, so feedback never imports returns; the function takes line item ids
# and returns the set of those returned (see returns.selectors.returned_line_item_ids).
FEEDBACK_RETURNED_LINES = "returns.selectors.returned_line_item_ids"
# At most this many photos per review.
FEEDBACK_REVIEW_PHOTOS_MAX = env.int("FEEDBACK_REVIEW_PHOTOS_MAX", default=3)
