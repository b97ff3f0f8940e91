"""`Idempotency-Key` on POST: a retry gets the first answer instead of a second effect.

The key is claimed by inserting its IdempotencyRecord (unique per shop and key) in a transaction
of its own, committed before any work starts, so a concurrent request with the same key sees
the claim and is told to wait (409). The work and the stored response then commit together:
either both are there for a retry to replay, or neither is and the claim is released.
"""

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from orders.api.auth import request_shop
from orders.api.errors import domain_error_body
from orders.models import IdempotencyRecord, Shop
from postpurchase.exceptions import DomainError

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255
# Longer than any request may run (the web server's timeout is far shorter), so a claim this
# old belongs to a request that died; its transaction rolled back and nothing of it remains.
ABANDONED_AFTER = timedelta(minutes=5)

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=IDEMPOTENCY_HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (a UUID, say), at most 255 characters. A retry with the same key "
        "returns the first response (with `Idempotent-Replayed: true`) without doing the work "
        "again; the same key with a different request is refused with 422, and a retry while "
        "the first request is still running gets 409."
    ),
)


class IdempotencyKeyReused(DomainError):
    api_error = "idempotency key reused"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"The Idempotency-Key '{key}' was already used for a different request; "
            "use a new key for a new request."
        )


class IdempotencyKeyInFlight(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still in progress; retry later."
    default_code = "conflict"


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    canonical = json.dumps(
        {"method": method, "path": path, "body": body}, sort_keys=True, cls=JSONEncoder
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _take_over_if_abandoned(record: IdempotencyRecord) -> bool:
    now = timezone.now()
    if record.created_at > now - ABANDONED_AFTER:
        return False
    # Conditional on the claim time we read, so of two requests taking over only one wins.
    return bool(
        IdempotencyRecord.objects.filter(
            pk=record.pk, response_status__isnull=True, created_at=record.created_at
        ).update(created_at=now)
    )


def idempotency_claim(
    *, shop: Shop, key: str, method: str, path: str, request_hash: str
) -> tuple[IdempotencyRecord, bool]:
    """Claim `key` for this request. Returns the record and whether the caller must do the work;
    when it must not, the record holds the first response to replay.

    Raises IdempotencyKeyReused for another request under the same key and
    IdempotencyKeyInFlight while the first request is still running."""
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                shop=shop, key=key, method=method, path=path[:255], request_hash=request_hash
            )
        return record, True
    except IntegrityError:
        pass
    found = IdempotencyRecord.objects.filter(shop=shop, key=key).first()
    if found is None:
        # The first request failed and released the key between our insert and this read.
        raise IdempotencyKeyInFlight()
    record = found
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused(key)
    if record.response_status is not None:
        return record, False
    if _take_over_if_abandoned(record):
        return record, True
    raise IdempotencyKeyInFlight()


def idempotency_record_complete(*, record: IdempotencyRecord, status_code: int, body: Any) -> None:
    # Through the encoder: a response body may hold Decimals, dates or lazy strings.
    stored = json.loads(json.dumps(body, cls=JSONEncoder))
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        response_status=status_code, response_body=stored
    )


def idempotency_record_release(*, record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, response_status__isnull=True).delete()


def idempotency_records_purge(*, older_than: timedelta) -> int:
    """Forget keys claimed more than `older_than` ago; returns how many."""
    cutoff = timezone.now() - older_than
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def _key_from(request: Request) -> str:
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if len(key) > KEY_MAX_LENGTH:
        raise ValidationError({IDEMPOTENCY_HEADER: [f"At most {KEY_MAX_LENGTH} characters."]})
    return key


def _run_claimed(record: IdempotencyRecord, work: Callable[[], Response]) -> Response:
    try:
        with transaction.atomic():
            response = work()
            idempotency_record_complete(
                record=record, status_code=response.status_code, body=response.data
            )
    except DomainError as exc:
        # The request was accepted and a business rule refused it: that refusal is the answer
        # a retry must get. (Its work was rolled back with the transaction.)
        idempotency_record_complete(
            record=record,
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
            body=domain_error_body(exc),
        )
        raise
    except BaseException:
        # A malformed request (400), an unknown object (404) or a crash: nothing was done, so
        # free the key for a corrected or later retry.
        idempotency_record_release(record=record)
        raise
    return response


Handler = Callable[..., Response]


def idempotent(handler: Handler) -> Handler:
    """Make a POST handler of an API view honour the Idempotency-Key header.

    Place it directly above `@action`, which replaces the schema settings of what it wraps."""

    @functools.wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = _key_from(request)
        if not key:
            return handler(view, request, *args, **kwargs)
        method = request.method or ""
        record, is_owner = idempotency_claim(
            shop=request_shop(request),
            key=key,
            method=method,
            path=request.path,
            request_hash=request_fingerprint(method=method, path=request.path, body=request.data),
        )
        if not is_owner:
            return Response(
                record.response_body,
                status=record.response_status,
                headers={REPLAYED_HEADER: "true"},
            )
        return _run_claimed(record, lambda: handler(view, request, *args, **kwargs))

    return extend_schema(parameters=[IDEMPOTENCY_KEY_PARAMETER])(wrapper)
