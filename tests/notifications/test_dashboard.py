"""The messaging dashboard: message log and message page, actions, flow settings, suppression
list, customer timeline and rates per flow, all scoped to the staff member's shop."""

import html
import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.engine.kinds import flows_ensure_defaults
from notifications.models import (
    AttemptOutcome,
    DeliveryAttempt,
    Flow,
    InboundMessage,
    Message,
    MessageEvent,
    MessageStatus,
    ProviderEvent,
    Suppression,
    SuppressionReason,
)
from notifications.selectors import flow_rates
from notifications.tasks import messages_send_batch_task
from orders.models import Purpose, StaffRole
from tests.factories import (
    ConsentFactory,
    CustomerFactory,
    OrderFactory,
    StaffMembershipFactory,
)
from tests.html_dom import parse

pytestmark = pytest.mark.django_db

_keys = itertools.count()
LOG_URL = reverse("messaging:message_list")
FLOWS_URL = reverse("messaging:flow_list")
SUPPRESSIONS_URL = reverse("messaging:suppression_list")
OVERVIEW_URL = reverse("messaging:overview")
CUSTOMERS_URL = reverse("messaging:customer_list")


def _message(shop, *, customer=None, order=None, created_at=None, **fields) -> Message:
    """A message row as the outbox writes it; `created_at` backdates it (set on insert)."""
    values = {
        "kind": "order_confirmation",
        "channel": "email",
        "purpose": Purpose.TRANSACTIONAL,
        "recipient": customer.email if customer else "someone@example.org",
        "about_type": "order",
        "about_id": order.pk if order else 0,
        "send_at": timezone.now(),
        "status": MessageStatus.SCHEDULED,
    }
    values.update(fields)
    message = Message.objects.create(
        shop=shop, customer=customer, order=order, dedupe_key=f"test:{next(_keys)}", **values
    )
    if created_at is not None:
        Message.objects.filter(pk=message.pk).update(created_at=created_at)
        message.created_at = created_at
    return message


def _ids(response) -> list[int]:
    return [message.pk for message in response.context["messages_page"]]


def _notices(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def sent_chunks(monkeypatch) -> list[list[int]]:
    chunks: list[list[int]] = []
    monkeypatch.setattr(messages_send_batch_task, "delay", chunks.append)
    return chunks


@pytest.fixture
def agent_client(client, shop):
    client.force_login(StaffMembershipFactory(shop=shop, role=StaffRole.AGENT).user)
    return client


# Access ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        OVERVIEW_URL,
        LOG_URL,
        reverse("messaging:message_detail", args=[1]),
        FLOWS_URL,
        reverse("messaging:flow_edit", args=[1]),
        SUPPRESSIONS_URL,
        CUSTOMERS_URL,
        reverse("messaging:customer_detail", args=[1]),
    ],
)
def test_pages_redirect_anonymous_visitors_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize(
    ("url", "data"),
    [
        (reverse("messaging:message_action", args=[1, "cancel"]), {}),
        (reverse("messaging:suppression_remove", args=[1]), {}),
        (SUPPRESSIONS_URL, {"channel": "email", "address": "a@example.org"}),
    ],
)
def test_actions_redirect_anonymous_visitors_to_login_and_change_nothing(client, url, data):
    response = client.post(url, data)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not Suppression.objects.exists()


def test_nav_links_to_messages_and_customers(staff_client):
    response = staff_client.get(OVERVIEW_URL)

    assert f'href="{OVERVIEW_URL}" aria-current="page"'.encode() in response.content
    assert f'href="{CUSTOMERS_URL}"'.encode() in response.content


# Message log ---------------------------------------------------------------------------------


def test_log_lists_only_this_shops_messages_newest_first(staff_client, shop, other_shop):
    now = timezone.now()
    older = _message(shop, created_at=now - timedelta(hours=2))
    newer = _message(shop, created_at=now - timedelta(hours=1))
    _message(other_shop)

    response = staff_client.get(LOG_URL)

    assert response.status_code == 200
    assert _ids(response) == [newer.pk, older.pk]


def test_log_filters_by_kind_channel_and_state(staff_client, shop):
    wanted = _message(shop, kind="shipment_delivered", channel="sms", status=MessageStatus.SENT)
    _message(shop, kind="order_confirmation", channel="sms", status=MessageStatus.SENT)
    _message(shop, kind="shipment_delivered", channel="email", status=MessageStatus.SENT)
    _message(shop, kind="shipment_delivered", channel="sms", status=MessageStatus.FAILED)

    assert len(_ids(staff_client.get(LOG_URL, {"kind": "shipment_delivered"}))) == 3
    assert len(_ids(staff_client.get(LOG_URL, {"channel": "sms"}))) == 3
    assert len(_ids(staff_client.get(LOG_URL, {"state": "sent"}))) == 3
    response = staff_client.get(
        LOG_URL, {"kind": "shipment_delivered", "channel": "sms", "state": "sent"}
    )
    assert _ids(response) == [wanted.pk]


def test_log_filters_by_a_kind_that_has_no_flow(staff_client, shop):
    wanted = _message(shop, kind="winback_offer")
    _message(shop)

    response = staff_client.get(LOG_URL, {"kind": "winback_offer"})

    assert _ids(response) == [wanted.pk]
    assert not response.context["form"].errors


@pytest.mark.parametrize("query", ["ada.lovelace@", "+1415555", "Lovelace", "ada lovelace"])
def test_log_finds_a_customer_by_email_phone_or_name(staff_client, shop, query):
    customer = CustomerFactory(
        shop=shop,
        email="ada.lovelace@example.org",
        phone="+14155550123",
        first_name="Ada",
        last_name="Lovelace",
    )
    wanted = _message(shop, customer=customer)
    _message(shop, customer=CustomerFactory(shop=shop, first_name="Grace", last_name="Hopper"))

    assert _ids(staff_client.get(LOG_URL, {"q": query})) == [wanted.pk]


def test_log_finds_by_recipient_without_a_customer(staff_client, shop):
    wanted = _message(shop, recipient="guest@example.org")
    _message(shop, recipient="other@example.org")

    assert _ids(staff_client.get(LOG_URL, {"q": "guest@"})) == [wanted.pk]


@pytest.mark.parametrize("number", ["#1234", "1234"])
def test_log_filters_by_order_number(staff_client, shop, number):
    order = OrderFactory(shop=shop, number="#1234")
    wanted = _message(shop, order=order, customer=order.customer)
    _message(shop, order=OrderFactory(shop=shop, number="#1235"))

    assert _ids(staff_client.get(LOG_URL, {"order": number})) == [wanted.pk]


def test_log_filters_by_customer_and_names_them(staff_client, shop):
    customer = CustomerFactory(shop=shop)
    wanted = _message(shop, customer=customer)
    _message(shop, customer=CustomerFactory(shop=shop))

    response = staff_client.get(LOG_URL, {"customer": customer.pk})

    assert _ids(response) == [wanted.pk]
    assert response.context["filter_customer"] == customer


def test_log_filter_naming_another_shops_customer_matches_nothing(staff_client, shop, other_shop):
    stranger = CustomerFactory(shop=other_shop)
    _message(other_shop, customer=stranger)
    _message(shop)

    response = staff_client.get(LOG_URL, {"customer": stranger.pk})

    assert _ids(response) == []
    assert response.context["filter_customer"] is None


def test_log_date_range_is_whole_days_in_the_shops_zone(staff_client, shop):
    # 03:00 UTC on March 10 is still March 9 in New York, the shop's zone.
    late_on_the_9th = _message(shop, created_at=datetime(2026, 3, 10, 3, 0, tzinfo=UTC))
    on_the_10th = _message(shop, created_at=datetime(2026, 3, 10, 15, 0, tzinfo=UTC))
    _message(shop, created_at=datetime(2026, 3, 12, 15, 0, tzinfo=UTC))

    on_9 = staff_client.get(LOG_URL, {"created_from": "2026-03-09", "created_to": "2026-03-09"})
    from_10 = staff_client.get(LOG_URL, {"created_from": "2026-03-10", "created_to": "2026-03-11"})

    assert _ids(on_9) == [late_on_the_9th.pk]
    assert _ids(from_10) == [on_the_10th.pk]


def test_log_reports_a_reversed_date_range_and_ignores_it(staff_client, shop):
    message = _message(shop)

    response = staff_client.get(LOG_URL, {"created_from": "2026-03-10", "created_to": "2026-03-01"})

    assert _ids(response) == [message.pk]
    assert b"The end date is before the start date." in response.content


def test_log_counts_each_state_under_the_other_filters(staff_client, shop):
    for status in ["sent", "sent", "failed", "scheduled"]:
        _message(shop, status=status, channel="email")
    _message(shop, status="sent", channel="sms")

    response = staff_client.get(LOG_URL, {"channel": "email", "state": "failed"})

    chips = {state: count for state, _, count in response.context["state_chips"]}
    assert chips["sent"] == 2
    assert chips["failed"] == 1
    assert chips["scheduled"] == 1
    assert chips["delivered"] == 0
    assert response.context["total"] == 4
    assert b'aria-current="true">Failed' in response.content


def test_log_row_shows_time_in_the_shops_zone_kind_channel_recipient_state_and_attempts(
    staff_client, shop
):
    customer = CustomerFactory(shop=shop, first_name="Ada", last_name="Lovelace")
    _message(
        shop,
        customer=customer,
        kind="shipment_shipped",
        channel="sms",
        recipient="+14155550123",
        status=MessageStatus.FAILED,
        status_reason="twilio: undelivered (error 30003)",
        attempt_count=3,
        sent_at=datetime(2026, 1, 15, 17, 30, tzinfo=UTC),
    )

    html = staff_client.get(LOG_URL).content.decode()

    assert "Jan 15, 2026, 12:30" in html  # 17:30 UTC is 12:30 in New York
    for text in ["shipment_shipped", "SMS", "+14155550123", "Ada Lovelace", "Failed"]:
        assert text in html
    assert "twilio: undelivered (error 30003)" in html
    assert '<td data-label="Attempts" class="num">3</td>' in html


def test_log_paginates_by_fifty(staff_client, shop):
    start = timezone.now()
    rows = [_message(shop, created_at=start - timedelta(minutes=i)) for i in range(51)]

    first = staff_client.get(LOG_URL)
    second = staff_client.get(LOG_URL, {"page": 2})

    assert _ids(first) == [m.pk for m in rows[:50]]
    assert _ids(second) == [rows[50].pk]
    assert b"page 2 of 2" in second.content


def test_log_answers_htmx_with_the_rows_only(staff_client, shop):
    _message(shop, kind="shipment_delivered")

    response = staff_client.get(LOG_URL, {"kind": "shipment_delivered"}, HTTP_HX_REQUEST="true")

    assert b"<html" not in response.content
    assert b"shipment_delivered" in response.content
    assert "HX-Request" in response["Vary"]


def test_log_empty_states(staff_client, shop):
    assert b"No messages yet" in staff_client.get(LOG_URL).content
    _message(shop)
    assert b"No messages match" in staff_client.get(LOG_URL, {"state": "failed"}).content


def _count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


def test_log_queries_do_not_grow_with_the_rows(staff_client, shop, django_assert_max_num_queries):
    customer = CustomerFactory(shop=shop)
    order = OrderFactory(shop=shop, customer=customer)
    _message(shop, customer=customer, order=order)
    few = _count_queries(staff_client, LOG_URL)
    for i in range(60):
        c = CustomerFactory(shop=shop)
        _message(shop, customer=c, order=OrderFactory(shop=shop, customer=c), about_id=i)

    many = _count_queries(staff_client, LOG_URL, {"q": "example.org"})

    assert many == few
    with django_assert_max_num_queries(10):
        staff_client.get(LOG_URL, {"page": 2})


# Message page --------------------------------------------------------------------------------


def test_message_page_shows_content_history_attempts_and_provider(staff_client, shop, staff):
    order = OrderFactory(shop=shop)
    message = _message(
        shop,
        customer=order.customer,
        order=order,
        status=MessageStatus.DELIVERED,
        subject="Your order #1001 is confirmed",
        body_text="Thanks for your order.",
        body_html='<html><head><title>x</title></head><body><img src="https://t.example/p.gif">'
        "<p>Thanks &amp; welcome</p></body></html>",
        provider="anymail",
        provider_message_id="esp-123",
        opened_at=datetime(2026, 1, 15, 18, 0, tzinfo=UTC),
    )
    MessageEvent.objects.create(message=message, from_status="scheduled", to_status="queued")
    MessageEvent.objects.create(
        message=message, from_status="queued", to_status="sending", note="claimed", actor=staff
    )
    DeliveryAttempt.objects.create(
        message=message,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        outcome=AttemptOutcome.TRANSIENT,
        error="429 Too Many Requests",
    )

    response = staff_client.get(reverse("messaging:message_detail", args=[message.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Your order #1001 is confirmed" in html
    assert "Thanks for your order." in html
    # The HTML is shown in a sandboxed frame, as its own document with remote content blocked.
    frame_url = reverse("messaging:message_email", args=[message.pk])
    assert f'sandbox referrerpolicy="no-referrer" src="{frame_url}"' in html
    assert "<p>Thanks" not in html
    frame = staff_client.get(frame_url)
    assert frame.status_code == 200
    assert "<p>Thanks &amp; welcome</p>" in frame.content.decode()
    assert '<meta http-equiv="Content-Security-Policy"' in frame.content.decode()
    policy = frame["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in policy
    assert "img-src data:" in policy
    assert "frame-ancestors 'self'" in policy
    assert "sandbox" in policy
    assert "script-src" not in policy  # default-src 'none': no script at all
    assert "Scheduled → Queued" in html
    assert "Queued → Sending" in html
    assert "claimed" in html
    assert "429 Too Many Requests" in html
    assert "esp-123" in html
    assert "Jan 15, 2026, 13:00" in html  # opened, in the shop's zone
    assert reverse("dashboard:order_detail", args=[order.pk]) in html
    assert reverse("messaging:customer_detail", args=[order.customer.pk]) in html


def test_the_email_frame_of_another_shops_message_or_a_text_is_404(staff_client, shop, other_shop):
    theirs = _message(other_shop, body_html="<p>Secret</p>")
    text = _message(shop, channel="sms", recipient="+14155550123", body_text="Shipped")

    for message in (theirs, text):
        url = reverse("messaging:message_email", args=[message.pk])
        assert staff_client.get(url).status_code == 404


def test_message_page_of_an_sms_shows_its_text_and_no_frame(staff_client, shop):
    message = _message(shop, channel="sms", recipient="+14155550123", body_text="Shop 3: shipped")

    html = staff_client.get(reverse("messaging:message_detail", args=[message.pk])).content

    assert b"Shop 3: shipped" in html
    assert b"<iframe" not in html


def test_message_page_of_another_shop_is_404(staff_client, other_shop):
    message = _message(other_shop)

    response = staff_client.get(reverse("messaging:message_detail", args=[message.pk]))

    assert response.status_code == 404


def test_message_page_offers_the_actions_of_its_state(staff_client, shop):
    scheduled = _message(shop)
    failed = _message(shop, status=MessageStatus.FAILED)
    sent = _message(shop, status=MessageStatus.SENT)

    def offered(message):
        html = staff_client.get(reverse("messaging:message_detail", args=[message.pk])).content
        return [
            slug
            for slug in ("send-now", "cancel", "retry")
            if reverse("messaging:message_action", args=[message.pk, slug]).encode() in html
        ]

    assert offered(scheduled) == ["send-now", "cancel"]
    assert offered(failed) == ["retry"]
    assert offered(sent) == []


def test_message_page_queries_are_bounded(staff_client, shop, django_assert_max_num_queries):
    message = _message(shop, status=MessageStatus.SENT)
    for _ in range(20):
        MessageEvent.objects.create(message=message, from_status="a", to_status="b")
        DeliveryAttempt.objects.create(
            message=message,
            started_at=timezone.now(),
            finished_at=timezone.now(),
            outcome=AttemptOutcome.TRANSIENT,
        )

    for n in range(20):
        ProviderEvent.objects.create(
            provider="twilio", event_key=f"SM{n}", message=message, kind="status", payload={}
        )

    with django_assert_max_num_queries(9):
        staff_client.get(reverse("messaging:message_detail", args=[message.pk]))


# Actions ---------------------------------------------------------------------------------------


def _act(client, message, action, *, capture):
    url = reverse("messaging:message_action", args=[message.pk, action])
    with capture(execute=True):
        return client.post(url)


def test_send_now_queues_the_message_and_hands_it_to_a_worker(
    staff_client, shop, staff, sent_chunks, django_capture_on_commit_callbacks
):
    message = _message(shop, send_at=timezone.now() + timedelta(days=2))

    response = _act(staff_client, message, "send-now", capture=django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response.url == reverse("messaging:message_detail", args=[message.pk])
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert sent_chunks == [[message.pk]]
    assert message.events.get().actor == staff
    assert _notices(response) == ["The message is on its way."]


def test_cancel_cancels_a_scheduled_message(
    staff_client, shop, sent_chunks, django_capture_on_commit_callbacks
):
    message = _message(shop)

    response = _act(staff_client, message, "cancel", capture=django_capture_on_commit_callbacks)

    message.refresh_from_db()
    assert message.status == MessageStatus.CANCELLED
    assert message.status_reason == "cancelled by staff"
    assert _notices(response) == ["The message was cancelled."]
    assert sent_chunks == []


def test_retry_queues_a_failed_message_again(
    staff_client, shop, sent_chunks, django_capture_on_commit_callbacks
):
    message = _message(shop, status=MessageStatus.FAILED)

    _act(staff_client, message, "retry", capture=django_capture_on_commit_callbacks)

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert sent_chunks == [[message.pk]]


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (MessageStatus.SCHEDULED, "retry"),
        (MessageStatus.SENT, "cancel"),
        (MessageStatus.FAILED, "send-now"),
        (MessageStatus.DELIVERED, "retry"),
    ],
)
def test_an_illegal_action_shows_the_refusal_and_changes_nothing(
    staff_client, shop, sent_chunks, django_capture_on_commit_callbacks, status, action
):
    message = _message(shop, status=status)

    response = _act(staff_client, message, action, capture=django_capture_on_commit_callbacks)

    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == status
    assert not message.events.exists()
    assert sent_chunks == []
    (notice,) = _notices(response)
    assert "refused" in notice
    page = staff_client.get(response.url)
    assert b"notice--error" in page.content


def test_an_action_on_another_shops_message_is_404_and_changes_nothing(staff_client, other_shop):
    message = _message(other_shop)

    response = staff_client.post(reverse("messaging:message_action", args=[message.pk, "cancel"]))

    assert response.status_code == 404
    message.refresh_from_db()
    assert message.status == MessageStatus.SCHEDULED


def test_an_unknown_action_is_404_and_a_get_only_shows_the_actions_page(staff_client, shop):
    message = _message(shop)

    unknown = staff_client.post(reverse("messaging:message_action", args=[message.pk, "delete"]))
    get = staff_client.get(reverse("messaging:message_action", args=[message.pk, "cancel"]))

    assert unknown.status_code == 404
    assert get.status_code == 200
    assert b'method="post"' in get.content
    message.refresh_from_db()
    assert message.status == MessageStatus.SCHEDULED


def test_an_action_needs_the_csrf_token(shop, staff):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    message = _message(shop)

    response = client.post(reverse("messaging:message_action", args=[message.pk, "cancel"]))

    assert response.status_code == 403
    message.refresh_from_db()
    assert message.status == MessageStatus.SCHEDULED


# Flow settings ---------------------------------------------------------------------------------


def _flow_url(flow: Flow) -> str:
    return reverse("messaging:flow_edit", args=[flow.pk])


def _flow_form(**overrides) -> dict:
    data = {
        "is_enabled": "on",
        "channels": ["sms", "email"],
        "delay_amount": "2",
        "delay_unit": "hours",
        "useful_amount": "3",
        "useful_unit": "days",
    }
    data.update(overrides)
    return data


def test_flow_list_creates_and_shows_the_default_flows(staff_client, shop):
    response = staff_client.get(FLOWS_URL)

    kinds = [flow.kind for flow, *_ in response.context["flows"]]
    assert kinds[:2] == ["order_confirmation", "shipment_shipped"]
    assert set(kinds) == set(Flow.objects.filter(shop=shop).values_list("kind", flat=True))
    html = response.content.decode()
    assert "Transactional" in html
    assert "email, sms" in html
    assert "at once" in html
    assert "1 day" in html  # order confirmation is useful for a day


def test_flow_edit_saves_only_that_shops_flow(staff_client, shop, other_shop):
    staff_client.get(FLOWS_URL)
    flow = Flow.objects.get(shop=shop, kind="shipment_delivered")
    from notifications.engine.kinds import flows_ensure_defaults

    flows_ensure_defaults(shop_id=other_shop.pk)
    theirs = Flow.objects.get(shop=other_shop, kind="shipment_delivered")

    response = staff_client.post(
        _flow_url(flow), _flow_form(is_enabled="", channels=["whatsapp", "email"])
    )

    assert response.status_code == 302
    assert response.url == FLOWS_URL
    flow.refresh_from_db()
    assert flow.is_enabled is False
    assert flow.channels == ["email", "whatsapp"]  # kept in the product's channel order
    assert flow.delay == timedelta(hours=2)
    assert flow.useful_for == timedelta(days=3)
    theirs.refresh_from_db()
    assert theirs.is_enabled is True
    assert theirs.channels == ["email", "sms"]


def test_flow_edit_form_shows_the_current_values(staff_client, shop):
    staff_client.get(FLOWS_URL)
    flow = Flow.objects.get(shop=shop, kind="shipment_out_for_delivery")

    response = staff_client.get(_flow_url(flow))

    form = response.context["form"]
    assert form["useful_amount"].value() == 8
    assert form["useful_unit"].value() == "hours"
    assert form["delay_amount"].value() == 0


def test_flow_edit_keeps_a_delay_in_minutes(staff_client, shop):
    staff_client.get(FLOWS_URL)
    flow = Flow.objects.get(shop=shop, kind="order_confirmation")
    Flow.objects.filter(pk=flow.pk).update(delay=timedelta(minutes=90))

    form = staff_client.get(_flow_url(flow)).context["form"]
    staff_client.post(_flow_url(flow), _flow_form(delay_amount="45", delay_unit="minutes"))

    assert (form["delay_amount"].value(), form["delay_unit"].value()) == (90, "minutes")
    flow.refresh_from_db()
    assert flow.delay == timedelta(minutes=45)
    assert b"45 minutes" in staff_client.get(FLOWS_URL).content


def test_flow_edit_can_clear_the_useful_for_limit(staff_client, shop):
    staff_client.get(FLOWS_URL)
    flow = Flow.objects.get(shop=shop, kind="order_confirmation")

    staff_client.post(_flow_url(flow), _flow_form(useful_amount=""))

    flow.refresh_from_db()
    assert flow.useful_for is None


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"delay_amount": "-1"}, b"greater than or equal to 0"),
        ({"delay_amount": "soon"}, b"Enter a whole number"),
        ({"delay_amount": "400", "delay_unit": "days"}, b"at most 365 days"),
        ({"useful_amount": "0"}, b"greater than or equal to 1"),
        ({"channels": []}, b"Choose at least one channel"),
        ({"channels": ["pigeon"]}, b"Select a valid choice"),
        ({"delay_unit": "weeks"}, b"Select a valid choice"),
    ],
)
def test_flow_edit_rejects_bad_input_and_changes_nothing(staff_client, shop, overrides, error):
    staff_client.get(FLOWS_URL)
    flow = Flow.objects.get(shop=shop, kind="order_confirmation")
    before = (flow.is_enabled, flow.channels, flow.delay, flow.useful_for, flow.updated_at)

    response = staff_client.post(_flow_url(flow), _flow_form(**overrides))

    assert response.status_code == 400
    assert error in response.content
    flow.refresh_from_db()
    assert (flow.is_enabled, flow.channels, flow.delay, flow.useful_for, flow.updated_at) == before


def test_another_shops_flow_is_404_and_unchanged(staff_client, other_shop):
    from notifications.engine.kinds import flows_ensure_defaults

    flows_ensure_defaults(shop_id=other_shop.pk)
    theirs = Flow.objects.get(shop=other_shop, kind="order_confirmation")

    assert staff_client.get(_flow_url(theirs)).status_code == 404
    assert staff_client.post(_flow_url(theirs), _flow_form(is_enabled="")).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_enabled is True


def test_flow_pages_link_to_the_template_editor_once_it_exists(staff_client, shop, settings):
    staff_client.get(FLOWS_URL)
    flow = Flow.objects.get(shop=shop, kind="order_confirmation")
    settings.ROOT_URLCONF = "tests.notifications.template_editor_urls"

    listing = staff_client.get(FLOWS_URL).content.decode()
    edit = staff_client.get(_flow_url(flow)).content.decode()

    assert 'href="/dashboard/messages/templates/order_confirmation/"' in listing
    assert 'href="/dashboard/messages/templates/"' in listing
    assert 'href="/dashboard/messages/templates/order_confirmation/"' in edit
    overview = staff_client.get(OVERVIEW_URL).content.decode()
    assert '<a href="/dashboard/messages/templates/">Templates</a>' in overview


def test_flow_pages_work_without_the_template_editor(staff_client, shop, settings):
    settings.ROOT_URLCONF = "tests.notifications.no_template_editor_urls"

    response = staff_client.get(FLOWS_URL)

    assert response.status_code == 200
    assert b"/templates/" not in response.content
    assert b">Templates</a>" not in staff_client.get(OVERVIEW_URL).content


# Suppression list ------------------------------------------------------------------------------


def _suppress(shop, address, *, channel="email", reason=SuppressionReason.HARD_BOUNCE, **kw):
    return Suppression.objects.create(
        shop=shop, channel=channel, address=address, reason=reason, **kw
    )


def test_suppression_list_shows_this_shops_addresses_with_reason_and_source(
    staff_client, shop, other_shop
):
    _suppress(shop, "bounced@example.org", source="anymail", detail="550 mailbox unavailable")
    _suppress(other_shop, "theirs@example.org")

    html = staff_client.get(SUPPRESSIONS_URL).content.decode()

    assert "bounced@example.org" in html
    assert "Hard bounce" in html
    assert "anymail" in html
    assert "550 mailbox unavailable" in html
    assert "theirs@example.org" not in html


def test_suppression_list_search_and_channel_filter(staff_client, shop):
    _suppress(shop, "ada@example.org")
    _suppress(shop, "+14155550123", channel="sms", reason=SuppressionReason.STOP)

    found = staff_client.get(SUPPRESSIONS_URL, {"q": "ada@"})
    texts = staff_client.get(SUPPRESSIONS_URL, {"channel": "sms"})

    assert [s.address for s in found.context["suppressions"]] == ["ada@example.org"]
    assert [s.address for s in texts.context["suppressions"]] == ["+14155550123"]


@pytest.mark.parametrize(
    ("channel", "address", "stored"),
    [
        ("email", "  Ada@Example.org ", "ada@example.org"),
        ("sms", "+14155550123", "+14155550123"),
        ("whatsapp", "+447911123456", "+447911123456"),
    ],
)
def test_staff_add_an_address_by_hand(staff_client, shop, staff, channel, address, stored):
    response = staff_client.post(SUPPRESSIONS_URL, {"channel": channel, "address": address})

    assert response.status_code == 302
    suppression = Suppression.objects.get(shop=shop)
    assert (suppression.channel, suppression.address) == (channel, stored)
    assert suppression.reason == SuppressionReason.MANUAL
    assert suppression.get_reason_display() == "Added by staff"
    assert suppression.detail == f"added by {staff.get_username()}"


def test_adding_an_address_already_suppressed_keeps_its_first_reason(staff_client, shop):
    _suppress(shop, "ada@example.org", reason=SuppressionReason.COMPLAINT)

    response = staff_client.post(
        SUPPRESSIONS_URL, {"channel": "email", "address": "ada@example.org"}
    )

    assert Suppression.objects.get().reason == SuppressionReason.COMPLAINT
    assert _notices(response) == ["ada@example.org was already suppressed (spam complaint)."]


@pytest.mark.parametrize(
    ("channel", "address"),
    [
        ("email", "not-an-email"),
        ("email", "+14155550123"),
        ("sms", "ada@example.org"),
        ("sms", "4155550123"),
        ("whatsapp", "+1415"),
        ("pigeon", "ada@example.org"),
        ("email", ""),
    ],
)
def test_adding_an_invalid_address_is_rejected_and_changes_nothing(
    staff_client, shop, channel, address
):
    response = staff_client.post(SUPPRESSIONS_URL, {"channel": channel, "address": address})

    assert response.status_code == 400
    assert b"field__error" in response.content
    assert not Suppression.objects.exists()


def test_a_manager_removes_an_address(staff_client, shop):
    suppression = _suppress(shop, "ada@example.org")

    response = staff_client.post(reverse("messaging:suppression_remove", args=[suppression.pk]))

    assert response.status_code == 302
    assert not Suppression.objects.exists()
    assert _notices(response) == ["ada@example.org may receive messages again."]


def test_an_owner_removes_an_address(client, shop):
    client.force_login(StaffMembershipFactory(shop=shop, role=StaffRole.OWNER).user)
    suppression = _suppress(shop, "ada@example.org")

    client.post(reverse("messaging:suppression_remove", args=[suppression.pk]))

    assert not Suppression.objects.exists()


def test_an_agent_sees_the_list_but_cannot_remove(agent_client, shop):
    suppression = _suppress(shop, "ada@example.org")

    page = agent_client.get(SUPPRESSIONS_URL)
    response = agent_client.post(reverse("messaging:suppression_remove", args=[suppression.pk]))

    assert b"ada@example.org" in page.content
    assert reverse("messaging:suppression_remove", args=[suppression.pk]).encode() not in (
        page.content
    )
    assert response.status_code == 403
    assert Suppression.objects.filter(pk=suppression.pk).exists()


def test_removing_another_shops_address_is_404(staff_client, other_shop):
    suppression = _suppress(other_shop, "ada@example.org")

    response = staff_client.post(reverse("messaging:suppression_remove", args=[suppression.pk]))

    assert response.status_code == 404
    assert Suppression.objects.filter(pk=suppression.pk).exists()


def test_suppression_list_queries_are_bounded(staff_client, shop, django_assert_max_num_queries):
    for i in range(60):
        _suppress(shop, f"a{i}@example.org")

    with django_assert_max_num_queries(9):
        staff_client.get(SUPPRESSIONS_URL)


# Customers -------------------------------------------------------------------------------------


def test_customer_list_searches_this_shops_customers(staff_client, shop, other_shop):
    ada = CustomerFactory(shop=shop, first_name="Ada", last_name="Lovelace")
    CustomerFactory(shop=shop, first_name="Grace", last_name="Hopper")
    CustomerFactory(shop=other_shop, first_name="Ada", last_name="Other")
    _message(shop, customer=ada)
    _message(shop, customer=ada)

    response = staff_client.get(CUSTOMERS_URL, {"q": "ada"})

    assert list(response.context["customers"]) == [ada]
    assert response.context["customers"][0].message_count == 2


def test_customer_timeline_interleaves_messages_replies_and_orders_newest_first(staff_client, shop):
    customer = CustomerFactory(shop=shop, phone="+14155550123")
    t0 = timezone.now() - timedelta(days=2)
    order = OrderFactory(shop=shop, customer=customer, placed_at=t0)
    confirmation = _message(
        shop,
        customer=customer,
        order=order,
        kind="order_confirmation",
        send_at=t0 + timedelta(minutes=1),
        sent_at=t0 + timedelta(minutes=2),
        status=MessageStatus.SENT,
    )
    reply = InboundMessage.objects.create(
        shop=shop,
        customer=customer,
        channel="sms",
        sender="+14155550123",
        body="Can you leave it with the neighbour?",
        provider_message_id="SM1",
    )
    InboundMessage.objects.filter(pk=reply.pk).update(received_at=t0 + timedelta(hours=1))
    shipped = _message(
        shop,
        customer=customer,
        order=order,
        kind="shipment_shipped",
        channel="sms",
        send_at=t0 + timedelta(hours=5),
    )
    InboundMessage.objects.create(
        shop=shop,
        customer=CustomerFactory(shop=shop),
        channel="sms",
        sender="+1",
        body="x",
        provider_message_id="SM2",
    )

    response = staff_client.get(reverse("messaging:customer_detail", args=[customer.pk]))

    timeline = response.context["timeline"]
    assert [(e.type, (e.message or e.reply or e.order).pk) for e in timeline] == [
        ("message", shipped.pk),
        ("reply", reply.pk),
        ("message", confirmation.pk),
        ("order", order.pk),
    ]
    html = response.content.decode()
    assert "Can you leave it with the neighbour?" in html
    assert (
        html.index("Shipment shipped") < html.index("neighbour") < html.index("Order confirmation")
    )


def test_customer_timeline_shows_consent_per_channel_and_purpose_and_suppressions(
    staff_client, shop
):
    customer = CustomerFactory(shop=shop, email="ada@example.org", phone="+14155550123")
    ConsentFactory(customer=customer, channel="sms", purpose=Purpose.MARKETING, status="revoked")
    ConsentFactory(customer=customer, channel="sms", purpose=Purpose.TRANSACTIONAL)
    _suppress(shop, "+14155550123", channel="sms", reason=SuppressionReason.STOP)
    _suppress(shop, "someone.else@example.org")

    response = staff_client.get(reverse("messaging:customer_detail", args=[customer.pk]))

    cells = {(c.channel, c.purpose): c.status for c in response.context["consents"]}
    assert cells[("SMS", "Marketing")] == "Revoked"
    assert cells[("SMS", "Transactional")] == "Granted"
    assert cells[("Email", "Marketing")] == "Not recorded"
    assert len(cells) == 6
    assert [s.address for s in response.context["suppressions"]] == ["+14155550123"]
    assert b"Replied STOP" in response.content


def test_another_shops_customer_is_404(staff_client, other_shop):
    stranger = CustomerFactory(shop=other_shop)

    response = staff_client.get(reverse("messaging:customer_detail", args=[stranger.pk]))

    assert response.status_code == 404


def test_customer_pages_queries_are_bounded(staff_client, shop, django_assert_max_num_queries):
    customer = CustomerFactory(shop=shop)
    for i in range(30):
        order = OrderFactory(shop=shop, customer=customer)
        _message(shop, customer=customer, order=order, about_id=i)
        InboundMessage.objects.create(
            shop=shop, customer=customer, channel="sms", sender="+1", provider_message_id=f"S{i}"
        )
        CustomerFactory(shop=shop)

    with django_assert_max_num_queries(10):
        staff_client.get(reverse("messaging:customer_detail", args=[customer.pk]))
    with django_assert_max_num_queries(8):
        staff_client.get(CUSTOMERS_URL)


def test_order_page_links_to_its_messages_and_the_customer_timeline(staff_client, shop):
    order = OrderFactory(shop=shop, number="#1001")

    html = staff_client.get(reverse("dashboard:order_detail", args=[order.pk])).content.decode()

    assert f'href="{LOG_URL}?order=%231001"' in html
    assert reverse("messaging:customer_detail", args=[order.customer.pk]) in html


# Rates per flow --------------------------------------------------------------------------------


def _rated(shop, kind, channel, status, n=1, **fields):
    for _ in range(n):
        _message(shop, kind=kind, channel=channel, status=status, **fields)


@pytest.fixture
def known_rates(shop, other_shop):
    """order_confirmation by email: 10 scheduled, 8 sent (6 delivered, 1 only accepted, 1
    bounced), 4 of them opened and 1 clicked; 1 failed, 1 suppressed."""
    now = timezone.now()
    sent = {"sent_at": now}
    kind = "order_confirmation"
    _rated(shop, kind, "email", "delivered", 3, delivered_at=now, opened_at=now, **sent)
    clicked = {"delivered_at": now, "opened_at": now, "clicked_at": now}
    _rated(shop, kind, "email", "delivered", 1, **clicked, **sent)
    _rated(shop, kind, "email", "delivered", 2, delivered_at=now, **sent)
    _rated(shop, kind, "email", "sent", 1, **sent)
    _rated(shop, kind, "email", "bounced", 1, **sent)
    _rated(shop, kind, "email", "failed", 1)
    _rated(shop, kind, "email", "suppressed", 1)
    # shipment_shipped by SMS: 4 scheduled, 2 sent, 1 delivered, 1 still scheduled.
    _rated(shop, "shipment_shipped", "sms", "delivered", 1, delivered_at=now, **sent)
    _rated(shop, "shipment_shipped", "sms", "sent", 1, **sent)
    _rated(shop, "shipment_shipped", "sms", "scheduled", 1)
    _rated(shop, "shipment_shipped", "sms", "cancelled", 1)
    # Neither counts: too old, or another shop's.
    _rated(shop, kind, "email", "failed", 5, created_at=now - timedelta(days=31))
    _rated(other_shop, kind, "email", "failed", 5)


def test_rates_per_flow_on_a_known_dataset(shop, known_rates, django_assert_num_queries):
    with django_assert_num_queries(1):
        rates = {(r.kind, r.channel): r for r in flow_rates(shop=shop)}

    assert set(rates) == {("order_confirmation", "email"), ("shipment_shipped", "sms")}
    email = rates[("order_confirmation", "email")]
    assert (email.scheduled, email.sent, email.delivered) == (10, 8, 6)
    assert (email.failed, email.bounced, email.suppressed) == (1, 1, 1)
    assert email.delivered_pct == 75.0
    assert email.opened_pct == 50.0
    assert email.clicked_pct == 12.5
    sms = rates[("shipment_shipped", "sms")]
    assert (sms.scheduled, sms.sent, sms.pending, sms.cancelled) == (4, 2, 1, 1)
    assert sms.delivered_pct == 50.0
    assert sms.opened_pct is None  # texts report no opens
    assert sms.clicked_pct is None


def test_rates_with_nothing_sent_have_no_percentages(shop):
    _rated(shop, "order_confirmation", "email", "scheduled", 2)

    (rate,) = flow_rates(shop=shop)

    assert rate.scheduled == 2
    assert rate.delivered_pct is None
    assert rate.opened_pct is None


def test_overview_shows_the_rates_table_and_chart(staff_client, shop, known_rates):
    response = staff_client.get(OVERVIEW_URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert "75.0 %" in html
    assert "12.5 %" in html
    # One kit bar chart per rate: order confirmations by email are the most delivered (75 %
    # against 50 % by text), so theirs is the tallest bar, and its number is under the chart.
    delivered = parse(html).find(
        "svg", aria_label="Delivered, share of the messages sent, per flow"
    )
    heights = {
        rect.find("title").text(): float(rect.get("height")) for rect in delivered.find_all("rect")
    }
    (email_bar,) = [title for title in heights if title.endswith("· email: 75")]
    assert heights[email_bar] == max(heights.values()) > min(heights.values())
    numbers = delivered.parent.find("table").rows()
    assert [email_bar.removesuffix(": 75"), "75"] in numbers
    assert 'class="kit-chart"' in html
    assert "<script" not in html.split("</head>")[1]  # the chart is server-rendered


def test_overview_empty_state(staff_client, shop):
    response = staff_client.get(OVERVIEW_URL)

    assert b"No messages in the last 30 days" in response.content
    assert b'class="empty"' in response.content
    assert b'class="kit-chart"' not in response.content


def test_overview_queries_do_not_grow_with_the_flows(
    staff_client, shop, django_assert_max_num_queries
):
    for kind in ("a", "b", "c", "d", "e"):
        for channel in ("email", "sms", "whatsapp"):
            _rated(shop, kind, channel, "sent", 2, sent_at=timezone.now())

    with django_assert_max_num_queries(6):
        staff_client.get(OVERVIEW_URL)


def test_the_delay_says_what_it_counts_from_for_replenishment(staff_client, shop):
    flows_ensure_defaults(shop_id=shop.pk)
    flow = Flow.objects.get(shop=shop, kind="replenishment")

    response = staff_client.get(reverse("messaging:flow_edit", args=[flow.pk]))

    assert "before the customer is predicted to run out" in response.content.decode()


@pytest.mark.parametrize("number", ["#a-77", "A-77", " # a-77"])
def test_log_order_filter_ignores_case_and_a_leading_hash(staff_client, shop, number):
    order = OrderFactory(shop=shop, number="#A-77")
    wanted = _message(shop, order=order, customer=order.customer)
    _message(shop, order=OrderFactory(shop=shop, number="#A-78"))

    assert _ids(staff_client.get(LOG_URL, {"order": number})) == [wanted.pk]


def test_every_count_in_the_rates_table_links_to_the_messages_it_counts(
    staff_client, shop, known_rates
):
    page = staff_client.get(OVERVIEW_URL).content.decode()

    links = re.findall(
        r'<td data-label="(Scheduled|Failed|Bounced|Suppressed)" class="num">'
        r'<a href="([^"]+)">(\d+)</a>',
        page,
    )

    # Four counts for each of the two flows in the table.
    assert len(links) == 8
    for column, url, shown in links:
        listed = staff_client.get(html.unescape(url)).context["page_obj"].paginator.count
        assert listed == int(shown), (column, url)
