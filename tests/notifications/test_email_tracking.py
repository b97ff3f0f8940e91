"""anymail tracking webhooks: Postmark's own payloads POSTed to anymail's URL with basic auth move
the message forward, suppress bad addresses and record opt-outs, each event once."""

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from werkzeug import Request, Response

from notifications.models import (
    Message,
    MessageEvent,
    MessageStatus,
    ProviderEvent,
    Purpose,
    Suppression,
    SuppressionReason,
)
from notifications.services import message_send
from orders.models import Channel, Consent, ConsentStatus
from tests.factories import ConsentFactory, CustomerFactory, OrderFactory
from tests.notifications.test_outbox import queued

pytestmark = pytest.mark.django_db
URL = "/webhooks/anymail/postmark/tracking/"
SECRET = "anymail-hook:long-random-password-0123456789"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}


@pytest.fixture
def sent() -> Message:
    """An email really sent through anymail's test backend, with its provider message id."""
    order = OrderFactory()
    message = queued(order)
    assert message_send(message_id=message.pk) == MessageStatus.SENT
    message.refresh_from_db()
    assert message.provider_message_id
    return message


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def metadata(message: Message) -> dict[str, str]:
    # Postmark echoes the metadata it was sent, always as strings.
    return {"message_id": str(message.pk), "shop_id": str(message.shop_id)}


# Payloads shaped like Postmark's documented webhooks (and anymail's own tests of them).
def delivery(message: Message, at: datetime | None = None) -> dict:
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": message.provider_message_id,
        "Recipient": message.recipient,
        "Tag": message.kind,
        "DeliveredAt": stamp(at or timezone.now()),
        "Details": "smtp;250 2.0.0 OK",
        "Metadata": metadata(message),
    }


def bounce(message: Message, *, type_: str = "HardBounce", event_id: int = 901542550) -> dict:
    return {
        "RecordType": "Bounce",
        "ID": event_id,
        "Type": type_,
        "TypeCode": 1,
        "Name": "Hard bounce",
        "MessageID": message.provider_message_id,
        "ServerID": 23,
        "MessageStream": "outbound",
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": message.recipient,
        "From": "orders@example.com",
        "BouncedAt": stamp(timezone.now()),
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": message.subject,
        "Metadata": metadata(message),
    }


def complaint(message: Message) -> dict:
    return {
        **bounce(message, type_="SpamComplaint", event_id=901542777),
        "RecordType": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Details": "Test spam complaint details",
    }


def opened(message: Message, at: datetime) -> dict:
    return {
        "RecordType": "Open",
        "MessageStream": "outbound",
        "FirstOpen": True,
        "Client": {"Name": "Gmail", "Company": "Google", "Family": "Gmail"},
        "OS": {"Name": "unknown", "Company": "unknown", "Family": "unknown"},
        "Platform": "Unknown",
        "UserAgent": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0",
        "ReadSeconds": 0,
        "Geo": {},
        "MessageID": message.provider_message_id,
        "ReceivedAt": stamp(at),
        "Recipient": message.recipient,
        "Metadata": metadata(message),
    }


def clicked(message: Message, at: datetime) -> dict:
    return {
        "RecordType": "Click",
        "MessageStream": "outbound",
        "ClickLocation": "HTML",
        "Platform": "Desktop",
        "UserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_7_5)",
        "OriginalLink": "https://shop.test/track/abc/",
        "MessageID": message.provider_message_id,
        "ReceivedAt": stamp(at),
        "Recipient": message.recipient,
        "Tag": message.kind,
        "Metadata": metadata(message),
    }


def unsubscribe(message: Message) -> dict:
    return {
        "RecordType": "SubscriptionChange",
        "MessageID": message.provider_message_id,
        "ServerID": 23,
        "MessageStream": "outbound",
        "ChangedAt": stamp(timezone.now()),
        "Recipient": message.recipient,
        "Origin": "Recipient",
        "SuppressSending": True,
        "SuppressionReason": "ManualSuppression",
        "Tag": message.kind,
        "Metadata": metadata(message),
    }


def post(client, payload: dict, auth: str | None = SECRET):
    extra = {}
    if auth is not None:
        extra["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return client.post(URL, data=json.dumps(payload), content_type="application/json", **extra)


def history(message: Message) -> list[tuple[str, str]]:
    return list(message.events.values_list("from_status", "to_status"))


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize("auth", [None, "anymail-hook:wrong-password", "someone:else"])
def test_missing_or_wrong_basic_auth_is_rejected_and_changes_nothing(client, sent, auth):
    response = post(client, bounce(sent), auth=auth)

    assert response.status_code == 400
    assert ProviderEvent.objects.count() == 0
    assert Suppression.objects.count() == 0
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT


# --- delivery and failures --------------------------------------------------------------------


def test_delivered_moves_the_message_forward_with_the_providers_time(client, sent):
    at = timezone.now() - timedelta(minutes=3)

    response = post(client, delivery(sent, at))

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == MessageStatus.DELIVERED
    assert abs(sent.delivered_at - at) < timedelta(milliseconds=1)
    assert history(sent)[-1] == ("sent", "delivered")
    event = ProviderEvent.objects.get()
    assert event.provider == "postmark"
    assert event.kind == "delivered"
    assert event.message == sent
    assert event.event_key.startswith("sha256:")  # Postmark gives deliveries no id
    assert event.payload["RecordType"] == "Delivery"


def test_the_same_event_twice_is_stored_once_and_acts_once(client, sent):
    payload = delivery(sent)

    assert post(client, payload).status_code == 200
    assert post(client, payload).status_code == 200

    assert ProviderEvent.objects.count() == 1
    assert history(sent).count(("sent", "delivered")) == 1


def test_a_bounce_is_stored_under_the_providers_event_id(client, sent):
    post(client, bounce(sent))
    post(client, bounce(sent))

    assert list(ProviderEvent.objects.values_list("event_key", flat=True)) == ["901542550"]
    assert Suppression.objects.count() == 1


def test_a_hard_bounce_suppresses_the_address_so_the_next_message_is_not_sent(client, sent):
    post(client, bounce(sent))

    sent.refresh_from_db()
    assert sent.status == MessageStatus.BOUNCED
    assert "unable to deliver" in sent.status_reason
    suppression = Suppression.objects.get()
    assert (suppression.shop_id, suppression.channel) == (sent.shop_id, Channel.EMAIL)
    assert suppression.address == sent.recipient.lower()
    assert suppression.reason == SuppressionReason.HARD_BOUNCE
    assert suppression.source == "postmark"
    next_one = queued(sent.order, kind="shipment_shipped")
    message_send(message_id=next_one.pk)
    next_one.refresh_from_db()
    assert next_one.status == MessageStatus.SUPPRESSED
    assert next_one.status_reason == "recipient suppressed: hard bounce"
    assert len(mail.outbox) == 1


def test_a_bounce_after_delivery_still_bounces(client, sent):
    post(client, delivery(sent))
    post(client, bounce(sent))

    sent.refresh_from_db()
    assert sent.status == MessageStatus.BOUNCED
    assert [to for _, to in history(sent)][-2:] == ["delivered", "bounced"]


def test_a_late_delivery_after_a_bounce_changes_nothing(client, sent):
    post(client, bounce(sent))
    post(client, delivery(sent))

    sent.refresh_from_db()
    assert sent.status == MessageStatus.BOUNCED
    assert sent.delivered_at is None
    assert ProviderEvent.objects.count() == 2


def test_a_soft_bounce_is_a_history_note_only(client, sent):
    post(client, bounce(sent, type_="Transient", event_id=5))

    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT
    assert Suppression.objects.count() == 0
    last = sent.events.last()
    assert (last.from_status, last.to_status) == ("sent", "sent")
    assert last.note.startswith("postmark: deferred")


def test_a_rejected_address_fails_the_message(client, sent):
    post(client, bounce(sent, type_="BadEmailAddress", event_id=6))

    sent.refresh_from_db()
    assert sent.status == MessageStatus.FAILED
    assert sent.status_reason.startswith("postmark: rejected")


def test_an_event_without_our_metadata_is_matched_by_the_providers_message_id(client, sent):
    payload = bounce(sent)
    del payload["Metadata"]

    post(client, payload)

    sent.refresh_from_db()
    assert sent.status == MessageStatus.BOUNCED
    assert ProviderEvent.objects.get().message == sent


def not_ours(payload: dict, **changes: str) -> dict:
    """The payload as it arrives for an email we cannot match: sent before the message log was
    kept, from another system on the same provider account, or its message deleted since."""
    return {**payload, "MessageID": "not-ours", "Metadata": {}, **changes}


def test_a_delivery_for_a_message_we_never_sent_is_kept_and_does_nothing(client, sent):
    assert post(client, not_ours(delivery(sent))).status_code == 200

    assert ProviderEvent.objects.get().message is None
    assert Suppression.objects.count() == 0
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT


def test_an_unmatched_hard_bounce_suppresses_the_address_in_every_shop_that_has_it(client, sent):
    customer = sent.customer
    other = CustomerFactory(email=customer.email.upper())  # another shop, written differently
    stranger = CustomerFactory(shop=customer.shop)

    response = post(client, not_ours(bounce(sent), Email=customer.email.title()))
    post(client, not_ours(bounce(sent), Email=customer.email.title()))  # a retried webhook

    assert response.status_code == 200
    rows = Suppression.objects.order_by("shop_id")
    assert [(s.shop_id, s.channel, s.address) for s in rows] == [
        (customer.shop_id, Channel.EMAIL, customer.email.lower()),
        (other.shop_id, Channel.EMAIL, customer.email.lower()),
    ]
    for suppression in rows:
        assert suppression.reason == SuppressionReason.HARD_BOUNCE
        assert suppression.source == "postmark (unmatched)"
        assert suppression.detail.startswith("hard bounce of an email we could not match")
    assert ProviderEvent.objects.get().message is None
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT  # the event was about some other email
    next_one = queued(sent.order, kind="shipment_shipped")
    message_send(message_id=next_one.pk)
    next_one.refresh_from_db()
    assert next_one.status == MessageStatus.SUPPRESSED
    assert next_one.status_reason == "recipient suppressed: hard bounce"
    assert not Suppression.objects.filter(address=stranger.email).exists()


def test_an_unmatched_spam_complaint_suppresses_the_address_too(client, sent):
    post(client, not_ours(complaint(sent)))

    suppression = Suppression.objects.get()
    assert (suppression.shop_id, suppression.address) == (sent.shop_id, sent.recipient.lower())
    assert suppression.reason == SuppressionReason.COMPLAINT
    assert suppression.detail.startswith("spam complaint about an email we could not match")


@pytest.mark.parametrize("type_", ["SoftBounce", "Transient"])
def test_an_unmatched_soft_bounce_suppresses_nothing(client, sent, type_):
    post(client, not_ours(bounce(sent, type_=type_, event_id=7)))

    assert ProviderEvent.objects.get().message is None
    assert Suppression.objects.count() == 0


def test_an_unmatched_hard_bounce_for_an_address_no_shop_has_suppresses_nothing(client, sent):
    post(client, not_ours(bounce(sent), Email="nobody-we-know@example.net"))

    assert ProviderEvent.objects.count() == 1
    assert Suppression.objects.count() == 0


# --- complaints and unsubscribes --------------------------------------------------------------


def test_a_complaint_suppresses_the_address_and_revokes_marketing_email(client, sent):
    ConsentFactory(customer=sent.customer, channel=Channel.EMAIL, purpose=Purpose.MARKETING)
    post(client, delivery(sent))

    post(client, complaint(sent))

    sent.refresh_from_db()
    assert sent.status == MessageStatus.DELIVERED
    assert Suppression.objects.get().reason == SuppressionReason.COMPLAINT
    consent = Consent.objects.get(customer=sent.customer)
    assert (consent.channel, consent.purpose, consent.status) == (
        Channel.EMAIL,
        Purpose.MARKETING,
        ConsentStatus.REVOKED,
    )
    assert consent.source == "postmark"
    assert sent.events.last().note.startswith("postmark: complained")
    next_one = queued(sent.order, kind="shipment_shipped")
    message_send(message_id=next_one.pk)
    next_one.refresh_from_db()
    assert next_one.status == MessageStatus.SUPPRESSED
    assert next_one.status_reason == "recipient suppressed: spam complaint"


def test_an_unsubscribe_revokes_marketing_email_only(client, sent):
    ConsentFactory(customer=sent.customer, channel=Channel.EMAIL, purpose=Purpose.MARKETING)
    ConsentFactory(customer=sent.customer, channel=Channel.SMS, purpose=Purpose.MARKETING)

    post(client, unsubscribe(sent))

    statuses = dict(Consent.objects.filter(customer=sent.customer).values_list("channel", "status"))
    assert statuses == {Channel.EMAIL: ConsentStatus.REVOKED, Channel.SMS: ConsentStatus.GRANTED}
    assert Suppression.objects.count() == 0
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT


# --- opens and clicks -------------------------------------------------------------------------


def test_opens_and_clicks_keep_the_first_time_whatever_the_order(client, sent):
    first, later = timezone.now() - timedelta(hours=2), timezone.now() - timedelta(hours=1)

    post(client, opened(sent, later))
    post(client, opened(sent, first))
    post(client, clicked(sent, later))
    post(client, opened(sent, later + timedelta(minutes=5)))

    sent.refresh_from_db()
    assert abs(sent.opened_at - first) < timedelta(milliseconds=1)
    assert abs(sent.clicked_at - later) < timedelta(milliseconds=1)
    assert sent.status == MessageStatus.SENT
    assert ProviderEvent.objects.count() == 4


def test_a_click_without_a_reported_open_counts_as_an_open(client, sent):
    at = timezone.now() - timedelta(minutes=1)

    post(client, clicked(sent, at))

    sent.refresh_from_db()
    assert sent.opened_at == sent.clicked_at
    assert abs(sent.clicked_at - at) < timedelta(milliseconds=1)


def test_tracking_writes_no_history_for_opens(client, sent):
    before = MessageEvent.objects.count()

    post(client, opened(sent, timezone.now()))

    assert MessageEvent.objects.count() == before


def test_postmarks_soft_bounce_reported_as_bounced_suppresses_nothing(client, sent):
    # anymail maps Postmark's SoftBounce onto `bounced`; the provider retries it.
    post(client, bounce(sent, type_="SoftBounce", event_id=6))

    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT
    assert Suppression.objects.count() == 0
    assert sent.events.last().note.startswith("soft bounce, the provider retries")


# --- settling a held message ------------------------------------------------------------------


def slow_answer(request: Request) -> Response:
    time.sleep(0.5)
    return Response("{}", status=200, content_type="application/json")


@pytest.fixture
def held(settings, httpserver) -> Message:
    """An email whose send timed out after Postmark may have taken it: held for review, with no
    provider id, only its Message-ID and the metadata Postmark echoes in its events."""
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "POSTMARK_SERVER_TOKEN": "fake-server-token",
        "POSTMARK_API_URL": httpserver.url_for("/"),
    }
    settings.NOTIFICATIONS_EMAIL_TIMEOUT = 0.2
    httpserver.expect_request("/email").respond_with_handler(slow_answer)
    message = queued(OrderFactory())
    assert message_send(message_id=message.pk) == MessageStatus.HELD
    message.refresh_from_db()
    assert message.email_message_id
    assert not message.provider_message_id
    return message


def postmark_knows(message: Message) -> Message:
    """The message as Postmark's events name it: by Postmark's own id, unknown to us."""
    message.provider_message_id = "0a129aee-e1cd-480d-b08d-4f48548ff48d"
    return message


def test_a_delivery_event_settles_a_held_email_as_delivered(client, held):
    at = timezone.now()

    assert post(client, delivery(postmark_knows(held), at)).status_code == 200

    held.refresh_from_db()
    assert held.status == MessageStatus.DELIVERED
    assert held.delivered_at == at
    assert held.sent_at == held.sending_at  # it left with that attempt
    assert (held.provider, held.provider_message_id) == (
        "postmark",
        "0a129aee-e1cd-480d-b08d-4f48548ff48d",
    )
    assert history(held)[-1] == ("held", "delivered")


def test_a_bounce_settles_a_held_email_as_bounced_and_suppresses(client, held):
    assert post(client, bounce(postmark_knows(held))).status_code == 200

    held.refresh_from_db()
    assert held.status == MessageStatus.BOUNCED
    assert held.provider_message_id == "0a129aee-e1cd-480d-b08d-4f48548ff48d"
    assert history(held)[-1] == ("held", "bounced")
    assert Suppression.objects.get().reason == SuppressionReason.HARD_BOUNCE
