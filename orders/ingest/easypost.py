"""EasyPost tracking webhooks: signature check, payload parsing and the processor.

EasyPost posts an Event whose `result` is the whole Tracker, history included, every time the
tracker changes (`tracker.created`, `tracker.updated`). Each delivery therefore repeats every
scan seen so far; scans are stored once per shipment, so a repeat adds nothing.

Signature: `X-Hmac-Signature: hmac-sha256-hex=<hex>`, the HMAC-SHA256 of the raw body keyed
with the webhook secret, NFKD-normalised and UTF-8 encoded, as EasyPost's client libraries
compute it in `validate_webhook`.
"""

import hashlib
import hmac
import unicodedata
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from django.db.models import Q
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from orders.ingest.errors import PayloadError
from orders.ingest.webhooks import WebhookIgnored, register_processor, webhook_event_store
from orders.models import (
    CarrierAccount,
    Shipment,
    Shop,
    TrackingStatus,
    WebhookEvent,
    WebhookProvider,
    WebhookStatus,
)
from orders.services import shipment_tracking_info_update, tracking_event_record
from orders.services.data import TrackingEventData
from postpurchase.exceptions import DomainError

PROVIDER = WebhookProvider.EASYPOST
SIGNATURE_HEADER = "X-Hmac-Signature"
TRACKER_TOPICS = frozenset({"tracker.created", "tracker.updated"})
SOURCE = "easypost"

# EasyPost's tracker statuses; `unknown` and `cancelled` say nothing about where the parcel is,
# so they are absent and move nothing.
STATUS_MAP: dict[str, TrackingStatus] = {
    "pre_transit": TrackingStatus.LABEL_CREATED,
    "in_transit": TrackingStatus.IN_TRANSIT,
    "out_for_delivery": TrackingStatus.OUT_FOR_DELIVERY,
    # Waiting at a pickup point is the last step before the customer has it, as a van round is.
    "available_for_pickup": TrackingStatus.OUT_FOR_DELIVERY,
    "delivered": TrackingStatus.DELIVERED,
    "return_to_sender": TrackingStatus.RETURNED_TO_SENDER,
    "failure": TrackingStatus.EXCEPTION,
    "error": TrackingStatus.EXCEPTION,
}


def _assume_utc(value: datetime) -> datetime:
    # EasyPost documents that a scan without enough location data is stamped in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_assume_utc)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TrackingLocation(_Model):
    city: str | None = None
    state: str | None = None
    country: str | None = None
    zip: str | None = None

    def as_text(self) -> str:
        region = " ".join(part for part in (self.state, self.zip) if part)
        return ", ".join(part for part in (self.city, region, self.country) if part)


class TrackingDetail(_Model):
    message: str | None = None
    status: str = Field(min_length=1)
    status_detail: str | None = None
    occurred_at: UtcDatetime = Field(alias="datetime")
    source: str | None = None
    tracking_location: TrackingLocation | None = None


class CarrierDetail(_Model):
    # Kept as text: it is a nicety, and a carrier's odd value must not fail the whole update.
    est_delivery_date_local: str | None = None


class Tracker(_Model):
    object: Literal["Tracker"]
    id: str = Field(min_length=1)
    tracking_code: str = Field(min_length=1, max_length=64)
    status: str = Field(min_length=1)
    carrier: str | None = None
    est_delivery_date: UtcDatetime | None = None
    public_url: str | None = None
    updated_at: UtcDatetime | None = None
    tracking_details: list[TrackingDetail] | None = None
    carrier_detail: CarrierDetail | None = None


class Event(_Model):
    object: Literal["Event"]
    id: str = Field(min_length=1, max_length=128)
    description: str = Field(min_length=1, max_length=64)
    result: dict[str, Any]


def _payload_error(exc: ValidationError, prefix: str = "") -> PayloadError:
    first = exc.errors()[0]
    path = ".".join(str(part) for part in (prefix, *first["loc"]) if part != "")
    return PayloadError(path or "body", first["msg"])


def event_parse(body: bytes) -> Event:
    """The Event in `body`, or PayloadError naming the field at fault."""
    try:
        return Event.model_validate_json(body)
    except ValidationError as exc:
        raise _payload_error(exc) from None


def tracker_parse(event: Event) -> Tracker:
    try:
        return Tracker.model_validate(event.result)
    except ValidationError as exc:
        raise _payload_error(exc, prefix="result") from None


def signature_for(*, secret: str, body: bytes) -> str:
    """The `X-Hmac-Signature` value EasyPost sends for `body` signed with `secret`."""
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def shop_for_signature(*, body: bytes, signature: str) -> Shop | None:
    """The shop whose active EasyPost account's secret signed `body`, or None.

    A delivery names no account we could trust before checking it, so each shop's secret is
    tried in turn; there are few, and HMAC is cheap."""
    if not signature:
        return None
    given = signature.encode("utf-8", "replace")
    accounts = CarrierAccount.objects.filter(
        provider=PROVIDER, is_active=True, shop__is_active=True
    ).select_related("shop")
    for account in accounts:
        expected = signature_for(secret=account.webhook_secret, body=body).encode()
        if hmac.compare_digest(expected, given):
            return account.shop
    return None


def _body_text(body: bytes) -> str:
    # Postgres text cannot hold NUL; the stored copy is for people, the parse used the bytes.
    return body.decode("utf-8", "replace").replace("\x00", "\ufffd")


def delivery_receive(
    *, shop: Shop, body: bytes, headers: dict[str, str]
) -> tuple[WebhookEvent, bool]:
    """Store an authenticated delivery for processing; returns (event, created).

    A body we cannot use is stored once as failed (keyed by its hash, so a resend does not pile
    up) and PayloadError is raised. Events other than tracker updates are kept as ignored."""
    event: Event | None = None
    try:
        event = event_parse(body)
        if event.description in TRACKER_TOPICS:
            tracker_parse(event)
    except PayloadError as exc:
        webhook_event_store(
            provider=PROVIDER,
            event_id=f"invalid:{hashlib.sha256(body).hexdigest()}",
            topic=event.description if event else "",
            headers=headers,
            body=_body_text(body),
            shop=shop,
            status=WebhookStatus.FAILED,
            error=str(exc),
        )
        raise
    is_used = event.description in TRACKER_TOPICS
    return webhook_event_store(
        provider=PROVIDER,
        event_id=event.id,
        topic=event.description,
        headers=headers,
        body=_body_text(body),
        shop=shop,
        status=WebhookStatus.RECEIVED if is_used else WebhookStatus.IGNORED,
        error="" if is_used else f"'{event.description}' events are not used",
    )


def _shipment_find(shop_id: int, tracker: Tracker) -> Shipment | None:
    shipments = Shipment.objects.select_for_update().filter(
        shop_id=shop_id, tracking_number=tracker.tracking_code
    )
    if tracker.carrier:
        # A shipment recorded without a carrier still matches; one of another carrier does not.
        shipments = shipments.filter(Q(carrier__iexact=tracker.carrier) | Q(carrier=""))
    # Carriers recycle tracking numbers, so the newest shipment is the one being tracked.
    return shipments.order_by("-created_at", "-pk").first()


def tracker_scans(tracker: Tracker, *, received_at: datetime) -> list[TrackingEventData]:
    """Every scan that says where the parcel is, oldest first, plus the tracker's own status
    when no scan carries it (a tracker can change status before any scan is listed)."""
    scans = [
        TrackingEventData(
            status=STATUS_MAP[detail.status],
            occurred_at=detail.occurred_at,
            description=detail.message or detail.status_detail or "",
            location=detail.tracking_location.as_text() if detail.tracking_location else "",
            source=SOURCE,
        )
        for detail in sorted(tracker.tracking_details or [], key=lambda d: d.occurred_at)
        if detail.status in STATUS_MAP
    ]
    status = STATUS_MAP.get(tracker.status)
    if status is not None and all(scan.status != status for scan in scans):
        scans.append(
            TrackingEventData(
                status=status,
                occurred_at=tracker.updated_at or received_at,
                description=f"Tracker status: {tracker.status.replace('_', ' ')}",
                source=SOURCE,
                external_id=f"{tracker.id}:{status}",
            )
        )
    return scans


def _estimated_delivery(tracker: Tracker) -> date | None:
    local = tracker.carrier_detail.est_delivery_date_local if tracker.carrier_detail else None
    if local:
        try:
            return date.fromisoformat(local[:10])
        except ValueError:
            pass
    return tracker.est_delivery_date.date() if tracker.est_delivery_date else None


def process(event: WebhookEvent) -> str:
    """Apply a stored tracker update to the shop's shipment with that tracking number."""
    if event.shop_id is None:
        raise DomainError("the delivery has no shop")
    parsed = event_parse(event.body.encode("utf-8"))
    if parsed.description not in TRACKER_TOPICS:
        raise WebhookIgnored(f"'{parsed.description}' events are not used")
    tracker = tracker_parse(parsed)
    shipment = _shipment_find(event.shop_id, tracker)
    if shipment is None:
        carrier = f" ({tracker.carrier})" if tracker.carrier else ""
        raise WebhookIgnored(f"no shipment with tracking number {tracker.tracking_code}{carrier}")
    for scan in tracker_scans(tracker, received_at=event.created_at):
        tracking_event_record(shipment=shipment, data=scan)
    shipment_tracking_info_update(
        shipment=shipment,
        estimated_delivery_date=_estimated_delivery(tracker),
        tracking_url=tracker.public_url or "",
    )
    return WebhookStatus.PROCESSED


register_processor(PROVIDER, process)
