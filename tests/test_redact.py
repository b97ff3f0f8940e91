"""The one helper every log line uses to keep email addresses and phone numbers out."""

import pytest

from postpurchase.redact import mask_email, mask_phone, mask_recipient, redact, redacted_traceback
from tests.log_privacy import personal_data_in


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+14155554567", "+1******4567"),
        ("+447700900123", "+4*******0123"),
        ("(415) 555-0123", "(***) ***-0123"),
        ("12345", "***45"),
        ("", ""),
    ],
)
def test_a_phone_number_keeps_its_first_digit_and_last_four(number, masked):
    assert mask_phone(number) == masked


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("jane@example.com", "j***@example.com"),
        (" Jane.Doe+orders@Mail.Example.org ", "J***@Mail.Example.org"),
        ("not an address", "***"),
    ],
)
def test_an_email_address_keeps_its_first_letter_and_domain(address, masked):
    assert mask_email(address) == masked


def test_a_recipient_is_masked_as_what_it_is():
    assert mask_recipient("jane@example.com") == "j***@example.com"
    assert mask_recipient("+14155554567") == "+1******4567"


def test_free_text_loses_every_address_and_number_but_nothing_else():
    text = (
        "Twilio 21211: The 'To' number +14155554567 is not valid; reply sent to "
        "jane.doe@example.com and (415) 555-0123 about order #1001 on 2026-06-10 17:00:00, "
        "tracking 9400111899560000000001, event 123456"
    )

    cleaned = redact(text)

    assert cleaned == (
        "Twilio 21211: The 'To' number +1******4567 is not valid; reply sent to "
        "j***@example.com and (***) ***-0123 about order #1001 on 2026-06-10 17:00:00, "
        "tracking 9400111899560000000001, event 123456"
    )
    assert personal_data_in(cleaned) == []
    assert redact(cleaned) == cleaned  # masking twice changes nothing


def test_a_database_errors_row_values_are_withheld():
    error = (
        'null value in column "external_id" violates not-null constraint\n'
        "DETAIL:  Failing row contains (7, null, jane@example.com, 1 Main Street).\n"
    )

    assert redact(error) == (
        'null value in column "external_id" violates not-null constraint\n'
        "DETAIL: (row values withheld)\n"
    )


def test_a_traceback_keeps_its_frames_and_loses_the_data_its_errors_quote():
    try:
        try:
            raise ValueError("'+14155554567' is not a phone number in E.164 form")
        except ValueError as exc:
            raise RuntimeError("import of jane@example.com failed") from exc
    except RuntimeError as exc:
        text = redacted_traceback(exc)

    assert "test_a_traceback_keeps_its_frames" in text
    assert "ValueError: '+1******4567' is not a phone number" in text
    assert "RuntimeError: import of j***@example.com failed" in text
    assert personal_data_in(text) == []
