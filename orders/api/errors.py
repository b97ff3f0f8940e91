"""Every API error has the same shape: `{"error": <what went wrong>, ...}`.

Validation errors name each field at fault by its dotted path (`line_items.0.quantity`) so a
client can point at it; every other error carries a human-readable `detail`.
"""

from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from postpurchase.exceptions import DomainError, IllegalTransition

INVALID_REQUEST = "invalid request"


def _join(prefix: str, key: object) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _merge_into(target: dict[str, list[str]], found: dict[str, list[str]]) -> None:
    for name, messages in found.items():
        target.setdefault(name, []).extend(messages)


def error_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested error detail into `{"dotted.path": [messages]}`.

    A serializer's own (non-field) errors are reported under the path of that serializer, and
    the valid items of a list, which DRF reports as empty entries, are left out."""
    non_field = api_settings.NON_FIELD_ERRORS_KEY
    found: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = prefix if key == non_field else _join(prefix, key)
            _merge_into(found, error_fields(value, name))
    elif isinstance(detail, list) and all(isinstance(item, str) for item in detail):
        if detail:
            found[prefix or non_field] = [str(item) for item in detail]
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            _merge_into(found, error_fields(item, _join(prefix, index)))
    else:
        found[prefix or non_field] = [str(detail)]
    return found


def domain_error_body(exc: DomainError) -> dict[str, str]:
    if isinstance(exc, IllegalTransition):
        error = "illegal transition"
    else:
        error = getattr(exc, "api_error", "request refused")
    return {"error": error, "detail": str(exc)}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK's EXCEPTION_HANDLER: 400 with fields, 422 for refused business rules,
    and DRF's own handling (401 with WWW-Authenticate, 404, 405, ...) in the common shape."""
    if isinstance(exc, DomainError):
        return Response(domain_error_body(exc), status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    if isinstance(exc, ValidationError | ParseError):
        # A body that is not JSON at all is at fault as a whole, like a non-field error.
        body = {"error": INVALID_REQUEST, "fields": error_fields(exc.detail)}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
    response.data = {
        "error": HTTPStatus(response.status_code).phrase.lower(),
        "detail": str(detail),
    }
    return response


@csrf_exempt  # as every API view: the API takes no cookies, so whatever the method, a 404
def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any URL under /api/v1/ that names no endpoint (or an id that is not a number): a 404 in
    the API's own shape, not the HTML page the rest of the site answers."""
    body = {"error": HTTPStatus.NOT_FOUND.phrase.lower(), "detail": "No such API endpoint."}
    return JsonResponse(body, status=HTTPStatus.NOT_FOUND)
