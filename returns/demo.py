"""The demo shop's returns, added by `seed_demo` (through `orders.demo.demo_shop_seeded`): its
policy, and a year of returns backfilled as rows (never through the services, so that no
message goes out for them), most resolved, a few still open for the queue. Two products come
back far more often than the rest, so the returns report has something to flag."""

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.dispatch import receiver

from orders.demo import demo_shop_seeded, explicit_timestamps
from orders.models import LineItem, Order, OrderStatus, Product, Shop
from returns.models import (
    Resolution,
    ReturnEvent,
    ReturnItem,
    ReturnMethod,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
    StoreCreditEntry,
)
from returns.services.amounts import returned_value, with_bonus
from returns.services.policy import return_policy_for

HISTORY = timedelta(days=365)
RETURN_SHARE = 0.06
# Products with a known fault: returned five times as often, mostly as defective or damaged.
TROUBLED = ("Insulated Travel Mug", "Ceramic Aroma Diffuser")
HYGIENE = ("Rosemary Mint Shampoo, 16 oz", "Argan Oil Conditioner, 16 oz")
_REASONS = {
    "too_small": 10,
    "too_large": 8,
    "not_as_described": 6,
    "damaged": 5,
    "defective": 4,
    "wrong_item": 3,
    "changed_mind": 12,
    "arrived_late": 2,
    "other": 2,
}
_RESOLUTIONS = {Resolution.REFUND: 5, Resolution.STORE_CREDIT: 3, Resolution.EXCHANGE: 2}
_PATH = [
    ReturnStatus.REQUESTED,
    ReturnStatus.APPROVED,
    ReturnStatus.IN_TRANSIT,
    ReturnStatus.RECEIVED,
    ReturnStatus.INSPECTED,
    ReturnStatus.RESOLVED,
]


@receiver(demo_shop_seeded, dispatch_uid="returns.demo")
def demo_returns_seed(*, shop: Shop, now: datetime, seed: int, **kwargs: Any) -> dict[str, int]:
    policy = return_policy_for(shop)
    policy.methods = [m.value for m in ReturnMethod]
    policy.keep_item_max_value = Decimal("15.00")
    policy.auto_approve_max_total = Decimal("150.00")
    policy.return_address = (
        "Northwind Goods Returns\n1200 Harbor Way, Dock 4\nColumbus, OH 43215\nUS"
    )
    policy.instructions = "Pack the items in their original packaging if you still have it."
    policy.save()
    policy.non_returnable_products.set(Product.objects.filter(shop=shop, title__in=HYGIENE))
    rng = random.Random(f"{seed}:returns")  # noqa: S311 - demo data, not secrets
    reasons = {r.code: r for r in ReturnReason.objects.filter(shop=shop)}
    with explicit_timestamps(ReturnRequest, ReturnEvent, StoreCreditEntry):
        created = _History(rng, shop, reasons, now, policy.store_credit_bonus_percent).build()
    return {"returns": created}


class _History:
    def __init__(
        self,
        rng: random.Random,
        shop: Shop,
        reasons: dict[str, ReturnReason],
        now: datetime,
        bonus: Decimal,
    ) -> None:
        self.rng, self.shop, self.reasons, self.now, self.bonus = rng, shop, reasons, now, bonus
        # Each with the return it belongs to: the return has no id until it is created.
        self.events: list[tuple[ReturnRequest, ReturnEvent]] = []
        self.credits: list[tuple[ReturnRequest, StoreCreditEntry]] = []

    def _orders(self) -> list[Order]:
        return list(
            Order.objects.filter(
                shop=self.shop,
                status__in=(OrderStatus.DELIVERED, OrderStatus.CLOSED),
                delivered_at__gte=self.now - HISTORY,
            )
            .prefetch_related(
                Prefetch(
                    "line_items",
                    queryset=LineItem.objects.select_related("product")
                    .prefetch_related("product__variants")
                    .order_by("pk"),
                )
            )
            .order_by("delivered_at")
        )

    def _pick(self, order: Order) -> LineItem | None:
        lines = [li for li in order.line_items.all() if li.product and li.title not in HYGIENE]
        troubled = [li for li in lines if li.title in TROUBLED]
        if troubled and self.rng.random() < RETURN_SHARE * 5:
            return troubled[0]
        if lines and self.rng.random() < RETURN_SHARE:
            return self.rng.choice(lines)
        return None

    def build(self) -> int:
        requests = []
        for order in self._orders():
            line = self._pick(order)
            if line is not None and order.delivered_at is not None:
                requests.append(self._request(order, line, order.delivered_at))
        if not requests:
            return 0
        ReturnRequest.objects.bulk_create([r for r, _ in requests])
        for request, item in requests:
            item.return_request = request
        for request, event in self.events:
            event.return_request = request
        ReturnItem.objects.bulk_create([item for _, item in requests])
        ReturnEvent.objects.bulk_create([event for _, event in self.events])
        for request, credit in self.credits:
            credit.return_request = request
        StoreCreditEntry.objects.bulk_create([credit for _, credit in self.credits])
        return len(requests)

    def _moments(self, delivered_at: datetime) -> tuple[datetime, list[datetime]]:
        """When the return was asked for, and when it reached each step since: days apart, as
        a parcel travels and a warehouse works, and all before `now`. A return asked for in
        the last fortnight may still be open, and one can reach only the steps whose time has
        come (a history capped at `now` would stack its last steps in one minute)."""
        rng = self.rng
        requested_at = delivered_at + timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 23))
        if requested_at >= self.now:  # delivered lately: asked for since, not in the future
            requested_at = delivered_at + (self.now - delivered_at) * rng.uniform(0.3, 0.9)
        recent = requested_at >= self.now - timedelta(days=14)
        planned = rng.randint(1, 4) if recent else len(_PATH)
        moments = [requested_at]
        while len(moments) < planned:
            step = moments[-1] + timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 12))
            if step >= self.now:
                break
            moments.append(step)
        return requested_at, moments

    def _request(
        self, order: Order, line: LineItem, delivered_at: datetime
    ) -> tuple[ReturnRequest, ReturnItem]:
        rng = self.rng
        code = (
            rng.choice(["defective", "damaged"])
            if line.title in TROUBLED
            else rng.choices(list(_REASONS), weights=list(_REASONS.values()))[0]
        )
        reason = self.reasons[code]
        resolution = rng.choices(list(_RESOLUTIONS), weights=list(_RESOLUTIONS.values()))[0]
        exchange_variant = None
        if resolution == Resolution.EXCHANGE:
            variants = line.product.variants.all() if line.product else []
            others = [v for v in variants if v.pk != line.variant_id]
            exchange_variant = others[0] if others else None
            resolution = Resolution.EXCHANGE if exchange_variant else Resolution.REFUND
        line_value = line.unit_price * line.quantity - line.discount_total
        value = returned_value(line_value, line.quantity, 1)
        amount = with_bonus(value, self.bonus) if resolution == Resolution.STORE_CREDIT else value
        fee = reason.fee
        requested_at, moments = self._moments(delivered_at)
        steps = _PATH[: len(moments)]
        status = steps[-1]
        request = ReturnRequest(
            shop=self.shop,
            order=order,
            customer_id=order.customer_id,
            rma=f"R{order.number.lstrip('#')}-D{len(self.events):04X}"[:24],
            status=status,
            method=ReturnMethod.DROP_OFF,
            currency=order.currency,
            refund_total=max(amount - fee, Decimal(0)) if resolution == Resolution.REFUND else 0,
            credit_total=amount if resolution == Resolution.STORE_CREDIT else 0,
            fee_total=fee,
            resolved_at=moments[-1] if status == ReturnStatus.RESOLVED else None,
            submission_key=f"demo-return-{order.pk}",
            created_at=requested_at,
            updated_at=moments[-1],
        )
        item = ReturnItem(
            line_item=line,
            quantity=1,
            reason=reason,
            resolution=resolution,
            exchange_variant=exchange_variant,
            value=value,
            amount=amount,
            condition="damaged"
            if reason.is_shop_fault and status in _PATH[4:]
            else ("resellable" if status in _PATH[4:] else ""),
        )
        previous = ""
        for step, at in zip(steps, moments, strict=True):
            event = ReturnEvent(from_status=previous, to_status=step, at=at)
            self.events.append((request, event))
            previous = step
        if (
            status == ReturnStatus.RESOLVED
            and resolution == Resolution.STORE_CREDIT
            and order.customer_id
        ):
            credit = StoreCreditEntry(
                shop=self.shop,
                customer_id=order.customer_id,
                amount=amount,
                currency=order.currency,
                reason=f"Return {request.rma}",
                dedupe_key=f"return:demo:{order.pk}",
                created_at=moments[-1],
            )
            self.credits.append((request, credit))
        return request, item
