"""Personal data kept out of logs. Every log call that could carry an email address or a phone
number passes it (or the free text holding it, such as a provider's error) through here; street
addresses are never logged at all. Logs travel further and live longer than the database."""

import re
import traceback

# A local part's first character survives: enough for staff to tell two addresses apart.
_EMAIL = re.compile(r"(?<![\w.%+-])([\w%+-])[\w.%+-]*@((?:[\w-]+\.)+[A-Za-z]{2,})")
# E.164 (+14155550123) and grouped national forms: (415) 555-0123, 415-555-0123, 07700 900123.
# Dates (2026-06-10), times and plain ids have other shapes and are left alone.
_PHONE = re.compile(
    r"(?<![\w+*])(?:"
    r"\+[1-9]\d{6,14}"
    r"|\(\d{2,5}\)\s?\d{3,4}[\s.-]\d{3,4}"
    r"|\d{3}[\s.-]\d{3}[\s.-]\d{4}"
    r"|0\d{3,4}\s\d{6}"
    r")(?![\w*])"
)
# PostgreSQL's DETAIL line quotes row values ("Failing row contains (…)", "Key (…)=(…)").
_PG_DETAIL = re.compile(r"^DETAIL:.*$", re.MULTILINE)
_KEPT_DIGITS = 4


def mask_email(address: str) -> str:
    """jane@example.com → j***@example.com"""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_phone(number: str) -> str:
    """+14155554567 → +1******4567: the country's first digit and the last four stay, the
    number's own punctuation too, every other digit becomes *."""
    digits = sum(ch.isdigit() for ch in number)
    kept_tail = _KEPT_DIGITS if digits > 2 * _KEPT_DIGITS - 1 else 2
    masked, seen = [], 0
    for ch in number.strip():
        if ch.isdigit():
            seen += 1
            keep = (seen == 1 and number.strip().startswith("+")) or seen > digits - kept_tail
            masked.append(ch if keep else "*")
        else:
            masked.append(ch)
    return "".join(masked)


def mask_recipient(recipient: str) -> str:
    """A message's recipient, an email address or a phone number, masked as such."""
    return mask_email(recipient) if "@" in recipient else mask_phone(recipient)


def redact(text: str) -> str:
    """Free text (an error message, a provider's answer) with every email address and phone
    number in it masked, and the row values a database error quotes left out."""
    text = _PG_DETAIL.sub("DETAIL: (row values withheld)", text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)


def redacted_traceback(exc: BaseException) -> str:
    """The exception's traceback, chained causes included, as `redact` leaves it: for a log
    line that needs the stack without the data the error quotes."""
    return redact("".join(traceback.format_exception(exc)).rstrip())
