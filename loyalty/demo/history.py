"""A year of the demo programme, member by member, in the order things happened: each paid
order's points booked pending per line at the member's tier multiplier of that moment, the
member's tier recomputed on their 12-month spend (up at once), the points confirmed once the
return window after delivery closed, removed when the order was cancelled, taken back item by
item for the demo's refunded returns, review bonuses for the reviews written under the shop's
points incentive, some rewards bought (most codes used on a later order, some left to expire
and their points returned), lots expired nine months after they were confirmed.

The rules are the services' own (`points_for`, the clawback's cumulative share, `tier_for` on
the window of `window_start`, the lot order of `entry_book`); the rows are written in bulk with
the times they happened, and no message is scheduled: this is history, not news."""

import heapq
import itertools
import random
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db.models import Count, DecimalField, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from loyalty.demo.book import Ledger, MemberBook, rows_insert
from loyalty.earning.orders import CLAWBACK_RESOLUTIONS, order_confirm_booking, points_for
from loyalty.ledger import Booking
from loyalty.models import (
    EarningStatus,
    EntryKind,
    LineEarning,
    Member,
    OrderEarning,
    PointLot,
    Redemption,
    RedemptionSource,
    RedemptionStatus,
    Reward,
    Subject,
    Tier,
    TierChange,
    TierChangeReason,
)
from loyalty.programme.defaults import ProgrammeStarted
from loyalty.rewards.codes import _CODE_ALPHABET
from loyalty.rewards.redemption import EXPIRY_GRACE
from loyalty.tiers.services import review_date, shop_today, tier_for, window_start
from orders.models import (
    FinancialStatus,
    LineItem,
    Order,
    OrderEvent,
    OrderStatus,
    Shop,
)

_MONEY = DecimalField(max_digits=14, decimal_places=2)
# A member with enough points buys a reward after this share of their confirmations.
REDEEM_SHARE = 0.3
# Of the codes bought, the share used on the member's next order when there is one in time.
USE_SHARE = 0.8


def draw_code(rng: random.Random, prefix: str, length: int) -> str:
    """A code in the services' alphabet, drawn from the demo's seed (the services draw theirs
    from `secrets`: the demo must come out the same every time)."""
    body = "".join(rng.choice(_CODE_ALPHABET) for _ in range(length))
    return f"{prefix}-{body}" if prefix else body


@dataclass
class DemoOrder:
    pk: int
    number: str
    customer_id: int
    placed_at: datetime
    paid_at: datetime
    status: str
    financial_status: str
    delivered_at: datetime | None
    cancelled_at: datetime | None
    # What the 12-month spend counts of it (`trailing_spend`'s rule).
    kept: Decimal
    lines: list[tuple[int, Decimal, int]] = field(default_factory=list)


@dataclass
class Account(MemberBook):
    """A member as the history builds them: their balance, tier and earnings."""

    customer_id: int = 0
    earnings: dict[int, OrderEarning] = field(default_factory=dict)
    lines: dict[int, LineEarning] = field(default_factory=dict)
    # Points still pending per order (what the order's confirmation moves).
    order_pending: dict[int, int] = field(default_factory=dict)
    tier_changes: list[TierChange] = field(default_factory=list)
    redemptions: list[Redemption] = field(default_factory=list)


class History:
    def __init__(
        self,
        *,
        rng: random.Random,
        shop: Shop,
        demo: ProgrammeStarted,
        launched_at: datetime,
        now: datetime,
    ) -> None:
        self.rng, self.shop, self.demo, self.now = rng, shop, demo, now
        self.launched_at = launched_at
        self.programme = demo.programme
        self.tiers: list[Tier] = demo.tiers
        self.window = timedelta(days=shop.return_window_days)
        self.ledger = Ledger(expiry_months=self.programme.expiry_months)
        self.accounts: dict[int, Account] = {}
        self.orders: dict[int, DemoOrder] = {}
        self.by_customer: dict[int, list[DemoOrder]] = defaultdict(list)
        self.events: dict[int, list[tuple[datetime, int, str, Any]]] = defaultdict(list)
        self._seq = itertools.count()

    # --- What happened, read from the other apps' demo rows -----------------------------------

    def load(self) -> None:
        refunded = (
            OrderEvent.objects.filter(order__shop=self.shop, kind=OrderEvent.Kind.REFUNDED)
            .values("order_id")
            .annotate(amount=Sum(Cast(KT("data__amount"), _MONEY)))
        )
        refunds = {row["order_id"]: row["amount"] or Decimal(0) for row in refunded}
        since = window_start(self.launched_at)
        rows = (
            Order.objects.filter(shop=self.shop, customer__isnull=False, paid_at__gt=since)
            .order_by("paid_at", "pk")
            .values(
                "pk",
                "number",
                "customer_id",
                "placed_at",
                "paid_at",
                "status",
                "financial_status",
                "delivered_at",
                "cancelled_at",
                "total",
            )
        )
        for row in rows:
            reversed_ = row["status"] == OrderStatus.CANCELLED or row["financial_status"] in (
                FinancialStatus.VOIDED,
                FinancialStatus.REFUNDED,
            )
            kept = Decimal(0) if reversed_ else max(row["total"] - refunds.get(row["pk"], 0), 0)
            order = DemoOrder(
                pk=row["pk"],
                number=row["number"],
                customer_id=row["customer_id"],
                placed_at=row["placed_at"],
                paid_at=row["paid_at"] or row["placed_at"],  # never empty: filtered on
                status=row["status"],
                financial_status=row["financial_status"],
                delivered_at=row["delivered_at"],
                cancelled_at=row["cancelled_at"],
                kept=kept,
            )
            self.orders[order.pk] = order
            self.by_customer[order.customer_id].append(order)
        earning = [o.pk for o in self.orders.values() if o.paid_at > self.launched_at]
        for line in (
            LineItem.objects.filter(order_id__in=earning)
            .order_by("pk")
            .values("pk", "order_id", "unit_price", "quantity", "discount_total")
        ):
            total = line["unit_price"] * line["quantity"] - line["discount_total"]
            self.orders[line["order_id"]].lines.append((line["pk"], total, line["quantity"]))
        self._plan_orders(earning)
        self._plan_returns()
        self._plan_reviews()

    def _push(self, customer_id: int, at: datetime, kind: str, payload: Any) -> None:
        if at <= self.now:
            heapq.heappush(self.events[customer_id], (at, next(self._seq), kind, payload))

    def _plan_orders(self, earning: list[int]) -> None:
        for pk in earning:
            order = self.orders[pk]
            self._push(order.customer_id, order.paid_at, "paid", order)
            if order.status == OrderStatus.CANCELLED and order.cancelled_at:
                self._push(order.customer_id, order.cancelled_at, "cancelled", order)
            elif order.delivered_at is not None and order.status in (
                OrderStatus.DELIVERED,
                OrderStatus.CLOSED,
            ):
                self._push(order.customer_id, order.delivered_at + self.window, "confirm", order)

    def _plan_returns(self) -> None:
        # The returns' demo rows, read by name: loyalty imports nothing of `returns` (they talk
        # through events, and the demo's returns were backfilled without any).
        return_item = apps.get_model("returns", "ReturnItem")
        items = return_item.objects.filter(
            return_request__shop=self.shop,
            return_request__status="resolved",
            resolution__in=CLAWBACK_RESOLUTIONS,
            return_request__resolved_at__gt=self.launched_at,
        ).values(
            "pk",
            "line_item_id",
            "quantity",
            "return_request__order_id",
            "return_request__resolved_at",
        )
        for item in items:
            order = self.orders.get(item["return_request__order_id"])
            at = item["return_request__resolved_at"]
            if order is not None and at is not None and order.paid_at > self.launched_at:
                self._push(order.customer_id, at, "returned", (order, item))

    def _plan_reviews(self) -> None:
        # Feedback's demo reviews, read by name (see `_plan_returns`): the ones written under
        # the shop's points incentive earned the programme's review bonus.
        review = apps.get_model("feedback", "Review")
        rows = (
            review.objects.filter(
                shop=self.shop,
                status="published",
                incentivized=True,
                customer__isnull=False,
                published_at__gt=self.launched_at,
            )
            .annotate(photo_count=Count("photos"))
            .values("pk", "customer_id", "published_at", "photo_count")
        )
        for row in rows:
            if row["published_at"] is not None:
                self._push(row["customer_id"], row["published_at"], "review", row)

    # --- Replaying each member's year ------------------------------------------------------

    def run(self) -> None:
        for customer_id in sorted(self.events):
            queue = self.events[customer_id]
            while queue:
                at, _seq, kind, payload = heapq.heappop(queue)
                getattr(self, f"_on_{kind}")(customer_id, at, payload)

    def _account(self, customer_id: int, at: datetime) -> Account:
        account = self.accounts.get(customer_id)
        if account is not None:
            return account
        member = Member(
            shop=self.shop,
            customer_id=customer_id,
            referral_code=draw_code(self.rng, "", 8),
            created_at=at,
            updated_at=at,
        )
        account = Account(member=member, customer_id=customer_id)
        self.accounts[customer_id] = account
        self._tier_decide(account, at, joined=True)
        return account

    def spend(self, customer_id: int, at: datetime) -> Decimal:
        start = window_start(at)
        return sum(
            (o.kept for o in self.by_customer[customer_id] if start < o.paid_at <= at),
            Decimal(0),
        )

    def _tier_decide(self, account: Account, at: datetime, *, joined: bool = False) -> None:
        member = account.member
        value = self.spend(account.customer_id, at)
        if joined:
            self._tier_move(account, self.tiers[0], TierChangeReason.JOINED, value, at)
        qualified = tier_for(self.tiers, value)
        if member.tier is not None and qualified.rank > member.tier.rank:
            self._tier_move(account, qualified, TierChangeReason.QUALIFIED, value, at)

    def _tier_move(
        self, account: Account, to: Tier, reason: str, value: Decimal, at: datetime
    ) -> None:
        member = account.member
        account.tier_changes.append(
            TierChange(
                shop=self.shop,
                member=member,
                from_tier=member.tier,
                to_tier=to,
                reason=reason,
                qualifying_value=value,
                at=at,
            )
        )
        member.tier, member.tier_since = to, at
        lowest = to.rank == self.tiers[0].rank
        member.tier_review_on = None if lowest else review_date(shop_today(self.shop, at))

    def _book(self, account: Account, booking: Booking, **kwargs: Any) -> None:
        self.ledger.book(account, booking, **kwargs)
        if booking.available > 0 and account.lots:
            lot = account.lots[-1]
            if lot.expires_at is not None:
                self._push(account.customer_id, lot.expires_at, "expire", lot)

    def _on_paid(self, customer_id: int, at: datetime, order: DemoOrder) -> None:
        account = self._account(customer_id, at)
        member = account.member
        tier = member.tier
        multiplier = tier.earn_multiplier if tier else Decimal("1.00")
        earning = OrderEarning(
            shop=self.shop,
            member=member,
            order_id=order.pk,
            status=EarningStatus.PENDING,
            confirm_at=order.delivered_at + self.window if order.delivered_at else None,
            created_at=at,
            updated_at=at,
        )
        account.earnings[order.pk] = earning
        total = 0
        for line_id, amount, quantity in order.lines:
            points = points_for(amount, self.programme.points_per_unit, multiplier)
            account.lines[line_id] = LineEarning(
                shop=self.shop,
                earning=earning,
                line_item_id=line_id,
                quantity=quantity,
                points=points,
                created_at=at,
                updated_at=at,
            )
            if points:
                total += points
                self._book(
                    account,
                    Booking(
                        kind=EntryKind.EARN,
                        key=f"earn:line:{line_id}",
                        subject=Subject.ORDER_LINE,
                        subject_id=line_id,
                        pending=points,
                        order_id=order.pk,
                        reason=f"order {order.number}",
                        tier_name=tier.name if tier else "",
                        multiplier=multiplier,
                        at=at,
                    ),
                )
        account.order_pending[order.pk] = total
        self._tier_decide(account, at)

    def _on_cancelled(self, customer_id: int, at: datetime, order: DemoOrder) -> None:
        account = self.accounts[customer_id]
        earning = account.earnings[order.pk]
        for line_id, _amount, _quantity in order.lines:
            line = account.lines[line_id]
            left = line.points - line.clawed_back
            if left > 0:
                self._book(
                    account,
                    Booking(
                        kind=EntryKind.CLAWBACK,
                        key=f"void:line:{line_id}",
                        subject=Subject.ORDER,
                        subject_id=order.pk,
                        pending=-left,
                        order_id=order.pk,
                        reason="order cancelled",
                        at=at,
                    ),
                )
                line.clawed_back = line.points
                line.updated_at = at
        account.order_pending[order.pk] = 0
        earning.status, earning.updated_at = EarningStatus.VOIDED, at

    def _on_confirm(self, customer_id: int, at: datetime, order: DemoOrder) -> None:
        account = self.accounts[customer_id]
        earning = account.earnings[order.pk]
        if earning.status != EarningStatus.PENDING:
            return
        points = account.order_pending.get(order.pk, 0)
        if points > 0:
            self._book(
                account,
                order_confirm_booking(order_id=order.pk, number=order.number, points=points, at=at),
            )
        account.order_pending[order.pk] = 0
        earning.status, earning.confirmed_at, earning.updated_at = EarningStatus.CONFIRMED, at, at
        if points > 0 and self.rng.random() < REDEEM_SHARE:
            later = at + timedelta(days=self.rng.randint(0, 20), hours=self.rng.randint(1, 12))
            self._push(customer_id, later, "redeem", None)

    def _on_returned(self, customer_id: int, at: datetime, payload: Any) -> None:
        order, item = payload
        account = self.accounts[customer_id]
        earning = account.earnings[order.pk]
        line = account.lines.get(item["line_item_id"])
        if line is None or earning.status == EarningStatus.VOIDED:
            return
        line.return_item_ids = [*line.return_item_ids, item["pk"]]
        returned = min(line.returned_quantity + item["quantity"], line.quantity)
        due = line.points * returned // line.quantity - line.clawed_back
        line.returned_quantity, line.updated_at = returned, at
        if due <= 0:
            return
        booking = Booking(
            kind=EntryKind.CLAWBACK,
            key=f"clawback:return_item:{item['pk']}",
            subject=Subject.RETURN_ITEM,
            subject_id=item["pk"],
            order_id=order.pk,
            reason=f"item returned from order {order.number}",
            at=at,
        )
        if earning.status == EarningStatus.PENDING:
            self._book(account, replace(booking, pending=-due))
            account.order_pending[order.pk] -= due
        else:  # the shop's policy: a negative balance, repaid by the next earnings
            self._book(account, replace(booking, available=-due, may_overdraw=True))
        line.clawed_back += due

    def _on_review(self, customer_id: int, at: datetime, row: dict) -> None:
        account = self._account(customer_id, at)
        bonuses = [(f"review:{row['pk']}", self.programme.review_points, "review published")]
        if row["photo_count"]:
            bonuses.append(
                (
                    f"photo_review:{row['pk']}",
                    self.programme.photo_review_points,
                    "review with photos",
                )
            )
        for key, points, reason in bonuses:
            self._book(
                account,
                Booking(
                    kind=EntryKind.EARN,
                    key=key,
                    subject=Subject.REVIEW,
                    subject_id=row["pk"],
                    available=points,
                    reason=reason,
                    at=at,
                ),
            )

    def _on_expire(self, customer_id: int, at: datetime, lot: PointLot) -> None:
        account = self.accounts[customer_id]
        if lot.remaining <= 0:
            return
        self._book(
            account,
            Booking(
                kind=EntryKind.EXPIRE,
                key="expire:lot:",  # named once the lot has its id
                subject=Subject.LOT,
                available=-lot.remaining,
                reason="points expired",
                at=at,
            ),
            lot=lot,
        )

    def _on_redeem(self, customer_id: int, at: datetime, _payload: Any) -> None:
        account = self.accounts[customer_id]
        spendable = account.member.spendable
        affordable = [r for r in self.demo.rewards if r.points_price <= spendable]
        if not affordable:
            return
        # Most buy the cheaper rewards; saving up for the dearest is rarer.
        reward = self.rng.choices(affordable, weights=[4, 3, 2, 1][: len(affordable)])[0]
        self.redeem(account, reward, at)

    def redeem(self, account: Account, reward: Reward, at: datetime) -> Redemption:
        """Buy `reward` at `at`: the points booked as spent and the shop's own code issued
        (the demo shop is not connected to Shopify); used on the member's next order in time,
        else still open or, past its end, expired with its points returned."""
        ends_at = at + timedelta(days=reward.valid_days)
        redemption = Redemption(
            shop=self.shop,
            customer_id=account.customer_id,
            member=account.member,
            reward=reward,
            source=RedemptionSource.POINTS,
            points=reward.points_price,
            status=RedemptionStatus.ISSUED,
            code=draw_code(self.rng, "RW", 12),
            ends_at=ends_at,
            issued_at=at,
            idempotency_key=f"demo:redeem:{account.customer_id}:{len(account.redemptions)}",
            created_at=at,
            updated_at=at,
        )
        account.redemptions.append(redemption)
        self._book(
            account,
            Booking(
                kind=EntryKind.REDEEM,
                key="redeem:",
                subject=Subject.REDEMPTION,
                available=-reward.points_price,
                reason=reward.name,
                at=at,
            ),
            key_later=lambda: (f"redeem:{redemption.pk}", redemption.pk),
        )
        used_on = next(
            (
                o
                for o in self.by_customer[account.customer_id]
                if at < o.placed_at <= min(ends_at, self.now)
            ),
            None,
        )
        if used_on is not None and self.rng.random() < USE_SHARE:
            redemption.status = RedemptionStatus.USED
            redemption.used_order_id, redemption.used_at = used_on.pk, used_on.placed_at
            redemption.updated_at = used_on.placed_at
        elif ends_at + EXPIRY_GRACE < self.now:
            self._push(account.customer_id, ends_at + EXPIRY_GRACE, "code_end", redemption)
        return redemption

    def _on_code_end(self, customer_id: int, at: datetime, redemption: Redemption) -> None:
        account = self.accounts[customer_id]
        redemption.status, redemption.updated_at = RedemptionStatus.EXPIRED, at
        self._book(
            account,
            Booking(
                kind=EntryKind.RETURN,
                key="return:",
                subject=Subject.REDEMPTION,
                available=redemption.points,
                reason=redemption.reward.name,
                at=at,
            ),
            key_later=lambda: (f"return:{redemption.pk}", redemption.pk),
        )

    def _on_referral(self, customer_id: int, at: datetime, payload: Any) -> None:
        referral, points = payload
        account = self.accounts[customer_id]
        referral.rewarded_at = at
        self._book(
            account,
            Booking(
                kind=EntryKind.EARN,
                key="referral:",
                subject=Subject.REFERRAL,
                available=points,
                reason="A referred friend's first order",
                at=at,
            ),
            key_later=lambda: (f"referral:{referral.pk}", referral.pk),
        )

    def push(self, customer_id: int, at: datetime, kind: str, payload: Any) -> None:
        """Add an event of another part (a referral's reward) before `run`."""
        self._push(customer_id, at, kind, payload)

    # --- Writing it ------------------------------------------------------------------------

    def save(self) -> dict[str, int]:
        accounts = list(self.accounts.values())
        rows_insert([a.member for a in accounts])
        rows_insert([e for a in accounts for e in a.earnings.values()])
        rows_insert([line for a in accounts for line in a.lines.values()])
        rows_insert([c for a in accounts for c in a.tier_changes])
        redemptions = [r for a in accounts for r in a.redemptions]
        rows_insert(redemptions)
        return {
            "loyalty_members": len(accounts),
            "loyalty_redemptions": len(redemptions),
        }

    def save_entries(self) -> int:
        return self.ledger.save(list(self.accounts.values()))
