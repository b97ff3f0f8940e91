"""Finding personal data in log output: email addresses, phone numbers (E.164 and the usual
national forms) and street addresses. One detector for every test that watches the logs; it
knows nothing of the code's own masking (`postpurchase.redact`), so it checks it.

`personal_data_in(text)` finds what looks like personal data anywhere; give it `known` values
(the test's customers' own addresses and numbers, see `customers_personal_data`) to catch those
in any spelling the patterns might miss."""

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import phonenumbers

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}")
_PHONES = (
    re.compile(r"(?<![\w+])\+[1-9]\d{7,14}(?!\d)"),  # E.164
    re.compile(r"(?<![\w-])(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w-])"),  # NANP
    re.compile(r"(?<![\w-])0\d{3,4}\s?\d{6}(?![\w-])"),  # UK and others with a trunk 0
    re.compile(r"(?<![\w-])0\d{2,3}\s\d{3,4}\s\d{4}(?![\w-])"),  # 020 7946 0958
)
_STREET_KINDS = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl|"
    "Terrace|Square|Sq|Close|Crescent|Parkway|Pkwy|Highway|Hwy"
)
_STREETS = (
    # 12 Baker Street, 221B Baker St., 1600 Pennsylvania Avenue NW
    re.compile(rf"\b\d{{1,5}}[A-Za-z]?\s+(?:[A-Z][A-Za-z'-]*\s+){{1,3}}(?:{_STREET_KINDS})\b\.?"),
    # Hauptstraße 5, Lindenweg 12a
    re.compile(r"\b[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|weg|gasse|platz|allee)\s+\d{1,4}[a-z]?\b"),
)


def personal_data_in(text: str, *, known: Iterable[str] = ()) -> list[str]:
    """Every email address, phone number or street address in `text`, and every `known`
    value it contains (case-insensitive), each once, in the order the checks find them."""
    found = [m.group(0) for m in _EMAIL.finditer(text)]
    for pattern in (*_PHONES, *_STREETS):
        found.extend(m.group(0) for m in pattern.finditer(text))
    lowered = text.lower()
    found.extend(value for value in known if value and value.lower() in lowered)
    return list(dict.fromkeys(found))


def phone_spellings(number: str) -> list[str]:
    """A number as logs might spell it: E.164, national and international formats, and the
    national digits alone (+14155550123 → 4155550123, (415) 555-0123, …)."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return [number]
    formats = (
        phonenumbers.PhoneNumberFormat.E164,
        phonenumbers.PhoneNumberFormat.NATIONAL,
        phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    )
    spellings = [phonenumbers.format_number(parsed, f) for f in formats]
    return [*spellings, str(parsed.national_number)]


def customers_personal_data() -> list[str]:
    """Every email address, phone number (in its usual spellings) and street address line of
    the customers and orders in the test database."""
    from orders.models import Customer, Order

    values: set[str] = set()
    for email, phone in Customer.objects.values_list("email", "phone"):
        values.add(email)
        values.update(phone_spellings(phone) if phone else ())
    rows = Order.objects.values_list("email", "phone", "shipping_address1", "shipping_address2")
    for email, phone, line1, line2 in rows:
        values.update((email, line1, line2))
        values.update(phone_spellings(phone) if phone else ())
    return sorted(value for value in values if value)


def record_text(record: logging.LogRecord) -> str:
    """All a log record puts out: its message and any traceback or stack it carries."""
    parts = [record.getMessage()]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    if record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(record.stack_info)
    return "\n".join(parts)


class LogRecords(logging.Handler):
    """Collects every record at INFO or above that reaches it."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def leaks(self, *, known: Iterable[str] = ()) -> list[str]:
        """Each record that carries personal data, as "logger: LEVEL: what was found"."""
        known = list(known)
        return [
            f"{record.name}: {record.levelname}: {found}"
            for record in self.records
            if (found := personal_data_in(record_text(record), known=known))
        ]


@contextmanager
def log_records() -> Iterator[LogRecords]:
    """Capture every record at INFO or above from every logger while the block runs: through
    the root logger, and directly from the loggers that do not pass records up (Celery's task
    logger). Loggers are lowered to INFO for the while, so nothing at INFO goes unseen."""
    capture = LogRecords()
    root = logging.getLogger()
    isolated = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    watched = [root, *isolated]
    levels = {logger: logger.level for logger in watched}
    for logger in watched:
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
        logger.addHandler(capture)
    try:
        yield capture
    finally:
        for logger in watched:
            logger.removeHandler(capture)
            logger.setLevel(levels[logger])
