"""EasyPost tracking webhooks, replayed from fixtures shaped like EasyPost's documented Event and
Tracker objects and signed the way EasyPost signs them."""

import copy
import hashlib
import hmac
import json
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse

from orders.events import OrderEventName
from orders.ingest.webhooks import webhook_event_process
from orders.models import (
    CarrierAccount,
    OrderStatus,
    ShipmentStatus,
    TrackingEvent,
    WebhookEvent,
    WebhookStatus,
)
from postpurchase.models import DomainEvent
from tests.factories import OrderFactory, ShipmentFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "easypost"
TRACKING_CODE = "9405500207552011812894"
SECRET = "whsec_carrier_test_2c9e61"
URL = "/webhooks/carriers/easypost/"


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def sign(body: bytes, secret: str) -> str:
    # Written out as EasyPost's client libraries do it, independently of the code under test.
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def post(client, payload: dict | bytes, *, secret: str | None = SECRET, signature: str = ""):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {}
    if signature or secret is not None:
        headers["HTTP_X_HMAC_SIGNATURE"] = signature or sign(body, secret)
    return client.post(URL, data=body, content_type="application/json", **headers)


def deliver(client, payload: dict, *, secret: str = SECRET) -> WebhookEvent:
    """Post a signed delivery and process it as the Celery task would."""
    response = post(client, payload, secret=secret)
    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get(event_id=payload["id"])
    webhook_event_process(event_id=event.pk)
    event.refresh_from_db()
    return event


def with_statuses(payload: dict, *statuses: str, event_id: str = "evt_status") -> dict:
    """The fixture with its scans replaced by one scan per status, an hour apart."""
    payload = copy.deepcopy(payload)
    template = payload["result"]["tracking_details"][0]
    payload["result"]["tracking_details"] = [
        {
            **template,
            "status": status,
            "message": f"scan {status}",
            "datetime": f"2024-05-0{i + 6}T10:00:00Z",
        }
        for i, status in enumerate(statuses)
    ]
    payload["result"]["status"] = statuses[-1]
    payload["id"] = event_id
    return payload


@pytest.fixture
def account(shop):
    return CarrierAccount.objects.create(shop=shop, provider="easypost", webhook_secret=SECRET)


@pytest.fixture
def shipment(shop, account):
    order = OrderFactory(shop=shop, status=OrderStatus.SHIPPED)
    return ShipmentFactory(order=order, carrier="USPS", tracking_number=TRACKING_CODE)


# Authentication


def test_signed_delivery_is_stored_for_the_shop_and_queued(
    client, shop, account, django_capture_on_commit_callbacks
):
    payload = load("tracker_updated")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(client, payload)

    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    event = WebhookEvent.objects.get()
    assert (event.provider, event.event_id, event.topic) == (
        "easypost",
        payload["id"],
        "tracker.updated",
    )
    assert event.shop == shop
    assert event.status == WebhookStatus.RECEIVED
    assert json.loads(event.body) == payload
    assert len(callbacks) == 1


def test_missing_signature_is_refused_and_nothing_stored(client, account):
    response = post(client, load("tracker_updated"), secret=None)

    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_bad_signature_is_refused_and_nothing_stored(client, account):
    payload = load("tracker_updated")
    signed = json.dumps(payload).encode()
    payload["result"]["status"] = "delivered"  # tampered after signing

    response = post(client, payload, signature=sign(signed, SECRET))

    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_signature_with_a_wrong_secret_is_refused(client, account):
    response = post(client, load("tracker_updated"), secret="not-the-secret")

    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_signature_of_an_inactive_account_is_refused(client, account):
    account.is_active = False
    account.save(update_fields=["is_active", "updated_at"])

    response = post(client, load("tracker_updated"))

    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_the_secret_that_signed_the_delivery_picks_the_shop(client, shop, other_shop, shipment):
    CarrierAccount.objects.create(shop=other_shop, provider="easypost", webhook_secret="other-1")

    event = deliver(client, load("tracker_updated"), secret="other-1")

    assert event.shop == other_shop
    # The tracking number belongs to the first shop's shipment, which must stay untouched.
    assert event.status == WebhookStatus.IGNORED
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.PENDING
    assert not TrackingEvent.objects.exists()


def test_secret_is_nfkd_normalised_before_signing(client, shop):
    # "ﬁ" (one ligature) and full-width letters normalise to plain ASCII under NFKD.
    CarrierAccount.objects.create(shop=shop, provider="easypost", webhook_secret="ｓｅｃｒｅｔ-ﬁx")
    body = json.dumps(load("tracker_updated")).encode()
    plain_key = hmac.new(b"secret-fix", body, hashlib.sha256).hexdigest()

    response = post(client, body, signature=f"hmac-sha256-hex={plain_key}")

    assert response.status_code == 200
    assert WebhookEvent.objects.get().shop == shop


# Storing


def test_redelivery_of_a_known_event_is_a_no_op(
    client, account, django_capture_on_commit_callbacks
):
    payload = load("tracker_updated")
    post(client, payload)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(client, payload)

    assert response.status_code == 200
    assert response.json() == {"status": "duplicate"}
    assert WebhookEvent.objects.count() == 1
    assert callbacks == []


def test_body_that_is_not_json_is_stored_once_as_failed(client, account):
    body = b'{"object": "Event", "id": "evt_1", '

    first = post(client, body)
    second = post(client, body)

    assert first.status_code == second.status_code == 400
    assert first.json()["field"] == "body"
    event = WebhookEvent.objects.get()
    assert event.status == WebhookStatus.FAILED
    assert event.body == body.decode()
    assert "body" in event.error


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (("id",), "id"),
        (("description",), "description"),
        (("result",), "result"),
        (("result", "tracking_code"), "result.tracking_code"),
        (("result", "status"), "result.status"),
        (("result", "tracking_details", 1, "datetime"), "result.tracking_details.1.datetime"),
    ],
)
def test_missing_field_is_refused_with_its_name(client, account, path, field):
    payload = load("tracker_updated")
    parent = payload
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]

    response = post(client, payload)

    assert response.status_code == 400
    assert response.json()["field"] == field
    event = WebhookEvent.objects.get()
    assert event.status == WebhookStatus.FAILED
    assert field in event.error
    assert event.topic == ("tracker.updated" if field.startswith("result.") else "")


def test_unknown_provider_is_not_found(client, account):
    body = json.dumps(load("tracker_updated")).encode()

    response = client.post(
        "/webhooks/carriers/shipwreck/",
        data=body,
        content_type="application/json",
        HTTP_X_HMAC_SIGNATURE=sign(body, SECRET),
    )

    assert response.status_code == 404
    assert response.json()["error"] == "unknown carrier provider"
    assert not WebhookEvent.objects.exists()


def test_route_name_resolves_to_the_carrier_url():
    assert reverse("webhooks:carrier", kwargs={"provider": "easypost"}) == URL


def test_events_other_than_tracker_updates_are_kept_as_ignored(client, account):
    response = post(client, load("batch_created"))

    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    event = WebhookEvent.objects.get()
    assert event.status == WebhookStatus.IGNORED
    assert "batch.created" in event.error


# Processing


def test_tracker_update_records_every_scan_and_moves_the_shipment(client, shipment):
    event = deliver(client, load("tracker_updated"))

    assert event.status == WebhookStatus.PROCESSED
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.IN_TRANSIT
    scans = list(TrackingEvent.objects.filter(shipment=shipment).order_by("occurred_at"))
    assert [s.status for s in scans] == ["label_created", "in_transit", "in_transit"]
    assert scans[1].description == "Accepted at USPS Origin Facility"
    assert scans[1].location == "HOUSTON, TX 77063, US"
    assert scans[1].occurred_at.isoformat() == "2024-05-06T21:12:00+00:00"


def test_tracker_update_sets_the_estimated_delivery_date_and_link(client, shipment):
    deliver(client, load("tracker_updated"))

    shipment.refresh_from_db()
    assert shipment.estimated_delivery_date == date(2024, 5, 9)
    assert shipment.tracking_url.startswith("https://track.easypost.com/")


def test_a_later_estimate_replaces_the_earlier_one(client, shipment):
    deliver(client, load("tracker_updated"))
    later = load("tracker_updated")
    later["id"] = "evt_later_estimate"
    later["result"]["carrier_detail"]["est_delivery_date_local"] = None
    later["result"]["est_delivery_date"] = "2024-05-11T00:00:00Z"

    deliver(client, later)

    shipment.refresh_from_db()
    assert shipment.estimated_delivery_date == date(2024, 5, 11)
    # What the customer was first promised stays, for "late or on time".
    assert shipment.first_estimated_delivery_date == date(2024, 5, 9)


def test_re_sent_tracker_adds_no_scan(client, shipment):
    deliver(client, load("tracker_updated"))
    resent = load("tracker_updated")
    resent["id"] = "evt_same_tracker_again"

    event = deliver(client, resent)

    assert event.status == WebhookStatus.PROCESSED
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 3


def test_processing_a_delivery_twice_adds_nothing(client, shipment):
    event = deliver(client, load("tracker_updated"))

    assert webhook_event_process(event_id=event.pk) == "skipped"
    assert TrackingEvent.objects.count() == 3


@pytest.mark.parametrize(
    ("easypost_status", "start", "expected"),
    [
        ("pre_transit", ShipmentStatus.PENDING, ShipmentStatus.LABEL_CREATED),
        ("in_transit", ShipmentStatus.PENDING, ShipmentStatus.IN_TRANSIT),
        ("out_for_delivery", ShipmentStatus.IN_TRANSIT, ShipmentStatus.OUT_FOR_DELIVERY),
        ("available_for_pickup", ShipmentStatus.IN_TRANSIT, ShipmentStatus.OUT_FOR_DELIVERY),
        ("delivered", ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.DELIVERED),
        ("return_to_sender", ShipmentStatus.IN_TRANSIT, ShipmentStatus.RETURNED_TO_SENDER),
        ("failure", ShipmentStatus.IN_TRANSIT, ShipmentStatus.EXCEPTION),
        ("error", ShipmentStatus.IN_TRANSIT, ShipmentStatus.EXCEPTION),
        ("unknown", ShipmentStatus.IN_TRANSIT, ShipmentStatus.IN_TRANSIT),
        ("cancelled", ShipmentStatus.IN_TRANSIT, ShipmentStatus.IN_TRANSIT),
    ],
)
def test_easypost_status_maps_to_shipment_status(
    client, shipment, easypost_status, start, expected
):
    shipment.status = start
    shipment.save(update_fields=["status", "updated_at"])

    event = deliver(client, with_statuses(load("tracker_updated"), easypost_status))

    assert event.status == WebhookStatus.PROCESSED
    shipment.refresh_from_db()
    assert shipment.status == expected
    recorded = list(TrackingEvent.objects.values_list("status", flat=True))
    assert recorded == ([] if expected == start else [expected])


def test_tracker_status_without_a_matching_scan_is_recorded(client, shipment):
    payload = load("tracker_created")
    payload["result"]["tracking_details"] = []

    deliver(client, payload)

    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.LABEL_CREATED
    assert TrackingEvent.objects.get().occurred_at.isoformat() == "2024-05-06T15:02:10+00:00"


def test_unknown_tracking_number_is_ignored_with_the_reason(client, shipment):
    payload = load("tracker_updated")
    payload["result"]["tracking_code"] = "1Z999AA10123456784"

    event = deliver(client, payload)

    assert event.status == WebhookStatus.IGNORED
    assert "1Z999AA10123456784" in event.error
    assert not TrackingEvent.objects.exists()


def test_same_tracking_number_at_another_carrier_is_ignored(client, shipment):
    payload = load("tracker_updated")
    payload["result"]["carrier"] = "UPS"

    event = deliver(client, payload)

    assert event.status == WebhookStatus.IGNORED
    assert "UPS" in event.error
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.PENDING


def test_order_is_delivered_once_every_shipment_is(client, shop, account):
    order = OrderFactory(shop=shop, status=OrderStatus.SHIPPED)
    first = ShipmentFactory(order=order, carrier="USPS", tracking_number=TRACKING_CODE)
    second = ShipmentFactory(order=order, carrier="USPS", tracking_number="9400111899560000000042")
    delivered = load("tracker_delivered")
    other = copy.deepcopy(delivered)
    other["id"] = "evt_second_parcel"
    other["result"]["id"] = "trk_second_parcel"
    other["result"]["tracking_code"] = second.tracking_number

    deliver(client, delivered)

    first.refresh_from_db()
    order.refresh_from_db()
    assert first.status == ShipmentStatus.DELIVERED
    assert order.status == OrderStatus.SHIPPED
    assert not DomainEvent.objects.filter(name=OrderEventName.ORDER_DELIVERED).exists()

    deliver(client, other)
    resent = copy.deepcopy(other)
    resent["id"] = "evt_second_parcel_again"
    deliver(client, resent)

    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert DomainEvent.objects.filter(name=OrderEventName.ORDER_DELIVERED).count() == 1


def test_malformed_stored_delivery_fails_on_replay(client, shop, account):
    event = WebhookEvent.objects.create(
        provider="easypost", event_id="evt_broken", topic="tracker.updated", body="{}", shop=shop
    )

    assert webhook_event_process(event_id=event.pk) == WebhookStatus.FAILED
    event.refresh_from_db()
    assert "object" in event.error
