"""The detector the live-worker tests run over every log record (`tests.log_privacy`): it finds
personal data in its usual spellings and leaves alone what logs are made of."""

import logging

import pytest

from tests.factories import CustomerFactory, OrderFactory
from tests.log_privacy import customers_personal_data, log_records, personal_data_in


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("sent to jane.doe+shop@example.co.uk", ["jane.doe+shop@example.co.uk"]),
        ("console sms message 5 to +16135550123", ["+16135550123"]),
        ("whatsapp:+447700900123 replied", ["+447700900123"]),
        ("call (415) 555-0123 or 415-555-0124", ["(415) 555-0123", "415-555-0124"]),
        ("call 415.555.0123", ["415.555.0123"]),
        ("mobile 07700 900123", ["07700 900123"]),
        ("office 020 7946 0958", ["020 7946 0958"]),
        ("ship to 123 Shipping Street, Ottawa", ["123 Shipping Street"]),
        ("ship to 221B Baker St. London", ["221B Baker St."]),
        ("1600 Pennsylvania Avenue NW", ["1600 Pennsylvania Avenue"]),
        ("Lieferung an Hauptstraße 5, Berlin", ["Hauptstraße 5"]),
    ],
)
def test_it_finds_addresses_numbers_and_streets(text, found):
    assert personal_data_in(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "Task orders.tasks.webhook_event_process_task[8b514f10-1dc6-44a5-9c04-dd02435a42a9] "
        "succeeded in 0.0867525039998327s: 'processed'",
        "order #1001 (id 123456, external 5000001) placed 2026-06-10T17:00:00+00:00",
        "2026-06-10 17:00:00,046: INFO/MainProcess Connected to redis://:**@127.0.0.1:6379/15",
        "tracking 9400111899560000000001 via USPS, 3 parcels, 55.00 USD",
        "POST Request: http://localhost:37425/2010-04-01/Accounts/AC1111/Messages.json",
        "message SM" + "a" * 32 + " status delivered at 1781110800",
        "console sms message 5 to +1******0123 (120 characters)",
        "reply from j***@example.com",
        "postcode SW1A 1AA, 12 items, Returned 2 Days Late",
    ],
)
def test_it_leaves_ids_dates_order_numbers_and_masked_data_alone(text):
    assert personal_data_in(text) == []


def test_known_values_are_found_in_any_case():
    text = "Lookup for JANE@EXAMPLE.ORG at 1 Rue de la Paix"

    assert personal_data_in(text, known=["jane@example.org", "1 Rue de la Paix"]) == [
        "JANE@EXAMPLE.ORG",
        "jane@example.org",
        "1 Rue de la Paix",
    ]


@pytest.mark.django_db
def test_the_customers_own_data_is_known_in_its_usual_spellings():
    customer = CustomerFactory(email="ada@example.org", phone="+16135550123")
    OrderFactory(
        shop=customer.shop,
        customer=customer,
        shipping_address1="1 Rue de la Paix",
        shipping_address2="Flat 2",
    )

    known = customers_personal_data()

    for value in (
        "ada@example.org",
        "+16135550123",
        "(613) 555-0123",
        "6135550123",
        "1 Rue de la Paix",
        "Flat 2",
    ):
        assert value in known


def test_the_capture_sees_every_logger_at_info_even_those_kept_apart():
    apart = logging.getLogger("tests.log_privacy.apart")
    apart.propagate, apart.level = False, logging.ERROR
    try:
        with log_records() as logs:
            logging.getLogger("tests.log_privacy.anywhere").info("sent to ada@example.org")
            apart.warning("call +16135550123")
            logging.getLogger("tests.log_privacy.anywhere").debug("debug +16135550124")
        assert (apart.level, apart.handlers) == (logging.ERROR, [])  # left as it was
    finally:
        apart.propagate, apart.level = True, logging.NOTSET

    assert logs.leaks() == [
        "tests.log_privacy.anywhere: INFO: ['ada@example.org']",
        "tests.log_privacy.apart: WARNING: ['+16135550123']",
    ]


def test_a_traceback_is_scanned_too():
    with log_records() as logs:
        try:
            raise ValueError("no such customer ada@example.org")
        except ValueError:
            logging.getLogger("tests.log_privacy").exception("import failed")

    assert logs.leaks() == ["tests.log_privacy: ERROR: ['ada@example.org']"]
