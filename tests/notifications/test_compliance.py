"""Consent per channel and purpose, quiet hours in the recipient's time, the weekly marketing
cap and the marketing pause: applied when a message is scheduled and again when it is sent."""

import importlib
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from notifications.engine.compliance import MarketingCap, sending_holds
from notifications.engine.quiet_hours import (
    RecipientPlace,
    Window,
    quiet_hours_rules_forget,
)
from notifications.engine.recipients import recipients_for
from notifications.engine.sending import _blocked
from notifications.models import Message, MessageStatus, Purpose, QuietHoursRule
from notifications.services import MessageRequest, message_schedule, message_send, messages_send
from orders.models import ConsentStatus, ShipmentStatus
from orders.services.customers import consent_record
from orders.services.data import ConsentData
from tests.factories import ConsentFactory, CustomerFactory, OrderFactory, ShipmentFactory
from tests.notifications.fake_twilio import twilio_accepts

pytestmark = pytest.mark.django_db

# A summer weekday at noon UTC: 08:00 in New York, 13:00 in London, 21:00 in Tokyo.
NOON_UTC = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
T, M = Purpose.TRANSACTIONAL, Purpose.MARKETING
G, R = ConsentStatus.GRANTED, ConsentStatus.REVOKED


@pytest.fixture(autouse=True)
def seeded_quiet_hours_rules():
    """The rules migration 0006 seeds (a transactional test elsewhere may have flushed them).
    Rules are cached per process, and a test's own rules vanish with its transaction."""
    seed = importlib.import_module("notifications.migrations.0006_default_quiet_hours")
    for country, region, start, end, note in seed.DEFAULT_RULES:
        QuietHoursRule.objects.get_or_create(
            country=country,
            region=region,
            defaults={"allowed_from": start, "allowed_until": end, "note": note},
        )
    quiet_hours_rules_forget()
    yield
    quiet_hours_rules_forget()


def order_for(*, timezone="America/New_York", phone="", country="", province="", **customer):
    buyer = CustomerFactory(timezone=timezone, phone=phone, **customer)
    return OrderFactory(
        customer=buyer,
        shop=buyer.shop,
        phone=phone,
        shipping_country=country,
        shipping_province=province,
    )


def consent(order, channel, purpose=Purpose.TRANSACTIONAL, status=ConsentStatus.GRANTED):
    return ConsentFactory(
        customer=order.customer, shop=order.shop, channel=channel, purpose=purpose, status=status
    )


def request(order, *, channel="email", purpose=Purpose.TRANSACTIONAL, send_at=None, **extra):
    values = {
        "shop_id": order.shop_id,
        "customer_id": order.customer_id,
        "order_id": order.pk,
        "kind": "order_confirmation",
        "channel": channel,
        "purpose": purpose,
        "recipient": order.email if channel == "email" else order.phone,
        "about_type": "order",
        "about_id": order.pk,
        "send_at": send_at or timezone.now(),
        "context": {
            "shop_name": order.shop.name,
            "order_number": order.number,
            "items": [{"quantity": 1, "title": "Tea", "total": "5.00"}],
            "total": "5.00",
            "currency": "USD",
            "tracking_url": "https://shop.test/track/abc/",
        },
    }
    values.update(extra)
    return MessageRequest(**values)


def schedule(order, **kwargs) -> Message:
    return message_schedule(request=request(order, **kwargs))[0]


def queued(order, **kwargs) -> Message:
    message = schedule(order, **kwargs)
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.QUEUED, queued_at=timezone.now()
    )
    message.refresh_from_db()
    return message


def promo(n: int = 0, **extra) -> dict:
    """A marketing message (the n-th of its kind for the customer), rendered with the
    confirmation's templates: the rules under test care about its purpose only."""
    return {"purpose": M, "about_type": "promo", "about_id": n, **extra}


def chunk_of(ids: list[int]) -> list[Message]:
    return list(Message.objects.filter(pk__in=ids).select_related("shop", "order", "customer"))


def reloaded(message: Message) -> Message:
    message.refresh_from_db()
    return message


# --- Consent when choosing recipients ---------------------------------------------------------


@pytest.mark.parametrize(
    ("consents", "channels", "purpose", "expected"),
    [
        # Order updates by email need no consent...
        ([], ["email"], T, ["email"]),
        # ...but stop once revoked, fallback included.
        ([("email", T, R)], ["email", "sms"], T, []),
        # Texts need consent; without it email is the fallback.
        ([], ["sms"], T, ["email"]),
        ([("sms", T, G)], ["email", "sms"], T, ["email", "sms"]),
        # Marketing consent for texts covers order updates by text...
        ([("sms", M, G)], ["sms"], T, ["sms"]),
        ([("whatsapp", M, G)], ["whatsapp"], T, ["whatsapp"]),
        # ...unless order updates by text were revoked explicitly.
        ([("sms", M, G), ("sms", T, R)], ["sms"], T, ["email"]),
        # Consent for one channel is not consent for another.
        ([("whatsapp", T, G)], ["sms"], T, ["email"]),
        # Marketing on any channel needs marketing consent for it.
        ([], ["email"], M, []),
        ([("email", T, G)], ["email"], M, []),
        ([("email", M, G)], ["email"], M, ["email"]),
        ([("sms", T, G)], ["sms"], M, []),
        ([("sms", M, G)], ["sms"], M, ["sms"]),
        # The fallback to email needs marketing consent for email too.
        ([("email", M, G)], ["sms"], M, ["email"]),
        ([("email", M, R)], ["sms"], M, []),
    ],
)
def test_recipients_follow_consent_per_channel_and_purpose(
    consents, channels, purpose, expected, django_assert_num_queries
):
    order = order_for(phone="+12125550123")
    for channel, of_purpose, status in consents:
        consent(order, channel, of_purpose, status)

    with django_assert_num_queries(1):  # the customer's consents, all at once
        chosen = recipients_for(order, channels, purpose=purpose)

    assert [channel for channel, _ in chosen] == expected


def test_texts_are_not_offered_without_a_phone_even_with_consent():
    order = order_for(phone="")
    consent(order, "sms")

    assert recipients_for(order, ["sms"]) == [("email", order.email)]


# --- Consent again when sending ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("consents", "channel", "purpose", "reason"),
    [
        ([], "email", T, ""),
        ([("email", T, R)], "email", T, "order updates by email revoked"),
        ([], "sms", T, "no consent for order updates by sms"),
        ([("sms", T, G)], "sms", T, ""),
        ([("sms", M, G)], "sms", T, ""),
        ([("sms", M, G), ("sms", T, R)], "sms", T, "order updates by sms revoked"),
        ([("sms", T, G)], "whatsapp", T, "no consent for order updates by whatsapp"),
        ([("whatsapp", M, G)], "whatsapp", T, ""),
        ([("email", T, G)], "email", M, "no marketing consent for email"),
        ([("email", M, G)], "email", M, ""),
        ([("sms", T, G)], "sms", M, "no marketing consent for sms"),
        ([("whatsapp", M, G)], "whatsapp", M, ""),
    ],
)
def test_send_time_checks_apply_the_same_rules(consents, channel, purpose, reason):
    order = order_for(phone="+12125550123")
    for of_channel, of_purpose, status in consents:
        consent(order, of_channel, of_purpose, status)
    message = queued(order, channel=channel, purpose=purpose)

    assert _blocked(chunk_of([message.pk])).get(message.pk, "") == reason


@time_machine.travel(NOON_UTC, tick=False)
def test_order_update_by_text_goes_out_with_consent_and_stops_once_revoked(fake_twilio):
    twilio_accepts(fake_twilio)
    order = order_for(phone="+12125550123")
    consent(order, "sms")
    first = queued(order, channel="sms")
    later = queued(order, channel="sms", kind="shipment_shipped")

    assert message_send(message_id=first.pk) == MessageStatus.SENT
    consent_record(
        customer=order.customer,
        data=ConsentData(channel="sms", purpose=T, is_granted=False, source="sms reply"),
    )
    message_send(message_id=later.pk)

    assert reloaded(later).status == MessageStatus.SUPPRESSED
    assert later.status_reason == "order updates by sms revoked"
    assert len(fake_twilio.log) == 1


@time_machine.travel(NOON_UTC, tick=False)
def test_a_text_scheduled_without_consent_is_not_sent():
    order = order_for(phone="+12125550123")
    message = queued(order, channel="whatsapp")

    message_send(message_id=message.pk)

    assert reloaded(message).status == MessageStatus.SUPPRESSED
    assert message.status_reason == "no consent for order updates by whatsapp"


@time_machine.travel(NOON_UTC, tick=False)
def test_email_order_updates_stop_when_revoked_between_scheduling_and_sending():
    order = order_for()
    message = queued(order)
    consent(order, "email", T, R)

    message_send(message_id=message.pk)

    assert reloaded(message).status == MessageStatus.SUPPRESSED
    assert message.status_reason == "order updates by email revoked"
    assert mail.outbox == []


@time_machine.travel(NOON_UTC, tick=False)
def test_marketing_needs_marketing_consent_at_send_time():
    order = order_for()
    consent(order, "email", M)
    consented = queued(order, **promo())
    consent_record(
        customer=order.customer,
        data=ConsentData(channel="email", purpose=M, is_granted=False, source="preferences"),
    )

    message_send(message_id=consented.pk)

    assert reloaded(consented).status == MessageStatus.SUPPRESSED
    assert consented.status_reason == "no marketing consent for email"


# --- Quiet hours when scheduling ---------------------------------------------------------------


def test_florida_closes_at_20_and_new_york_at_21():
    at_2030_new_york = datetime(2026, 6, 15, 20, 30, tzinfo=UTC) + timedelta(hours=4)
    in_florida = order_for(phone="+12125550123", country="US", province="Florida")
    in_new_york = order_for(phone="+12125550124", country="US", province="NY")
    consent(in_florida, "sms")
    consent(in_new_york, "sms")

    florida = schedule(in_florida, channel="sms", send_at=at_2030_new_york)
    new_york = schedule(in_new_york, channel="sms", send_at=at_2030_new_york)

    assert (florida.timezone, florida.region) == ("America/New_York", "US-FL")
    assert florida.send_at == datetime(2026, 6, 16, 12, 0, tzinfo=UTC)  # 08:00 EDT next day
    assert florida.status_reason == "quiet hours in America/New_York until 08:00"
    assert (new_york.region, new_york.send_at) == ("US-NY", at_2030_new_york)


def test_a_customer_in_tokyo_gets_texts_in_tokyo_daytime():
    order = order_for(timezone="Asia/Tokyo", phone="+81312345678", country="JP")
    late_evening_tokyo = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)  # 23:00 JST
    morning_tokyo = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)  # 12:00 JST

    late = schedule(order, channel="sms", send_at=late_evening_tokyo)
    fine = schedule(order, channel="whatsapp", send_at=morning_tokyo)

    assert (late.timezone, late.region) == ("Asia/Tokyo", "JP")
    assert late.send_at == datetime(2026, 6, 15, 23, 0, tzinfo=UTC)  # 08:00 JST on the 16th
    assert fine.send_at == morning_tokyo


@pytest.mark.parametrize(
    ("phone", "zone", "region"),
    [
        ("+13055550123", "America/New_York", "US-FL"),  # Miami: "Florida"
        ("+14155550123", "America/Los_Angeles", "US-CA"),  # "San Francisco, CA"
        ("+12065550123", "America/Los_Angeles", "US-WA"),  # "Washington State"
        # Idaho spans Mountain and Pacific time: the zone where the window closes first.
        ("+12085550123", "America/Boise", "US-ID"),
        ("+81312345678", "Asia/Tokyo", "JP"),
    ],
)
def test_without_a_customer_zone_the_phone_number_places_the_recipient(phone, zone, region):
    order = order_for(timezone="", phone=phone)

    message = schedule(order, channel="sms", send_at=NOON_UTC)

    assert (message.timezone, message.region) == (zone, region)


def test_the_number_area_code_decides_the_window_when_there_is_no_address():
    # 20:30 in Miami: Florida's window (until 20:00) is closed.
    order = order_for(timezone="", phone="+13055550123")
    at_2030_miami = datetime(2026, 6, 16, 0, 30, tzinfo=UTC)

    message = schedule(order, channel="sms", send_at=at_2030_miami)

    assert message.send_at == datetime(2026, 6, 16, 12, 0, tzinfo=UTC)


def test_without_customer_zone_or_phone_the_shop_zone_is_used():
    order = order_for(timezone="")
    order.shop.timezone = "Europe/Berlin"
    order.shop.save(update_fields=["timezone"])
    at_2230_berlin = datetime(2026, 6, 15, 20, 30, tzinfo=UTC)

    message = schedule(order, **promo(), send_at=at_2230_berlin)

    assert message.timezone == "Europe/Berlin"
    assert message.send_at == datetime(2026, 6, 16, 6, 0, tzinfo=UTC)  # 08:00 CEST


def test_transactional_email_is_exempt_from_quiet_hours_but_marketing_email_is_not():
    order = order_for(timezone="America/New_York")
    at_0300_new_york = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)

    update = schedule(order, send_at=at_0300_new_york)
    marketing = schedule(order, **promo(), send_at=at_0300_new_york)

    assert update.send_at == at_0300_new_york
    assert update.timezone == "America/New_York"
    assert marketing.send_at == datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "send_at", "opening"),
    [
        # New York springs forward on 8 March 2026: 08:00 that day is EDT (UTC-4), not EST.
        (
            "America/New_York",
            datetime(2026, 3, 8, 2, 30, tzinfo=UTC),
            datetime(2026, 3, 8, 12, 0, tzinfo=UTC),
        ),
        # ...and falls back on 1 November 2026: 08:00 that day is EST (UTC-5).
        (
            "America/New_York",
            datetime(2026, 11, 1, 1, 30, tzinfo=UTC),
            datetime(2026, 11, 1, 13, 0, tzinfo=UTC),
        ),
        # At 01:30 EST that night, before the change: 08:00 EDT still.
        (
            "America/New_York",
            datetime(2026, 3, 8, 6, 30, tzinfo=UTC),
            datetime(2026, 3, 8, 12, 0, tzinfo=UTC),
        ),
        # London springs forward on 29 March 2026 (08:00 BST is 07:00 UTC)...
        (
            "Europe/London",
            datetime(2026, 3, 28, 22, 0, tzinfo=UTC),
            datetime(2026, 3, 29, 7, 0, tzinfo=UTC),
        ),
        # ...and falls back on 25 October 2026 (08:00 GMT is 08:00 UTC).
        (
            "Europe/London",
            datetime(2026, 10, 24, 21, 0, tzinfo=UTC),
            datetime(2026, 10, 25, 8, 0, tzinfo=UTC),
        ),
    ],
)
def test_the_window_opens_at_08_local_on_the_days_the_clocks_change(zone, send_at, opening):
    order = order_for(timezone=zone, phone="+12125550123")

    message = schedule(order, channel="sms", send_at=send_at)

    assert message.send_at == opening
    assert message.send_at.astimezone(ZoneInfo(zone)).time() == time(8)


def test_quiet_hours_are_data_and_the_most_specific_rule_wins():
    QuietHoursRule.objects.create(
        country="US", region="", allowed_from=time(9), allowed_until=time(21)
    )
    in_texas = order_for(phone="+12125550123", country="US", province="TX")
    in_florida = order_for(phone="+12125550124", country="US", province="FL")
    at_0830_new_york = datetime(2026, 6, 15, 12, 30, tzinfo=UTC)

    texas = schedule(in_texas, channel="sms", send_at=at_0830_new_york)
    florida = schedule(in_florida, channel="sms", send_at=at_0830_new_york)

    assert texas.send_at == datetime(2026, 6, 15, 13, 0, tzinfo=UTC)  # the US rule: from 09:00
    assert florida.send_at == at_0830_new_york  # Florida's own rule: from 08:00


@pytest.mark.parametrize(
    ("allowed_from", "allowed_until", "local", "is_open"),
    [
        (time(8), time(21), time(7, 59), False),
        (time(8), time(21), time(8), True),
        (time(8), time(21), time(20, 59), True),
        (time(8), time(21), time(21), False),
        (time(20), time(2), time(23), True),  # across midnight
        (time(20), time(2), time(1, 59), True),
        (time(20), time(2), time(12), False),
        (time(0), time(0), time(3), True),  # no quiet hours at all
    ],
)
def test_a_window_is_open_from_its_start_until_just_before_its_end(
    allowed_from, allowed_until, local, is_open
):
    assert Window(allowed_from, allowed_until).is_open(local) is is_open


def test_a_rule_edited_in_admin_applies_at_once():
    order = order_for(phone="+12125550123", country="US", province="NY")
    at_2030_new_york = datetime(2026, 6, 16, 0, 30, tzinfo=UTC)
    assert schedule(order, channel="sms", send_at=at_2030_new_york).send_at == at_2030_new_york

    QuietHoursRule.objects.create(
        country="US", region="NY", allowed_from=time(9), allowed_until=time(20)
    )
    later = schedule(order, channel="whatsapp", send_at=at_2030_new_york)

    assert later.send_at == datetime(2026, 6, 16, 13, 0, tzinfo=UTC)  # 09:00 EDT


@pytest.mark.parametrize(
    ("place", "phone", "region"),
    [
        (RecipientPlace(shipping_country="US", shipping_province="Kentucky"), "", "US-KY"),
        (RecipientPlace(shipping_country="us", shipping_province="wa"), "", "US-WA"),
        # The address wins over the number's area code.
        (RecipientPlace(shipping_country="US", shipping_province="FL"), "+12125550123", "US-FL"),
        (RecipientPlace(shipping_country="US"), "+13055550123", "US-FL"),
        (RecipientPlace(shipping_country="US"), "+16135550123", "US"),
        (RecipientPlace(shipping_country="GB", shipping_province="London"), "", "GB"),
        (RecipientPlace(), "+12065550123", "US-WA"),
        (RecipientPlace(), "+16135550123", "CA"),
        (RecipientPlace(), "not a number", ""),
        (RecipientPlace(), "", ""),
    ],
)
def test_region_from_the_address_else_the_number(place, phone, region):
    assert place.region(phone=phone) == region


def test_scheduling_costs_one_query_more_unless_the_caller_passes_the_place(
    django_assert_num_queries,
):
    order = order_for()
    schedule(order, kind="warm_up")  # the rules are read once per process and minute

    with django_assert_num_queries(2):  # SELECT by key, INSERT unless the key is taken
        schedule(order, kind="with_place", place=RecipientPlace.for_order(order))
    with django_assert_num_queries(3):  # ...and the recipient's place
        schedule(order, kind="without_place")
    with django_assert_num_queries(1):
        schedule(order, kind="without_place")


# --- Quiet hours again when sending -------------------------------------------------------------


def test_a_queued_text_outside_the_window_goes_back_to_scheduled_with_a_note(fake_twilio):
    twilio_accepts(fake_twilio)
    order = order_for(phone="+12125550123", country="US", province="NY")
    consent(order, "sms")
    with time_machine.travel(datetime(2026, 6, 15, 16, 0, tzinfo=UTC), tick=False):  # 12:00 EDT
        message = queued(order, channel="sms")
    with time_machine.travel(datetime(2026, 6, 16, 1, 30, tzinfo=UTC), tick=False):  # 21:30 EDT
        assert message_send(message_id=message.pk) == "skipped"

    reloaded(message)
    assert message.status == MessageStatus.SCHEDULED
    assert message.send_at == datetime(2026, 6, 16, 12, 0, tzinfo=UTC)
    event = message.events.get()
    assert (event.from_status, event.to_status) == ("queued", "scheduled")
    assert event.note == "quiet hours in America/New_York until 08:00"
    assert fake_twilio.log == []

    with time_machine.travel(datetime(2026, 6, 16, 12, 1, tzinfo=UTC), tick=False):
        Message.objects.filter(pk=message.pk).update(status=MessageStatus.QUEUED)
        assert message_send(message_id=message.pk) == MessageStatus.SENT
    assert len(fake_twilio.log) == 1


def test_a_text_that_would_wait_past_its_expiry_is_cancelled_not_sent_late():
    order = order_for(phone="+12125550123")
    consent(order, "sms")
    with time_machine.travel(datetime(2026, 6, 15, 16, 0, tzinfo=UTC), tick=False):
        message = queued(order, channel="sms", expires_at=datetime(2026, 6, 16, 4, 0, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 6, 16, 1, 30, tzinfo=UTC), tick=False):
        message_send(message_id=message.pk)

    assert reloaded(message).status == MessageStatus.CANCELLED
    assert message.status_reason == (
        "too late to be useful by the time it may go out "
        "(quiet hours in America/New_York until 08:00)"
    )


def test_transactional_email_goes_out_at_night():
    order = order_for(timezone="America/New_York")
    with time_machine.travel(datetime(2026, 6, 15, 7, 0, tzinfo=UTC), tick=False):  # 03:00 EDT
        message = queued(order)
        assert message_send(message_id=message.pk) == MessageStatus.SENT


# --- The weekly marketing cap -------------------------------------------------------------------


def sent_marketing(order, *, days_ago: float, n: int) -> Message:
    message = schedule(order, **promo(n))
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.DELIVERED, sent_at=timezone.now() - timedelta(days=days_ago)
    )
    return message


@time_machine.travel(NOON_UTC, tick=False)
def test_the_fourth_marketing_message_in_a_week_is_cancelled():
    order = order_for(timezone="Europe/London")
    consent(order, "email", M)
    for n in range(3):
        sent_marketing(order, days_ago=n + 1, n=100 + n)
    fourth = queued(order, **promo())

    message_send(message_id=fourth.pk)

    assert reloaded(fourth).status == MessageStatus.CANCELLED
    assert fourth.status_reason == (
        "weekly marketing cap reached: 3 sent in the last 7 days (cap 3)"
    )
    assert mail.outbox == []


@time_machine.travel(NOON_UTC, tick=False)
def test_the_cap_is_a_rolling_week_and_order_updates_do_not_count():
    order = order_for(timezone="Europe/London")
    consent(order, "email", M)
    sent_marketing(order, days_ago=1, n=100)
    sent_marketing(order, days_ago=6.9, n=101)
    sent_marketing(order, days_ago=8, n=102)  # out of the window
    update = schedule(order, kind="shipment_shipped")
    Message.objects.filter(pk=update.pk).update(status=MessageStatus.SENT, sent_at=timezone.now())
    third = queued(order, **promo())

    assert message_send(message_id=third.pk) == MessageStatus.SENT


@time_machine.travel(NOON_UTC, tick=False)
def test_a_chunk_counts_its_own_marketing_towards_the_cap():
    order = order_for(timezone="Europe/London")
    order.shop.marketing_weekly_cap = 2
    order.shop.save(update_fields=["marketing_weekly_cap"])
    consent(order, "email", M)
    sent_marketing(order, days_ago=2, n=100)
    chunk = [queued(order, **promo(n)) for n in range(3)]

    statuses = messages_send(message_ids=[m.pk for m in chunk])

    assert statuses == {chunk[0].pk: MessageStatus.SENT}
    assert [reloaded(m).status for m in chunk[1:]] == [MessageStatus.CANCELLED] * 2
    assert len(mail.outbox) == 1


@time_machine.travel(NOON_UTC, tick=False)
def test_a_cap_of_zero_means_no_marketing_at_all():
    order = order_for(timezone="Europe/London")
    order.shop.marketing_weekly_cap = 0
    order.shop.save(update_fields=["marketing_weekly_cap"])
    consent(order, "email", M)
    message = queued(order, **promo())

    message_send(message_id=message.pk)

    assert reloaded(message).status == MessageStatus.CANCELLED
    assert message.status_reason == "the shop sends no marketing (weekly cap 0)"


# --- The marketing pause -------------------------------------------------------------------------


def test_marketing_waits_while_a_shipment_is_in_exception_and_goes_out_after():
    order = order_for(timezone="Europe/London")
    consent(order, "email", M)
    shipment = ShipmentFactory(order=order, shop=order.shop, status=ShipmentStatus.EXCEPTION)
    with time_machine.travel(datetime(2026, 6, 15, 7, 0, tzinfo=UTC), tick=False):  # 08:00 BST
        message = queued(order, **promo())
        update = queued(order, kind="shipment_exception")
        messages_send(message_ids=[message.pk, update.pk])

    assert reloaded(update).status == MessageStatus.SENT  # the apology itself is not held
    reloaded(message)
    assert message.status == MessageStatus.SCHEDULED
    assert message.send_at == datetime(2026, 6, 15, 19, 0, tzinfo=UTC)  # 12 h later, 20:00 BST
    assert message.events.get().note == (
        f"marketing paused: a shipment of order {order.number} has a delivery problem"
    )

    shipment.status = ShipmentStatus.DELIVERED
    shipment.save(update_fields=["status"])
    with time_machine.travel(datetime(2026, 6, 15, 19, 1, tzinfo=UTC), tick=False):
        Message.objects.filter(pk=message.pk).update(status=MessageStatus.QUEUED)
        assert message_send(message_id=message.pk) == MessageStatus.SENT


def test_a_paused_message_lands_in_the_window_not_at_night():
    order = order_for(timezone="Europe/London")
    consent(order, "email", M)
    ShipmentFactory(order=order, shop=order.shop, status=ShipmentStatus.EXCEPTION)
    with time_machine.travel(datetime(2026, 6, 15, 15, 0, tzinfo=UTC), tick=False):  # 16:00 BST
        message = queued(order, **promo())
        message_send(message_id=message.pk)

    # 12 h later is 04:00 BST: it waits for 08:00 BST instead.
    assert reloaded(message).send_at == datetime(2026, 6, 16, 7, 0, tzinfo=UTC)


def test_a_paused_message_past_its_expiry_is_cancelled_as_moot():
    order = order_for(timezone="Europe/London")
    consent(order, "email", M)
    ShipmentFactory(order=order, shop=order.shop, status=ShipmentStatus.EXCEPTION)
    with time_machine.travel(datetime(2026, 6, 15, 9, 0, tzinfo=UTC), tick=False):
        message = queued(order, **promo(), expires_at=timezone.now() + timedelta(hours=6))
        message_send(message_id=message.pk)

    assert reloaded(message).status == MessageStatus.CANCELLED
    assert message.status_reason.startswith("too late to be useful by the time it may go out")
    assert mail.outbox == []


def customers_with_open_return(customer_ids):
    """A pause check as the returns app would write one."""
    return dict.fromkeys(customer_ids, "return R-1 is open")


@time_machine.travel(NOON_UTC, tick=False)
def test_pause_checks_are_a_registry_other_apps_plug_into(settings):
    settings.NOTIFICATIONS_MARKETING_PAUSE_CHECKS = [
        *settings.NOTIFICATIONS_MARKETING_PAUSE_CHECKS,
        "tests.notifications.test_compliance.customers_with_open_return",
    ]
    order = order_for(timezone="Europe/London")
    consent(order, "email", M)
    message = queued(order, **promo())

    message_send(message_id=message.pk)

    assert reloaded(message).status == MessageStatus.SCHEDULED
    assert message.status_reason == "marketing paused: return R-1 is open"


# --- A mixed chunk stays a fixed number of queries ----------------------------------------------


def mixed_chunk(shop) -> list[int]:
    """One of each fate: sent by email, sent by SMS, sent as marketing, suppressed for want of
    consent, held by quiet hours (Tokyo at 21:00), held by a pause, cancelled by the cap."""
    ids = []
    plain = order_for(shop=shop, timezone="Europe/London", phone="+12125550123")
    consent(plain, "sms")
    consent(plain, "email", M)
    ids += [queued(plain).pk, queued(plain, channel="sms").pk]
    ids.append(queued(plain, **promo()).pk)
    ids.append(queued(order_for(shop=shop, phone="+12125550124"), channel="sms").pk)
    in_tokyo = order_for(shop=shop, timezone="Asia/Tokyo", phone="+12125550125")
    consent(in_tokyo, "sms")
    ids.append(queued(in_tokyo, channel="sms").pk)
    paused = order_for(shop=shop, timezone="Europe/London")
    consent(paused, "email", M)
    ShipmentFactory(order=paused, shop=shop, status=ShipmentStatus.EXCEPTION)
    ids.append(queued(paused, **promo()).pk)
    capped = order_for(shop=shop, timezone="Europe/London")
    consent(capped, "email", M)
    for n in range(3):
        sent_marketing(capped, days_ago=1, n=100 + n)
    ids.append(queued(capped, **promo()).pk)
    return ids


@time_machine.travel(NOON_UTC, tick=False)
def test_a_mixed_chunk_checks_cost_a_fixed_number_of_queries(
    shop, settings, django_assert_max_num_queries
):
    small, big = chunk_of(mixed_chunk(shop)), chunk_of(mixed_chunk(shop) + mixed_chunk(shop))
    sending_holds(small, timezone.now())  # the quiet-hours rules, read once a minute
    pause_checks = len(settings.NOTIFICATIONS_MARKETING_PAUSE_CHECKS)

    for chunk in (small, big):
        # Suppressions, opt-outs of shared numbers, consents, each pause check and the cap:
        # one query each.
        with django_assert_max_num_queries(4 + pause_checks):
            _blocked(chunk)
            sending_holds(chunk, timezone.now())
            MarketingCap(chunk, timezone.now())


@time_machine.travel(NOON_UTC, tick=False)
def test_a_mixed_chunk_settles_each_message_on_its_own_merits(fake_twilio, shop):
    twilio_accepts(fake_twilio)
    ids = mixed_chunk(shop)

    statuses = messages_send(message_ids=ids)

    assert sorted(statuses.values()) == [MessageStatus.SENT] * 3
    fates = dict(Message.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert [fates[pk] for pk in ids] == [
        MessageStatus.SENT,
        MessageStatus.SENT,
        MessageStatus.SENT,
        MessageStatus.SUPPRESSED,
        MessageStatus.SCHEDULED,
        MessageStatus.SCHEDULED,
        MessageStatus.CANCELLED,
    ]
    assert len(mail.outbox) == 2
    assert len(fake_twilio.log) == 1
