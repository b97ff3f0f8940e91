from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from postpurchase.celery import app as celery_app


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Alive: the process answers. Touches nothing else."""
    return JsonResponse({"status": "ok"})


def _database_ok() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return repr(exc)
    return None


def _broker_ok() -> str | None:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return repr(exc)
    return None


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready: the database and the broker both answer."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    failing = {name: error for name, error in checks.items() if error}
    body = {
        "status": "ok" if not failing else "unavailable",
        "checks": {name: "ok" if not error else "failing" for name, error in checks.items()},
    }
    if failing and settings.DEBUG:
        body["errors"] = failing
    return JsonResponse(body, status=503 if failing else 200)
