"""Quiet hours: when a message may reach its recipient, in the recipient's own local time.

Where the recipient is (their IANA zone and their region, e.g. "US-FL") is resolved once, when
the message is scheduled, and stored on the message; the windows themselves are data
(`QuietHoursRule`), the most specific one winning: country and region, then country, then the
default. Texts (SMS, WhatsApp) always obey them, marketing email too; order updates by email
are exempt (a shipping confirmation at 22:00 is expected, a text is not)."""

import time as monotonic_clock
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import phonenumbers
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from phonenumbers import geocoder
from phonenumbers import timezone as phone_timezones

from notifications.models import QuietHoursRule
from orders.models import Channel, Customer, Order, Purpose, Shop

# Rules change rarely (ops edit them in admin): each process reads them at most this often, and
# at once after an edit it made itself. A message scheduled with a stale window is re-checked
# when it is claimed.
RULES_TTL_SECONDS = 60.0


@dataclass(frozen=True)
class Window:
    """The local times messages may go out: [allowed_from, allowed_until)."""

    allowed_from: time
    allowed_until: time

    def is_open(self, local: time) -> bool:
        if self.allowed_from == self.allowed_until:
            return True  # e.g. 00:00 to 00:00: no quiet hours at all
        if self.allowed_from < self.allowed_until:
            return self.allowed_from <= local < self.allowed_until
        # A window across midnight, e.g. 20:00 to 02:00.
        return local >= self.allowed_from or local < self.allowed_until


_DEFAULT_WINDOW = Window(time(8), time(21))  # when the table has no default row
_rules: dict[tuple[str, str], Window] = {}
_rules_loaded_at: float | None = None


def quiet_hours_rules_forget() -> None:
    """Drop this process's copy of the rules: the next lookup reads the table."""
    global _rules_loaded_at
    _rules_loaded_at = None


@receiver(post_save, sender=QuietHoursRule, dispatch_uid="quiet_hours_rules_forget_on_save")
@receiver(post_delete, sender=QuietHoursRule, dispatch_uid="quiet_hours_rules_forget_on_delete")
def _forget_edited_rules(**kwargs: Any) -> None:
    quiet_hours_rules_forget()


def _window_for(region: str) -> Window:
    global _rules, _rules_loaded_at
    now = monotonic_clock.monotonic()
    if _rules_loaded_at is None or now - _rules_loaded_at > RULES_TTL_SECONDS:
        _rules = {
            (rule.country.upper(), rule.region.upper()): Window(
                rule.allowed_from, rule.allowed_until
            )
            for rule in QuietHoursRule.objects.all()
        }
        _rules_loaded_at = now
    country, _, subdivision = region.upper().partition("-")
    for key in ((country, subdivision), (country, ""), ("", "")):
        if key in _rules:
            return _rules[key]
    return _DEFAULT_WINDOW


def obeys_quiet_hours(*, channel: str, purpose: str) -> bool:
    return channel != Channel.EMAIL or purpose == Purpose.MARKETING


def quiet_hours_next_opening(*, at: datetime, zone: str, region: str) -> datetime | None:
    """When the recipient's window next opens if `at` falls outside it, else None.

    Computed on the local wall clock with zoneinfo, so a window opening on the day the clocks
    change opens at 08:00 local time of that day, whatever its UTC offset. An opening inside a
    spring-forward gap resolves to the first real instant after it (later, never earlier)."""
    window = _window_for(region)
    tz = _zone(zone)
    local = at.astimezone(tz)
    if window.is_open(local.time()):
        return None
    day = local.date()
    if local.time() >= window.allowed_from:
        day += timedelta(days=1)
    return datetime.combine(day, window.allowed_from, tzinfo=tz).astimezone(UTC)


def quiet_hours_note(*, opening: datetime, zone: str) -> str:
    """The history note of a deferral: "quiet hours in America/New_York until 08:00"."""
    return f"quiet hours in {zone} until {opening.astimezone(_zone(zone)):%H:%M}"


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


# --- Where the recipient is ------------------------------------------------------------------


@dataclass(frozen=True)
class RecipientPlace:
    """What tells where a message's recipient is. A caller that already holds the order passes
    `RecipientPlace.for_order(order)` in its `MessageRequest`; otherwise `message_schedule`
    reads it in one query."""

    customer_timezone: str = ""
    phone: str = ""
    shipping_country: str = ""
    shipping_province: str = ""
    shop_timezone: str = "UTC"

    @classmethod
    def for_order(cls, order: Order) -> "RecipientPlace":
        """No query when the order's customer and shop are already loaded."""
        customer = order.customer
        return cls(
            customer_timezone=customer.timezone if customer else "",
            phone=order.phone or (customer.phone if customer else ""),
            shipping_country=order.shipping_country,
            shipping_province=order.shipping_province,
            shop_timezone=order.shop.timezone,
        )

    @classmethod
    def load(
        cls, *, shop_id: int, customer_id: int | None, order_id: int | None
    ) -> "RecipientPlace":
        """One query, from the most specific object the message is tied to."""
        if order_id is not None:
            row = (
                Order.objects.filter(pk=order_id)
                .values(
                    "phone",
                    "shipping_country",
                    "shipping_province",
                    "customer__timezone",
                    "customer__phone",
                    "shop__timezone",
                )
                .first()
            )
            if row:
                return cls(
                    customer_timezone=row["customer__timezone"] or "",
                    phone=row["phone"] or row["customer__phone"] or "",
                    shipping_country=row["shipping_country"],
                    shipping_province=row["shipping_province"],
                    shop_timezone=row["shop__timezone"],
                )
        if customer_id is not None:
            customer = (
                Customer.objects.filter(pk=customer_id)
                .values("timezone", "phone", "shop__timezone")
                .first()
            )
            if customer:
                return cls(
                    customer_timezone=customer["timezone"],
                    phone=customer["phone"],
                    shop_timezone=customer["shop__timezone"],
                )
        shop_zone = Shop.objects.filter(pk=shop_id).values_list("timezone", flat=True).first()
        return cls(shop_timezone=shop_zone or "UTC")

    def zone(self, *, phone: str, at: datetime) -> str:
        """The customer's zone, else the phone number's, else the shop's."""
        if self.customer_timezone and self.customer_timezone in _available_zones():
            return self.customer_timezone
        return _phone_zone(phone or self.phone, at) or self.shop_timezone or "UTC"

    def region(self, *, phone: str) -> str:
        """ "US-FL" from the shipping address, else from the number's area code; a country code
        alone when no state is known; "" when nothing is."""
        country = self.shipping_country.strip().upper()
        number = _parse(phone or self.phone)
        if country == "US" and (state := us_state_code(self.shipping_province)):
            return f"US-{state}"
        if country and country != "US":
            return country[:2]
        number_country = phonenumbers.region_code_for_number(number) if number else None
        if number is not None and number_country == "US":
            state = us_state_code(geocoder.description_for_number(number, "en"))
            return f"US-{state}" if state else "US"
        return country or (number_country or "")


@lru_cache(maxsize=1)
def _available_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _parse(phone: str) -> phonenumbers.PhoneNumber | None:
    phone = phone.removeprefix("whatsapp:")
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def _phone_zone(phone: str, at: datetime) -> str:
    """The zone of the number's own area. When the number spans several, the one whose window
    closes first at `at` (the furthest east): the safe choice."""
    number = _parse(phone)
    if number is None:
        return ""
    zones = [
        zone for zone in phone_timezones.time_zones_for_number(number) if zone in _available_zones()
    ]
    if not zones:
        return ""
    return max(sorted(zones), key=lambda zone: _utc_offset(at, zone))


def _utc_offset(at: datetime, zone: str) -> timedelta:
    # Never None: `at` is aware, and a ZoneInfo always knows its offset.
    return at.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset() or timedelta(0)


US_STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "washington d.c.": "DC", "washington, d.c.": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA",
    "kansas": "KS", "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD",
    "massachusetts": "MA", "michigan": "MI", "minnesota": "MN", "mississippi": "MS",
    "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV", "new hampshire": "NH",
    "new jersey": "NJ", "new mexico": "NM", "new york": "NY", "north carolina": "NC",
    "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA",
    "rhode island": "RI", "south carolina": "SC", "south dakota": "SD", "tennessee": "TN",
    "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "washington state": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
    "puerto rico": "PR", "guam": "GU", "u.s. virgin islands": "VI",
}  # fmt: skip
_STATE_CODES = frozenset(US_STATES.values())


def us_state_code(text: str) -> str:
    """ "FL" from "FL", "Florida", or the geocoder's "Miami, FL"; "" when it names no state."""
    text = text.strip()
    if text.upper() in _STATE_CODES:
        return text.upper()
    if text.lower() in US_STATES:
        return US_STATES[text.lower()]
    _, _, tail = text.rpartition(", ")
    return tail if tail in _STATE_CODES else ""
