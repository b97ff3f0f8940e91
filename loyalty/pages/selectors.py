"""What the customer's loyalty page shows, read straight from the ledger and its rows: the page
shows whatever the ledger holds, whichever part of the programme booked it."""

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from loyalty.ledger import add_months
from loyalty.models import (
    EarningStatus,
    EntryKind,
    LedgerEntry,
    Member,
    OrderEarning,
    PointLot,
    Programme,
    Redemption,
    RedemptionStatus,
    Reward,
    Tier,
    TierBasis,
)
from loyalty.tiers.services import WINDOW_MONTHS as TIER_WINDOW_MONTHS
from loyalty.tiers.services import qualifying_value, window_start
from orders.models import Customer, Order

HISTORY_PER_PAGE = 20
# Lots expiring within this many days are listed, grouped by their date.
EXPIRING_WITHIN = timedelta(days=60)


def programme_for_customer(customer: Customer) -> Programme | None:
    """The shop's programme when the customer may see it: an active programme of an active
    shop, for a customer whose data was not erased."""
    if customer.redacted_at is not None:
        return None
    return (
        Programme.objects.select_related("shop")
        .filter(shop_id=customer.shop_id, is_active=True, shop__is_active=True)
        .first()
    )


def customer_for_page(customer_id: int) -> Customer | None:
    return Customer.objects.select_related("shop").filter(pk=customer_id).first()


@dataclass(frozen=True)
class PendingOrder:
    number: str
    points: int
    # None until the order is delivered: the points confirm after its return window.
    confirm_at: datetime | None


def pending_orders(member: Member) -> list[PendingOrder]:
    """Orders whose points are still pending, with when they confirm."""
    earnings = list(
        OrderEarning.objects.filter(member=member, status=EarningStatus.PENDING)
        .select_related("order")
        .order_by("confirm_at", "order__placed_at", "pk")
    )
    pending: dict[int, int] = dict(
        LedgerEntry.objects.filter(member=member, order_id__in=[e.order_id for e in earnings])
        .values_list("order_id")
        .annotate(pending_points=Sum("pending_delta"))
    )
    return [
        PendingOrder(
            number=e.order.number, points=pending.get(e.order_id) or 0, confirm_at=e.confirm_at
        )
        for e in earnings
        if (pending.get(e.order_id) or 0) > 0
    ]


def history_page(member: Member, page_number: str | int | None) -> Page:
    entries = (
        LedgerEntry.objects.filter(member=member)
        .select_related("order")
        .order_by("-created_at", "-id")
    )
    return Paginator(entries, HISTORY_PER_PAGE).get_page(page_number)


@dataclass(frozen=True)
class TierProgress:
    basis: str
    current: Tier | None
    following: Tier | None
    # The member's trailing 12-month spend (currency) or points earned.
    value: Decimal
    # What is still missing to reach `following` (0 when there is none).
    missing: Decimal
    percent: int

    @property
    def counts_points(self) -> bool:
        """Tiers reached by points earned, not by spend."""
        return self.basis == TierBasis.POINTS


def tier_progress(member: Member, programme: Programme, now: datetime) -> TierProgress | None:
    tiers = list(Tier.objects.filter(shop_id=member.shop_id).order_by("rank"))
    if not tiers:
        return None
    current = member.tier
    # The same figure the tiers decide on, so the page never promises a tier they would not give.
    value = qualifying_value(member, programme, now)
    if current is not None:
        following = next((t for t in tiers if t.rank > current.rank), None)
    else:  # not yet placed by the tiers' sweep: the goal is the first tier above the value
        following = next((t for t in tiers if t.threshold > value), None)
    if following is None:
        return TierProgress(programme.tier_basis, current, None, value, Decimal("0"), 100)
    missing = max(following.threshold - value, Decimal("0"))
    percent = (
        100 if following.threshold <= 0 else int(min(value / following.threshold, Decimal(1)) * 100)
    )
    return TierProgress(programme.tier_basis, current, following, value, missing, percent)


def rewards_offered(member: Member) -> list[Reward]:
    return list(
        Reward.objects.filter(shop_id=member.shop_id, is_active=True).order_by(
            "position", "points_price", "pk"
        )
    )


def codes_issued(customer: Customer, now: datetime) -> list[Redemption]:
    """The customer's codes still to use, soonest ending first (bought or granted)."""
    return list(
        Redemption.objects.filter(
            customer=customer, status=RedemptionStatus.ISSUED, ends_at__gt=now
        )
        .select_related("reward")
        .order_by("ends_at", "pk")
    )


@dataclass(frozen=True)
class Redeemed:
    """The redemption just made, as the page tells it: the code to type while it can be used,
    or that it is still being created, or that it could not be and the points are back."""

    reward_name: str
    code: str
    ends_at: datetime
    is_usable: bool
    is_in_progress: bool


def redeemed_for(customer: Customer, redemption_id: int) -> Redeemed | None:
    """One of the customer's own redemptions (the one just made), never another's."""
    redemption = (
        Redemption.objects.filter(customer=customer, pk=redemption_id)
        .select_related("reward")
        .first()
    )
    if redemption is None:
        return None
    return Redeemed(
        reward_name=redemption.reward.name,
        code=redemption.code,
        ends_at=redemption.ends_at,
        is_usable=redemption.is_code_usable,
        is_in_progress=redemption.is_being_issued,
    )


@dataclass(frozen=True)
class ExpiringPoints:
    on: date
    points: int


def points_expiring(member: Member, now: datetime) -> list[ExpiringPoints]:
    """Points that expire within 60 days, summed per day (in the current time zone)."""
    lots = PointLot.objects.filter(
        member=member,
        remaining__gt=0,
        expires_at__isnull=False,
        expires_at__lte=now + EXPIRING_WITHIN,
    ).order_by("expires_at")
    by_day: OrderedDict[date, int] = OrderedDict()
    for expires_at, remaining in lots.values_list("expires_at", "remaining"):
        day = timezone.localdate(expires_at)
        by_day[day] = by_day.get(day, 0) + remaining
    return [ExpiringPoints(on=day, points=points) for day, points in by_day.items()]


@dataclass(frozen=True)
class ReferralShare:
    url: str
    mailto: str
    sms: str


def member_referral_url(member: Member) -> str:
    """The member's referral link: the page where a friend gets the welcome code."""
    path = reverse("loyalty_referrals:page", args=[member.referral_code])
    return f"{settings.PUBLIC_BASE_URL}{path}"


def referral_share(url: str, subject: str, message: str) -> ReferralShare:
    body = f"{message} {url}"
    return ReferralShare(
        url=url,
        mailto="mailto:?" + urlencode({"subject": subject, "body": body}, quote_via=quote),
        sms="sms:?" + urlencode({"body": body}, quote_via=quote),
    )


def _next_local_midnight(now: datetime) -> datetime:
    """The next midnight in the current time zone (the customer's, inside their locale)."""
    today = timezone.localtime(now).date()
    return timezone.make_aware(datetime.combine(today + timedelta(days=1), datetime.min.time()))


def _lot_enters_expiring(member: Member, now: datetime) -> datetime | None:
    """When the next lot not yet listed as expiring soon comes within `EXPIRING_WITHIN`."""
    expires_at = (
        PointLot.objects.filter(
            member=member, remaining__gt=0, expires_at__gt=now + EXPIRING_WITHIN
        )
        .order_by("expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )
    return expires_at - EXPIRING_WITHIN if expires_at is not None else None


def _leaves_tier_window(member: Member, programme: Programme, now: datetime) -> datetime | None:
    """When the oldest order (or earning) counted in the tier's 12-month value leaves the
    window, so the value on the page falls. Early rather than late: a page re-rendered too
    soon costs a render, one kept too long says something wrong."""
    start = window_start(now)
    if programme.tier_basis == TierBasis.POINTS:
        oldest = (
            LedgerEntry.objects.filter(
                member=member,
                kind__in=[EntryKind.EARN, EntryKind.CLAWBACK],
                created_at__gt=start,
                created_at__lte=now,
            )
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
    else:
        oldest = (
            Order.objects.filter(
                shop_id=member.shop_id,
                customer_id=member.customer_id,
                paid_at__gt=start,
                paid_at__lte=now,
            )
            .order_by("paid_at")
            .values_list("paid_at", flat=True)
            .first()
        )
    return add_months(oldest, TIER_WINDOW_MONTHS) if oldest is not None else None


def page_changes_at(
    member: Member,
    programme: Programme,
    now: datetime,
    *,
    codes: list[Redemption],
    tier: TierProgress | None,
) -> datetime:
    """The first moment the page would read differently with nothing changed but the clock:
    a listed code ends, points come within the "expiring soon" list, the tier's 12-month value
    falls, or the day turns (in the current time zone). A cached page lives no longer."""
    moments = [_next_local_midnight(now), *(code.ends_at for code in codes)]
    moments.append(_lot_enters_expiring(member, now) or moments[0])
    if tier is not None:
        moments.append(_leaves_tier_window(member, programme, now) or moments[0])
    return min(moments)
