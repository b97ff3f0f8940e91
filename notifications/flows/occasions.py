"""Birthday and first-purchase anniversary messages, on the customer's own date.

An hourly tick looks for customers whose occasion is today where they live (their zone, else
the shop's) and whose local send time (the start of that day plus the flow's delay, 10:00 by
default) has come. SQL narrows the customers to the few calendar dates that are "today"
somewhere on Earth; only those candidates are checked in Python. Each customer gets one
message per occasion and year: the message is about the year.

The finding is its own function, `occasions_due` (public through `notifications.services`):
whose occasion is due now in their zone, for any shops and any local send time. The messages
here and loyalty's birthday and anniversary points both read it."""

import calendar
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from notifications.engine.kinds import flows_enabled_for_kind
from notifications.engine.planning import customer_as_recipient, flow_schedule
from notifications.models import Flow, Message
from orders.models import Customer, Order, OrderStatus
from postpurchase.message_kinds import MessagePlan

BIRTHDAY = "birthday"
ANNIVERSARY = "first_order_anniversary"


def occasion_date(month: int, day: int, year: int) -> date:
    """The day an occasion falls on in `year`: Feb 29 is kept on Feb 28 in other years."""
    if (month, day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def _month_days(days: Iterable[date]) -> set[tuple[int, int]]:
    """The (month, day) pairs of `days`, with Feb 29 when a non-leap Feb 28 is among them."""
    pairs = {(d.month, d.day) for d in days}
    pairs |= {(2, 29) for d in days if (d.month, d.day) == (2, 28) and not calendar.isleap(d.year)}
    return pairs


def _matching(field: str, days: list[date]) -> Q:
    """`field`'s month and day is one of `days`': a filter in SQL, whatever the year."""
    condition = Q(pk__in=[])
    for month, day in sorted(_month_days(days)):
        condition |= Q(**{f"{field}__month": month, f"{field}__day": day})
    return condition


def _today_somewhere(now: datetime, margin: int = 1) -> list[date]:
    """Every calendar date it is somewhere on Earth at `now` (zones span UTC-12 to UTC+14),
    widened by `margin` days on each side."""
    today = now.astimezone(zoneinfo.ZoneInfo("UTC")).date()
    return [today + timedelta(days=offset) for offset in range(-margin, margin + 1)]


@dataclass(frozen=True)
class OccasionDue:
    """A customer's occasion, today where they live, whose local time has come."""

    customer_id: int
    shop_id: int
    occasion: str
    # The local year of the occasion: one per customer, occasion and year.
    year: int
    # The local start of the day plus the shop's delay.
    due: datetime
    # What the occasion's message says (names, shop, the first order's number and date).
    context: dict[str, Any]


def _local_due(
    delay: timedelta, zone_name: str, month: int, day: int, now: datetime
) -> tuple[int, datetime] | None:
    """(year, due time) when the occasion is today in the zone and its send time has come."""
    zone = zoneinfo.ZoneInfo(zone_name)
    local_today = now.astimezone(zone).date()
    if occasion_date(month, day, local_today.year) != local_today:
        return None
    due = datetime.combine(local_today, time(0), tzinfo=zone) + delay
    return (local_today.year, due) if due <= now else None


def _birthdays_due(delays: Mapping[int, timedelta], now: datetime) -> list[OccasionDue]:
    candidates = Customer.objects.filter(
        _matching("birthday", _today_somewhere(now)),
        shop_id__in=list(delays),
        redacted_at__isnull=True,
    ).values(
        "pk",
        "shop_id",
        "first_name",
        "birthday",
        "timezone",
        "shop__timezone",
        "shop__name",
        "shop__website_url",
    )
    found = []
    for row in candidates:
        birthday = row["birthday"]
        if birthday is None:  # never: the filter matched its month and day
            continue
        zone = row["timezone"] or row["shop__timezone"]
        hit = _local_due(delays[row["shop_id"]], zone, birthday.month, birthday.day, now)
        if hit:
            context = {
                "shop_name": row["shop__name"],
                "shop_url": row["shop__website_url"],
                "customer_first_name": row["first_name"],
            }
            found.append(OccasionDue(row["pk"], row["shop_id"], BIRTHDAY, hit[0], hit[1], context))
    return found


def _anniversaries_due(delays: Mapping[int, timedelta], now: datetime) -> list[OccasionDue]:
    # A first order's local date may be a day off its UTC date: look one day further out.
    counted = ~Q(status=OrderStatus.CANCELLED)
    earlier = Order.objects.filter(
        counted, customer_id=OuterRef("customer_id"), placed_at__lt=OuterRef("placed_at")
    )
    candidates = (
        Order.objects.filter(
            counted,
            _matching("placed_at", _today_somewhere(now, margin=2)),
            shop_id__in=list(delays),
            customer__isnull=False,
            customer__redacted_at__isnull=True,
            placed_at__lt=now - timedelta(days=300),
        )
        .exclude(Exists(earlier))
        .values(
            "customer_id",
            "shop_id",
            "number",
            "placed_at",
            "customer__first_name",
            "customer__timezone",
            "shop__timezone",
            "shop__name",
            "shop__website_url",
        )
    )
    found = []
    for row in candidates:
        zone = row["customer__timezone"] or row["shop__timezone"]
        placed = row["placed_at"].astimezone(zoneinfo.ZoneInfo(zone)).date()
        hit = _local_due(delays[row["shop_id"]], zone, placed.month, placed.day, now)
        if hit and hit[0] > placed.year:
            context = {
                "shop_name": row["shop__name"],
                "shop_url": row["shop__website_url"],
                "customer_first_name": row["customer__first_name"],
                "years": hit[0] - placed.year,
                "order_number": row["number"],
                "first_order_date": placed.isoformat(),
            }
            found.append(
                OccasionDue(
                    row["customer_id"], row["shop_id"], ANNIVERSARY, hit[0], hit[1], context
                )
            )
    return found


_FINDERS = {BIRTHDAY: _birthdays_due, ANNIVERSARY: _anniversaries_due}


def occasions_due(
    *, occasion: str, delays: Mapping[int, timedelta], now: datetime
) -> list[OccasionDue]:
    """The customers of the shops in `delays` whose `occasion` (BIRTHDAY or ANNIVERSARY) is
    today in their zone (else their shop's) and whose local time for it has come: the start
    of their day plus their shop's delay. A customer stays due for the rest of their day, so
    an hourly caller must itself remember whom it served this year."""
    if not delays:
        return []
    return _FINDERS[occasion](delays, now)


def _schedule(kind: str, flows: dict[int, Flow], due: list[OccasionDue]) -> list[Message]:
    """Schedule what is due, skipping (in one query) the customers already owed it this year."""
    done = set(
        Message.objects.filter(
            kind=kind, about_type="year", customer_id__in=[d.customer_id for d in due]
        ).values_list("customer_id", "about_id")
    )
    todo = [d for d in due if (d.customer_id, d.year) not in done]
    customers = Customer.objects.prefetch_related("consents").in_bulk([d.customer_id for d in todo])
    scheduled = []
    for item in todo:
        customer = customers[item.customer_id]
        plan = MessagePlan(about=("year", item.year), due=item.due, context=item.context)
        recipient = customer_as_recipient(customer)
        scheduled += flow_schedule(flow=flows[customer.shop_id], order=recipient, plan=plan)
    return scheduled


def occasions_schedule_due(*, now: datetime | None = None) -> list[Message]:
    """Schedule the birthday and anniversary messages whose local send time has come."""
    now = now or timezone.now()
    scheduled = []
    for kind in (BIRTHDAY, ANNIVERSARY):
        flows = flows_enabled_for_kind(kind=kind)
        if flows:
            delays = {shop_id: flow.delay for shop_id, flow in flows.items()}
            scheduled += _schedule(
                kind, flows, occasions_due(occasion=kind, delays=delays, now=now)
            )
    return scheduled
