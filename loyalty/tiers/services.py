"""Deciding a member's tier from their trailing 12-month spend (or points earned), as the
shop's programme says.

A member moves up the moment their value reaches a higher tier's threshold, and down only at
their tier's yearly review (`Member.tier_review_on`): a good customer who spends less for a few
months keeps what they earned until the year is out, as members expect. Every move is a
`TierChange` row with the value it read, so the tier any perk read is always on record.

The member's row is locked for the decision: the earning, the perks and this module all read
`member.tier` under the same lock, so none of them ever acts on a tier being changed."""

import logging
import zoneinfo
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, Greatest
from django.utils import timezone

from loyalty.ledger import add_months, member_for
from loyalty.messages import tier_up_message_schedule
from loyalty.models import (
    TIER_POINTS_KINDS,
    EntryKind,
    LedgerEntry,
    Member,
    Programme,
    Tier,
    TierBasis,
    TierChange,
    TierChangeReason,
)
from loyalty.pages.cache import member_page_stale
from orders.models import Customer, FinancialStatus, Order, OrderEvent, OrderStatus, Shop
from postpurchase.queue import enqueue_on_commit

logger = logging.getLogger(__name__)

WINDOW_MONTHS = 12
# The nightly run looks this far behind the window's start for orders (or earnings) that left
# it since the last run: a night missed is caught up the next.
WINDOW_EXIT_LOOKBACK = timedelta(days=3)

_MONEY = DecimalField(max_digits=14, decimal_places=2)


def window_start(now: datetime) -> datetime:
    return add_months(now, -WINDOW_MONTHS)


def shop_today(shop: Shop, now: datetime) -> date:
    """The shop's local date: reviews fall due on the shop's calendar, not UTC's."""
    try:
        zone = zoneinfo.ZoneInfo(shop.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return now.astimezone(zone).date()


def one_year_after(day: date) -> date:
    """The same day a year later (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def review_date(today: date) -> date:
    """When a tier entered (or kept at a review) today is reviewed: the day after a full year
    in it, when the orders of the day it was reached have left the 12-month window (on the
    anniversary itself they are still in it, and would keep the member up another year)."""
    return one_year_after(today) + timedelta(days=1)


def trailing_spend(*, shop_id: int, customer_id: int, now: datetime) -> Decimal:
    """What the customer kept paying in the last 12 months: the totals of orders paid in the
    window, less the refunds listed on them; cancelled, voided and fully refunded orders count
    nothing."""
    refunded = (
        OrderEvent.objects.filter(order=OuterRef("pk"), kind=OrderEvent.Kind.REFUNDED)
        .annotate(amount=Cast(KT("data__amount"), _MONEY))
        .values("order")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    kept = (
        Order.objects.filter(
            shop_id=shop_id,
            customer_id=customer_id,
            paid_at__gt=window_start(now),
            paid_at__lte=now,
        )
        .exclude(status=OrderStatus.CANCELLED)
        .exclude(financial_status__in=[FinancialStatus.VOIDED, FinancialStatus.REFUNDED])
        .annotate(refunded=Coalesce(Subquery(refunded, output_field=_MONEY), Value(Decimal(0))))
        .annotate(kept=Greatest(F("total") - F("refunded"), Value(Decimal(0)), output_field=_MONEY))
        .aggregate(spend=Sum("kept"))
    )
    return (kept["spend"] or Decimal(0)).quantize(Decimal("0.01"))


def trailing_points(*, member_id: int, now: datetime) -> Decimal:
    """Points earned in the last 12 months, less what was taken back of them (a returned
    item's or a cancelled order's points): buying and returning climbs no tier."""
    summed = LedgerEntry.objects.filter(
        member_id=member_id,
        kind__in=TIER_POINTS_KINDS,
        created_at__gt=window_start(now),
        created_at__lte=now,
    ).aggregate(points=Sum(F("available_delta") + F("pending_delta")))
    return Decimal(max(summed["points"] or 0, 0))


def qualifying_value(member: Member, programme: Programme, now: datetime) -> Decimal:
    if programme.tier_basis == TierBasis.POINTS:
        return trailing_points(member_id=member.pk, now=now)
    return trailing_spend(shop_id=member.shop_id, customer_id=member.customer_id, now=now)


def tier_for(tiers: list[Tier], value: Decimal) -> Tier:
    """The highest tier whose threshold the value reaches (the lowest tier when none does)."""
    reached = [tier for tier in tiers if tier.threshold <= value]
    return reached[-1] if reached else tiers[0]


def _move(
    member: Member,
    *,
    to: Tier,
    reason: TierChangeReason,
    value: Decimal,
    now: datetime,
    today: date,
    is_lowest: bool = False,
) -> TierChange:
    """Put the (locked) member in `to`, record the move, and set its perks going."""
    before = member.tier
    member.tier = to
    member.tier_since = now
    # Nobody moves down from the lowest tier: it has no review.
    member.tier_review_on = None if is_lowest else review_date(today)
    member.save(update_fields=["tier", "tier_since", "tier_review_on", "updated_at"])
    change = TierChange.objects.create(
        shop_id=member.shop_id,
        member=member,
        from_tier=before,
        to_tier=to,
        reason=reason,
        qualifying_value=value,
        at=now,
    )
    _perks_follow(member, before, change)
    return change


def _perks_follow(member: Member, before: Tier | None, change: TierChange) -> None:
    """What a move sets going, after commit or in the same transaction: the early-access tag
    in Shopify, this quarter's free shipping, and the tier-up message."""
    to = change.to_tier
    if (before.early_access_tag if before else "") != to.early_access_tag:
        enqueue_on_commit("loyalty.tasks.member_tier_tags_push_task", member.pk)
    if to.free_shipping_quarterly:
        enqueue_on_commit("loyalty.tasks.member_free_shipping_grant_task", member.pk)
    if change.reason == TierChangeReason.QUALIFIED:
        tier_up_message_schedule(change)


def member_tier_recompute(*, member_id: int, now: datetime | None = None) -> TierChange | None:
    """Decide the member's tier now; returns the change made, if any.

    New members join at the lowest tier. A value reaching a higher tier moves them up at once
    (review a year later); a lower value moves them down only once their review date has come,
    to the tier the value reaches, and a review that keeps them where they are sets the next
    one a year on."""
    now = now or timezone.now()
    # The value the page shows moved with the order that brought us here, tier or not.
    member_page_stale(member_id)
    with transaction.atomic():
        member = (
            Member.objects.select_for_update(of=("self",)).select_related("tier").get(pk=member_id)
        )
        programme = Programme.objects.filter(shop_id=member.shop_id, is_active=True).first()
        tiers = list(Tier.objects.filter(shop_id=member.shop_id).order_by("rank"))
        if programme is None or not tiers:
            return None
        shop = Shop.objects.get(pk=member.shop_id)
        today = shop_today(shop, now)
        value = qualifying_value(member, programme, now)
        qualified = tier_for(tiers, value)
        change = None
        if member.tier is None:
            change = _move(
                member,
                to=tiers[0],
                reason=TierChangeReason.JOINED,
                value=value,
                now=now,
                today=today,
                is_lowest=True,
            )
        current: Tier = member.tier  # type: ignore[assignment]  # set just above if it was not
        if qualified.rank > current.rank:
            return _move(
                member,
                to=qualified,
                reason=TierChangeReason.QUALIFIED,
                value=value,
                now=now,
                today=today,
            )
        review_due = member.tier_review_on is not None and member.tier_review_on <= today
        if review_due and qualified.rank < current.rank:
            return _move(
                member,
                to=qualified,
                reason=TierChangeReason.REVIEW,
                value=value,
                now=now,
                today=today,
                is_lowest=qualified.rank == tiers[0].rank,
            )
        if review_due:
            member.tier_review_on = review_date(today)
            member.save(update_fields=["tier_review_on", "updated_at"])
        return change


def member_tier_join(member: Member, *, now: datetime | None = None) -> TierChange | None:
    """Put a member who has no tier yet in the shop's lowest one (their first recompute does
    it, and more: a value already above a threshold moves them straight up)."""
    if member.tier_id is not None:
        return None
    return member_tier_recompute(member_id=member.pk, now=now)


def customer_tier_recompute(*, shop_id: int, customer_id: int | None) -> TierChange | None:
    """Recompute the tier of the customer's membership; nothing for a customer who is not a
    member (the earning part makes them one on their first paid order) or a shop without a
    programme."""
    if customer_id is None:
        return None
    member_id = (
        Member.objects.filter(shop_id=shop_id, customer_id=customer_id)
        .values_list("pk", flat=True)
        .first()
    )
    if member_id is None:
        if not Programme.objects.filter(shop_id=shop_id, is_active=True).exists():
            return None
        member_id = member_for(Customer.objects.get(pk=customer_id)).pk
    return member_tier_recompute(member_id=member_id)


def members_due_for_recompute(*, now: datetime) -> list[int]:
    """The members the nightly run looks at: those whose yearly review has come (by the latest
    local date anywhere, a day early at worst: a review not yet due changes nothing), those
    whose qualifying orders or earnings left the 12-month window since the last runs, and
    those who have no tier yet in a shop that has tiers."""
    start = window_start(now)
    left_window = Q(paid_at__gt=start - WINDOW_EXIT_LOOKBACK, paid_at__lte=start)
    customers = Order.objects.filter(left_window).values("customer_id")
    earners = LedgerEntry.objects.filter(
        kind=EntryKind.EARN, created_at__gt=start - WINDOW_EXIT_LOOKBACK, created_at__lte=start
    ).values("member_id")
    tiered_shops = Tier.objects.values("shop_id")
    members = Member.objects.filter(shop__loyalty_programme__is_active=True).filter(
        Q(tier_review_on__lte=(now + timedelta(days=1)).date())
        | Q(customer_id__in=customers)
        | Q(pk__in=earners)
        | Q(tier__isnull=True, shop_id__in=tiered_shops)
    )
    return list(members.order_by("pk").values_list("pk", flat=True))


def members_tier_recompute(*, member_ids: Iterable[int], now: datetime | None = None) -> int:
    """Recompute each member in a transaction of its own; returns how many changed tier. One
    member's failure is logged and does not stop the rest."""
    changed = 0
    for member_id in member_ids:
        try:
            if member_tier_recompute(member_id=member_id, now=now) is not None:
                changed += 1
        except Exception:
            logger.exception("tier recompute failed for member %s", member_id)
    return changed
