"""What the law and the customer allow: consent per channel and purpose, quiet hours, the
weekly marketing cap and the marketing pause. Each check takes a whole chunk of messages and
costs at most one query for it, so the send path stays a fixed number of queries per chunk."""

from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db.models import Count, Q
from django.utils.module_loading import import_string

from notifications.engine.quiet_hours import (
    obeys_quiet_hours,
    quiet_hours_next_opening,
    quiet_hours_note,
)
from notifications.models import Message, MessageStatus
from orders.models import Channel, Consent, ConsentStatus, Purpose, Shipment, ShipmentStatus

# (channel, purpose) -> consent status, for one customer.
ConsentMap = dict[tuple[str, str], str]

# How long marketing waits before it looks again while the customer has a problem open.
MARKETING_PAUSE_STEP = timedelta(hours=12)
WEEK = timedelta(days=7)


# --- Consent per channel and purpose ---------------------------------------------------------


def consent_map(consents: Iterable[Consent]) -> ConsentMap:
    return {(c.channel, c.purpose): c.status for c in consents}


def consents_by_customer(customer_ids: Collection[int]) -> dict[int, ConsentMap]:
    """Every consent these customers gave or took back, in one query."""
    found: dict[int, ConsentMap] = {}
    if not customer_ids:
        return found
    rows = Consent.objects.filter(customer_id__in=customer_ids).values_list(
        "customer_id", "channel", "purpose", "status"
    )
    for customer_id, channel, purpose, status in rows:
        found.setdefault(customer_id, {})[(channel, purpose)] = status
    return found


def consent_refusal(consents: ConsentMap, *, channel: str, purpose: str) -> str:
    """Why the customer's consents forbid a message of this purpose on this channel, or "".

    Order updates by email need no consent but stop once revoked; order updates by text need a
    granted consent for order updates or for marketing on that channel (marketing consent is
    the broader one), unless order updates there were explicitly revoked: an explicit "no"
    wins over an older, broader "yes". Marketing needs a granted marketing consent."""

    def status(of_purpose: str) -> str | None:
        return consents.get((channel, of_purpose))

    if purpose == Purpose.MARKETING:
        if status(Purpose.MARKETING) == ConsentStatus.GRANTED:
            return ""
        return f"no marketing consent for {channel}"
    if status(Purpose.TRANSACTIONAL) == ConsentStatus.REVOKED:
        return f"order updates by {channel} revoked"
    if channel == Channel.EMAIL or ConsentStatus.GRANTED in (
        status(Purpose.TRANSACTIONAL),
        status(Purpose.MARKETING),
    ):
        return ""
    return f"no consent for order updates by {channel}"


# --- Marketing pause -------------------------------------------------------------------------


def customers_with_shipment_exception(customer_ids: Collection[int]) -> dict[int, str]:
    """Customers with a shipment in `exception`, and why their marketing waits: one query.

    This is one of the marketing pause checks listed in the setting
    `NOTIFICATIONS_MARKETING_PAUSE_CHECKS`. Every check has this signature: it takes customer
    ids and returns {customer_id: reason} for those whose marketing must wait, in a fixed
    number of queries whatever the number of ids. The returns app plugs its own in the same
    way: it writes e.g. `returns.services.customers_with_open_return(customer_ids)` (one query
    over its open return requests, reason "return R-123 is open") and adds its dotted path to
    the setting; notifications needs no change and never imports the returns app."""
    rows = (
        Shipment.objects.filter(
            order__customer_id__in=customer_ids, status=ShipmentStatus.EXCEPTION
        )
        .order_by("order__customer_id", "pk")
        .values_list("order__customer_id", "order__number")
    )
    paused: dict[int, str] = {}
    for customer_id, number in rows:
        paused.setdefault(customer_id, f"a shipment of order {number} has a delivery problem")
    return paused


@lru_cache(maxsize=8)
def _pause_checks(paths: tuple[str, ...]) -> tuple[Callable[[Collection[int]], dict], ...]:
    return tuple(import_string(path) for path in paths)


def marketing_pauses(customer_ids: Collection[int]) -> dict[int, str]:
    """{customer_id: reason} for the customers whose marketing must wait now, from every check
    in `NOTIFICATIONS_MARKETING_PAUSE_CHECKS` (the first reason found is kept)."""
    paused: dict[int, str] = {}
    if not customer_ids:
        return paused
    for check in _pause_checks(tuple(settings.NOTIFICATIONS_MARKETING_PAUSE_CHECKS)):
        for customer_id, reason in check(customer_ids).items():
            paused.setdefault(customer_id, reason)
    return paused


# --- At send time ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Hold:
    """A message that may not go out yet: when to look again, and why."""

    until: datetime
    note: str


def _marketing_customers(messages: Iterable[Message]) -> set[int]:
    return {m.customer_id for m in messages if m.purpose == Purpose.MARKETING and m.customer_id}


def sending_holds(messages: list[Message], now: datetime) -> dict[int, Hold]:
    """The chunk's messages that must wait: outside their recipient's quiet hours, or marketing
    to a customer with a problem open. Message id -> Hold. One query for the pauses (and, once
    a minute per process, one for the quiet-hours rules)."""
    paused = marketing_pauses(_marketing_customers(messages))
    holds: dict[int, Hold] = {}
    for message in messages:
        quiet = obeys_quiet_hours(channel=message.channel, purpose=message.purpose)
        zone = message.timezone or message.shop.timezone
        opening = quiet and quiet_hours_next_opening(at=now, zone=zone, region=message.region)
        if opening:
            holds[message.pk] = Hold(opening, quiet_hours_note(opening=opening, zone=zone))
        elif message.purpose == Purpose.MARKETING and message.customer_id in paused:
            until = now + MARKETING_PAUSE_STEP
            if quiet:  # and then not into the night
                later = quiet_hours_next_opening(at=until, zone=zone, region=message.region)
                until = later or until
            reason = paused[message.customer_id]
            holds[message.pk] = Hold(until, f"marketing paused: {reason}")
    return holds


class MarketingCap:
    """The weekly cap on marketing per customer, over a chunk: one query for what each of the
    chunk's customers got in the rolling last 7 days; what the chunk itself sends is counted
    as it is claimed."""

    def __init__(self, messages: list[Message], now: datetime) -> None:
        customers = _marketing_customers(messages)
        self._sent: Counter[int] = Counter()
        if customers:
            rows = (
                Message.objects.filter(customer_id__in=customers, purpose=Purpose.MARKETING)
                .filter(
                    Q(
                        status__in=(MessageStatus.SENT, MessageStatus.DELIVERED),
                        sent_at__gt=now - WEEK,
                    )
                    # Another worker's chunk on its way out counts too.
                    | Q(status=MessageStatus.SENDING)
                )
                .values_list("customer_id")
                .annotate(sent=Count("id"))
            )
            self._sent.update(dict(rows))

    def refusal(self, message: Message) -> str:
        """Why this message would break the cap, or ""."""
        if message.purpose != Purpose.MARKETING:
            return ""
        cap = message.shop.marketing_weekly_cap
        if cap == 0:
            return "the shop sends no marketing (weekly cap 0)"
        if message.customer_id is None:
            # The cap counts per customer; marketing to no customer has no consent either, and
            # is refused for that before the cap is asked (`consent_refusal`).
            return ""
        sent = self._sent[message.customer_id]
        if sent >= cap:
            return f"weekly marketing cap reached: {sent} sent in the last 7 days (cap {cap})"
        return ""

    def count(self, message: Message) -> None:
        if message.purpose == Purpose.MARKETING and message.customer_id is not None:
            self._sent[message.customer_id] += 1
