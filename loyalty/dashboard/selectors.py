"""What the merchant's loyalty pages read, scoped to the shop: the programme and its tiers and
rewards, the members list, one member's page, and the programme's numbers over a range of days
against the range before it.

Every number is aggregated in the database, a fixed number of queries whatever the shop's size
(no query per member or per row): a shop with 100,000 members reads the same handful."""

import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.http import Http404
from django.utils import timezone

from loyalty.models import (
    EntryKind,
    LedgerEntry,
    Member,
    PointLot,
    Programme,
    Redemption,
    RedemptionStatus,
    Referral,
    ReferralStatus,
    Reward,
    Tier,
    TierChange,
)
from orders.dashboard.figures import Period
from orders.models import Order, OrderStatus, Shop
from orders.models.orders import REVERSED_FINANCIAL_STATUSES
from orders.tenancy import scoped

REDEEMED_STATUSES = (RedemptionStatus.ISSUED, RedemptionStatus.USED, RedemptionStatus.EXPIRED)

# Points whose lot expires within this many days count as "expiring soon".
EXPIRING_SOON_DAYS = 30


# The programme --------------------------------------------------------------------------------


def programme_for_shop(*, shop: Shop) -> Programme | None:
    return Programme.objects.filter(shop=shop).first()


def tiers_for_shop(*, shop: Shop) -> QuerySet[Tier]:
    return scoped(Tier, shop).order_by("rank", "pk")


def rewards_for_shop(*, shop: Shop) -> QuerySet[Reward]:
    return scoped(Reward, shop).select_related("product").order_by("position", "points_price", "pk")


# A code that was created counts as redeemed (used or not yet); a reservation that is still
# being issued or failed does not.
_REDEEMED = Q(redemptions__status__in=[s.value for s in REDEEMED_STATUSES])


def reward_catalogue_for_shop(*, shop: Shop) -> QuerySet[Reward]:
    """The shop's rewards with `redeemed` (codes created for it), `redemption_count` (any
    redemption at all) and `is_granted` (a tier's birthday gift or the referred friend's
    reward): either keeps the reward from being deleted. One grouped query."""
    return rewards_for_shop(shop=shop).annotate(
        redeemed=Count("redemptions", filter=_REDEEMED),
        redemption_count=Count("redemptions"),
        is_granted=Exists(Tier.objects.filter(birthday_reward=OuterRef("pk")))
        | Exists(Programme.objects.filter(referral_friend_reward=OuterRef("pk"))),
    )


def reward_get_for_shop(*, shop: Shop, reward_id: int) -> Reward:
    """The shop's reward with its counts, or a 404 (another shop's reward is not found)."""
    reward = reward_catalogue_for_shop(shop=shop).filter(pk=reward_id).first()
    if reward is None:
        raise Http404("No such reward")
    return reward


# Members --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberFilters:
    q: str = ""
    tier: int | None = None  # a tier's id; 0: members without a tier
    balance_min: int | None = None
    balance_max: int | None = None
    expiring: bool = False


def _expiring_points(now: datetime) -> Subquery:
    soon = now + timedelta(days=EXPIRING_SOON_DAYS)
    lots = (
        PointLot.objects.filter(
            member=OuterRef("pk"), remaining__gt=0, expires_at__isnull=False, expires_at__lte=soon
        )
        .order_by()
        .values("member")
        .annotate(total=Sum("remaining"))
        .values("total")
    )
    return Subquery(lots, output_field=IntegerField())


def member_list_for_shop(
    *, shop: Shop, filters: MemberFilters, ordering: Sequence[str]
) -> QuerySet[Member]:
    """The shop's members with their customer and tier (joined), and `expiring_points` (what
    expires within 30 days, one correlated sum per shown row, read by the partial index of
    open lots)."""
    now = timezone.now()
    members = (
        scoped(Member, shop)
        .select_related("customer", "tier")
        .annotate(expiring_points=Coalesce(_expiring_points(now), 0))
    )
    if filters.q:
        words = filters.q.strip()
        members = members.filter(
            Q(customer__email__icontains=words)
            | Q(customer__first_name__icontains=words)
            | Q(customer__last_name__icontains=words)
            | Q(referral_code__iexact=words)
        )
    if filters.tier == 0:
        members = members.filter(tier__isnull=True)
    elif filters.tier is not None:
        members = members.filter(tier_id=filters.tier)
    if filters.balance_min is not None:
        members = members.filter(available__gte=filters.balance_min)
    if filters.balance_max is not None:
        members = members.filter(available__lte=filters.balance_max)
    if filters.expiring:
        soon = now + timedelta(days=EXPIRING_SOON_DAYS)
        members = members.filter(
            Exists(
                PointLot.objects.filter(
                    member=OuterRef("pk"),
                    remaining__gt=0,
                    expires_at__isnull=False,
                    expires_at__lte=soon,
                )
            )
        )
    return members.order_by(*ordering)


def member_get_for_shop(*, shop: Shop, member_id: int) -> Member:
    """The shop's member, or a 404 (another shop's member is not found)."""
    member = scoped(Member, shop).select_related("customer", "tier").filter(pk=member_id).first()
    if member is None:
        raise Http404("No such member")
    return member


def member_ledger(*, member: Member) -> QuerySet[LedgerEntry]:
    """The member's entries, newest first (read by the (member, -created_at) index)."""
    return (
        LedgerEntry.objects.filter(member=member)
        .select_related("order", "actor", "api_key")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class MemberPage:
    tier_changes: list[TierChange]
    lots: list[PointLot]
    redemptions: list[Redemption]
    referrals: list[Referral]
    expiring_soon: int


def member_page(*, member: Member) -> MemberPage:
    """What the member's page shows beside the ledger: a few bounded queries."""
    now = timezone.now()
    lots = list(
        PointLot.objects.filter(member=member, remaining__gt=0).order_by(
            F("expires_at").asc(nulls_last=True), "available_at", "id"
        )[:50]
    )
    soon = now + timedelta(days=EXPIRING_SOON_DAYS)
    return MemberPage(
        tier_changes=list(
            TierChange.objects.filter(member=member)
            .select_related("from_tier", "to_tier")
            .order_by("-at", "-id")[:20]
        ),
        lots=lots,
        redemptions=list(
            Redemption.objects.filter(member=member)
            .select_related("reward", "used_order")
            .order_by("-created_at", "-id")[:20]
        ),
        referrals=list(
            Referral.objects.filter(referrer=member)
            .select_related("friend", "friend_order")
            .order_by("-created_at", "-id")[:20]
        ),
        expiring_soon=sum(
            lot.remaining for lot in lots if lot.expires_at is not None and lot.expires_at <= soon
        ),
    )


# The numbers ----------------------------------------------------------------------------------


def share(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """A percentage to one decimal; None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class PointFlows:
    """Points moved in a range of days, by what moved them."""

    issued: int = 0  # earned: orders' points (pending when booked) and bonuses
    redeemed: int = 0  # spent on rewards, less the points of rewards that went unused
    expired: int = 0
    taken_back: int = 0  # clawed back for returned items and cancelled orders
    adjusted: int = 0  # staff adjustments, net

    @property
    def redemption_rate(self) -> Decimal | None:
        """Points redeemed for every 100 issued in the range."""
        return share(self.redeemed, self.issued)


@dataclass(frozen=True)
class BuyerGroup:
    """Customers who ordered in the range, members or not: how many came back within it and
    what an order was worth (orders that stood: not cancelled, payment not voided or fully
    refunded)."""

    customers: int = 0
    repeaters: int = 0  # customers with two orders or more in the range
    orders: int = 0
    revenue: Decimal = Decimal("0")  # in the shop's currency
    revenue_orders: int = 0  # orders in the shop's currency, which the average is over

    @property
    def repeat_rate(self) -> Decimal | None:
        return share(self.repeaters, self.customers)

    @property
    def average_order(self) -> Decimal | None:
        if not self.revenue_orders:
            return None
        return (self.revenue / self.revenue_orders).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(frozen=True)
class PeriodFigures:
    new_members: int
    flows: PointFlows
    members: BuyerGroup
    others: BuyerGroup
    referrals: dict[str, int]  # invited, ordered, rewarded, refused, flagged
    tier_moves: dict[str, int]  # joined, up, down

    @property
    def participation(self) -> Decimal | None:
        """Members among the customers who ordered in the range."""
        return share(self.members.customers, self.members.customers + self.others.customers)


@dataclass(frozen=True)
class Liability:
    """What the points not yet spent are worth to the shop, as of a moment: available points
    (positive balances only: a negative balance is owed to the shop, not by it) and, apart,
    points still pending (earned on orders still inside their return window)."""

    as_of: datetime
    point_value: Decimal
    currency: str
    available_points: int
    pending_points: int
    reserved_points: int
    members_in_debt: int
    debt_points: int

    @property
    def available_value(self) -> Decimal:
        return (self.available_points * self.point_value).quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def pending_value(self) -> Decimal:
        return (self.pending_points * self.point_value).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(frozen=True)
class WeekFlow:
    first: date
    issued: int
    redeemed: int


@dataclass(frozen=True)
class TierCount:
    name: str
    members: int


@dataclass
class LoyaltyNumbers:
    period: Period
    members_total: int
    current: PeriodFigures
    previous: PeriodFigures
    liability: Liability
    weeks: list[WeekFlow] = field(default_factory=list)
    tiers: list[TierCount] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.members_total


def _point_flows(shop: Shop, period: Period, zone: zoneinfo.ZoneInfo) -> tuple[PointFlows, ...]:
    """One query: the range's and the previous range's flows, by kind (the (shop, kind,
    created_at) index)."""
    points = F("available_delta") + F("pending_delta")
    sums: dict[str, Sum] = {}
    spans = {"cur": period.bounds(zone), "prev": period.previous.bounds(zone)}
    kinds = {
        "issued": [EntryKind.EARN],
        "redeemed": [EntryKind.REDEEM, EntryKind.RETURN],
        "expired": [EntryKind.EXPIRE],
        "taken_back": [EntryKind.CLAWBACK],
        "adjusted": [EntryKind.ADJUST],
    }
    for span, (since, until) in spans.items():
        for name, entry_kinds in kinds.items():
            sums[f"{span}_{name}"] = Sum(
                points,
                filter=Q(kind__in=entry_kinds, created_at__gte=since, created_at__lt=until),
            )
    earliest = spans["prev"][0]
    row = LedgerEntry.objects.filter(shop=shop, created_at__gte=earliest).aggregate(**sums)

    def flows(span: str) -> PointFlows:
        value = {name: row[f"{span}_{name}"] or 0 for name in kinds}
        return PointFlows(
            issued=value["issued"],
            # Redemptions are debits; returned rewards' points are credits against them.
            redeemed=-value["redeemed"],
            expired=-value["expired"],
            taken_back=-value["taken_back"],
            adjusted=value["adjusted"],
        )

    return flows("cur"), flows("prev")


def _weekly_flows(shop: Shop, period: Period, zone: zoneinfo.ZoneInfo) -> list[WeekFlow]:
    """Issued and redeemed per 7-day week from the range's first day: one query grouped by
    day (at most a row per day and kind)."""
    since, until = period.bounds(zone)
    rows = (
        LedgerEntry.objects.filter(
            shop=shop,
            created_at__gte=since,
            created_at__lt=until,
            kind__in=[EntryKind.EARN, EntryKind.REDEEM, EntryKind.RETURN],
        )
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day", "kind")
        .annotate(moved=Sum(F("available_delta") + F("pending_delta")))
        .order_by()
    )
    issued: dict[date, int] = {}
    redeemed: dict[date, int] = {}
    for row in rows:
        week = period.first + timedelta(days=((row["day"] - period.first).days // 7) * 7)
        if row["kind"] == EntryKind.EARN:
            issued[week] = issued.get(week, 0) + row["moved"]
        else:
            redeemed[week] = redeemed.get(week, 0) - row["moved"]
    weeks = []
    week = period.first
    while week <= period.last:
        weeks.append(WeekFlow(week, issued.get(week, 0), redeemed.get(week, 0)))
        week += timedelta(days=7)
    return weeks


_BUYERS_SQL = """
SELECT span, is_member, COUNT(*), COUNT(*) FILTER (WHERE orders >= 2), SUM(orders),
       SUM(revenue), SUM(revenue_orders)
FROM ({buyers}) AS buyers GROUP BY span, is_member
"""


def _buyer_groups(
    shop: Shop, period: Period, zone: zoneinfo.ZoneInfo
) -> dict[tuple[str, bool], BuyerGroup]:
    """One query over the shop's orders of both ranges (the (shop, -placed_at) index): each
    customer's orders per range, then per range members (joined before the range's end) and
    other customers."""
    since, until = period.bounds(zone)
    before_since, _ = period.previous.bounds(zone)
    in_shop_currency = Q(currency=shop.currency)
    buyers = (
        Order.objects.filter(
            shop=shop, customer__isnull=False, placed_at__gte=before_since, placed_at__lt=until
        )
        .exclude(status=OrderStatus.CANCELLED)
        .exclude(financial_status__in=REVERSED_FINANCIAL_STATUSES)
        .annotate(
            span=Case(When(placed_at__gte=since, then=Value("cur")), default=Value("prev")),
            is_member=Case(
                When(placed_at__gte=since, then=Exists(_joined_before(until))),
                default=Exists(_joined_before(since)),
                output_field=BooleanField(),
            ),
        )
        .values("span", "customer_id", "is_member")
        .annotate(
            orders=Count("pk"),
            revenue=Coalesce(Sum("total", filter=in_shop_currency), Value(Decimal("0"))),
            revenue_orders=Count("pk", filter=in_shop_currency),
        )
        .order_by()
    )
    inner, params = buyers.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(_BUYERS_SQL.format(buyers=inner), params)
        rows = cursor.fetchall()
    return {
        (span, is_member): BuyerGroup(
            customers=customers,
            repeaters=repeaters,
            orders=int(orders or 0),
            revenue=Decimal(revenue or 0),
            revenue_orders=int(revenue_orders or 0),
        )
        for span, is_member, customers, repeaters, orders, revenue, revenue_orders in rows
    }


def _joined_before(moment: datetime) -> QuerySet[Member]:
    return Member.objects.filter(customer_id=OuterRef("customer_id"), created_at__lt=moment)


def _counts_by_span(
    rows: QuerySet[Any],
    moment: str,
    conditions: dict[str, Q],
    period: Period,
    zone: zoneinfo.ZoneInfo,
) -> tuple[dict[str, int], dict[str, int]]:
    """How many rows meet each condition with `moment` in the range and in the one before it:
    one query."""
    spans = {"cur": period.bounds(zone), "prev": period.previous.bounds(zone)}
    counts = {
        f"{span}_{name}": Count(
            "pk", filter=condition & Q(**{f"{moment}__gte": s, f"{moment}__lt": u})
        )
        for span, (s, u) in spans.items()
        for name, condition in conditions.items()
    }
    row = rows.filter(**{f"{moment}__gte": spans["prev"][0]}).aggregate(**counts)
    return (
        {name: row[f"cur_{name}"] for name in conditions},
        {name: row[f"prev_{name}"] for name in conditions},
    )


def _referral_counts(
    shop: Shop, period: Period, zone: zoneinfo.ZoneInfo
) -> tuple[dict[str, int], dict[str, int]]:
    """Referrals made in each range, by how far they went."""
    reached = {
        "invited": Q(),
        "ordered": Q(friend_order__isnull=False)
        | Q(status__in=[ReferralStatus.ORDERED, ReferralStatus.REWARDED]),
        "rewarded": Q(status=ReferralStatus.REWARDED),
        "refused": Q(status=ReferralStatus.REFUSED),
        "flagged": Q(status=ReferralStatus.FLAGGED),
    }
    return _counts_by_span(Referral.objects.filter(shop=shop), "created_at", reached, period, zone)


def _tier_moves(
    shop: Shop, period: Period, zone: zoneinfo.ZoneInfo
) -> tuple[dict[str, int], dict[str, int]]:
    """Tier changes in each range: joined (no tier before), up or down by the tiers' ranks."""
    moves = {
        "joined": Q(from_tier__isnull=True),
        "up": Q(from_tier__rank__lt=F("to_tier__rank")),
        "down": Q(from_tier__rank__gt=F("to_tier__rank")),
    }
    return _counts_by_span(TierChange.objects.filter(shop=shop), "at", moves, period, zone)


def _members_and_balances(shop: Shop, period: Period, zone: zoneinfo.ZoneInfo) -> dict[str, int]:
    """One pass over the shop's members: how many, how many joined in each range, and the
    points they hold now."""
    since, until = period.bounds(zone)
    before_since, _ = period.previous.bounds(zone)
    return Member.objects.filter(shop=shop).aggregate(
        total=Count("pk"),
        new_cur=Count("pk", filter=Q(created_at__gte=since, created_at__lt=until)),
        new_prev=Count("pk", filter=Q(created_at__gte=before_since, created_at__lt=since)),
        held_available=Coalesce(Sum("available", filter=Q(available__gt=0)), 0),
        held_pending=Coalesce(Sum("pending"), 0),
        held_reserved=Coalesce(Sum("reserved"), 0),
        in_debt=Count("pk", filter=Q(available__lt=0)),
        debt=Coalesce(Sum("available", filter=Q(available__lt=0)), 0),
    )


def _tier_distribution(shop: Shop) -> list[TierCount]:
    """Members per tier now, lowest tier first, those without a tier (yet) last."""
    tiers = list(tiers_for_shop(shop=shop))
    rows = Member.objects.filter(shop=shop).values("tier_id").annotate(n=Count("pk")).order_by()
    counts: dict[int | None, int] = {row["tier_id"]: row["n"] for row in rows}
    shown = [TierCount(tier.name, counts.get(tier.pk, 0)) for tier in tiers]
    if counts.get(None):
        shown.append(TierCount("", counts[None]))
    return shown


def loyalty_numbers(*, shop: Shop, programme: Programme, period: Period) -> LoyaltyNumbers:
    """The programme's numbers for the range and the one before it: eight queries, whatever
    the number of members, entries or orders."""
    zone = shop.zone
    members = _members_and_balances(shop, period, zone)
    flows, flows_before = _point_flows(shop, period, zone)
    buyers = _buyer_groups(shop, period, zone)
    referrals, referrals_before = _referral_counts(shop, period, zone)
    moves, moves_before = _tier_moves(shop, period, zone)
    current = PeriodFigures(
        new_members=members["new_cur"],
        flows=flows,
        members=buyers.get(("cur", True), BuyerGroup()),
        others=buyers.get(("cur", False), BuyerGroup()),
        referrals=referrals,
        tier_moves=moves,
    )
    previous = PeriodFigures(
        new_members=members["new_prev"],
        flows=flows_before,
        members=buyers.get(("prev", True), BuyerGroup()),
        others=buyers.get(("prev", False), BuyerGroup()),
        referrals=referrals_before,
        tier_moves=moves_before,
    )
    liability = Liability(
        as_of=timezone.now(),
        point_value=programme.point_value,
        currency=shop.currency,
        available_points=members["held_available"],
        pending_points=members["held_pending"],
        reserved_points=members["held_reserved"],
        members_in_debt=members["in_debt"],
        debt_points=-members["debt"],
    )
    return LoyaltyNumbers(
        period=period,
        members_total=members["total"],
        current=current,
        previous=previous,
        liability=liability,
        weeks=_weekly_flows(shop, period, zone),
        tiers=_tier_distribution(shop),
    )
