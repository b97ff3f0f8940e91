"""Filing a return: the quote the customer sees, and the request itself, which can never take
back more units of a line than were delivered, even with two submissions at once."""

import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from orders.models import LineItem, Order
from postpurchase import events
from postpurchase.exceptions import DomainError
from postpurchase.permissions import Actor
from returns.events import ReturnEventName
from returns.models import (
    Resolution,
    ReturnItem,
    ReturnMethod,
    ReturnPolicy,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)
from returns.services.amounts import returned_value, with_bonus
from returns.services.eligibility import ReturnableLine, keep_item_limit, returnable_lines
from returns.services.policy import return_policy_for


@dataclass(frozen=True)
class ItemChoice:
    line_item_id: int
    quantity: int
    reason_code: str
    resolution: str
    comment: str = ""
    exchange_variant_id: int | None = None
    photo: bytes | None = None
    photo_content_type: str = ""


@dataclass
class QuotedItem:
    choice: ItemChoice
    line: LineItem
    reason: ReturnReason
    value: Decimal
    amount: Decimal


@dataclass
class Quote:
    items: list[QuotedItem] = field(default_factory=list)
    fee_total: Decimal = Decimal("0.00")
    refund_total: Decimal = Decimal("0.00")
    credit_total: Decimal = Decimal("0.00")
    value_total: Decimal = Decimal("0.00")


def _offered(policy: ReturnPolicy) -> set[str]:
    offered: set[str] = set()
    if policy.offers_exchange:
        offered.add(Resolution.EXCHANGE)
    if policy.offers_store_credit:
        offered.add(Resolution.STORE_CREDIT)
    if policy.offers_refund:
        offered.add(Resolution.REFUND)
    return offered


def _check_item(
    choice: ItemChoice, line: ReturnableLine | None, reason: ReturnReason | None, offered: set[str]
) -> tuple[ReturnableLine, ReturnReason]:
    """The line and reason the customer chose, once they are sure to exist and fit."""
    if line is None:
        raise DomainError("That item is not part of this order.")
    if not line.is_returnable:
        raise DomainError(f"{line.line.title} cannot be returned: {line.blocked_by}.")
    if not 0 < choice.quantity <= line.returnable_quantity:
        raise DomainError(
            f"At most {line.returnable_quantity} of {line.line.title} can be returned."
        )
    if reason is None:
        raise DomainError("Choose a reason for each item.")
    if reason.requires_photo and not choice.photo:
        raise DomainError(f"A photo is needed for “{reason.label}”.")
    if choice.resolution not in offered:
        raise DomainError("Choose what you would like instead of the item.")
    if choice.resolution == Resolution.EXCHANGE:
        variant_ids = {variant.pk for variant in line.exchange_variants}
        if choice.exchange_variant_id not in variant_ids:
            raise DomainError(
                f"The variant you chose for {line.line.title} is out of stock; choose another "
                "or a refund."
            )
    return line, reason


def return_quote(
    *, order: Order, items: list[ItemChoice], method: str, policy: ReturnPolicy | None = None
) -> Quote:
    """Check the customer's choices against the policy and what is left to return, and work
    out exactly what they get back. DomainError (with a message for the customer) otherwise."""
    policy = policy or return_policy_for(order.shop)
    if not items:
        raise DomainError("Choose at least one item to return.")
    if len({choice.line_item_id for choice in items}) != len(items):
        raise DomainError("Each item can be chosen once.")
    if method not in policy.methods:
        raise DomainError("Choose how you will send the items back.")
    lines = {entry.line.pk: entry for entry in returnable_lines(order, policy)}
    reasons = {r.code: r for r in ReturnReason.objects.filter(shop=order.shop, is_active=True)}
    offered = _offered(policy)
    quote = Quote()
    for choice in items:
        line, reason = _check_item(
            choice, lines.get(choice.line_item_id), reasons.get(choice.reason_code), offered
        )
        value = returned_value(line.value, line.line.quantity, choice.quantity)
        amount = value
        if choice.resolution == Resolution.STORE_CREDIT:
            amount = with_bonus(value, policy.store_credit_bonus_percent)
        quote.items.append(QuotedItem(choice, line.line, reason, value, amount))
        quote.value_total += value
    keep_limit = keep_item_limit(policy)
    if method == ReturnMethod.KEEP_ITEM and (
        keep_limit is None or any(item.value > keep_limit for item in quote.items)
    ):
        raise DomainError("Only low-value items can be kept; choose another return method.")
    # One return travels in one parcel: the highest fee among its reasons is charged once,
    # from the refund first, then from the credit; an exchange alone pays none (there is no
    # money to take it from, and the shop wants the exchange).
    fee = max((item.reason.fee for item in quote.items), default=Decimal("0.00"))
    refund = sum(
        (i.amount for i in quote.items if i.choice.resolution == Resolution.REFUND), Decimal(0)
    )
    credit = sum(
        (i.amount for i in quote.items if i.choice.resolution == Resolution.STORE_CREDIT),
        Decimal(0),
    )
    from_refund = min(refund, fee)
    from_credit = min(credit, fee - from_refund)
    quote.refund_total = refund - from_refund
    quote.credit_total = credit - from_credit
    quote.fee_total = from_refund + from_credit
    return quote


def _new_rma(order: Order) -> str:
    """The order's number and four random hex digits: short enough to write on a parcel. The
    order's lines are locked while a return is filed, so checking for a clash is enough."""
    taken = set(
        ReturnRequest.objects.filter(shop_id=order.shop_id, order=order).values_list(
            "rma", flat=True
        )
    )
    while True:
        rma = f"R{order.number.lstrip('#')}-{secrets.token_hex(2).upper()}"[:24]
        if rma not in taken:
            return rma


def _auto_approves(policy: ReturnPolicy, quote: Quote) -> bool:
    if not policy.auto_approve:
        return False
    if (
        policy.auto_approve_max_total is not None
        and quote.value_total > policy.auto_approve_max_total
    ):
        return False
    reasons = set(policy.auto_approve_reasons)
    return not reasons or all(item.reason.code in reasons for item in quote.items)


@transaction.atomic
def return_request_create(
    *,
    order: Order,
    items: list[ItemChoice],
    method: str,
    submission_key: str,
    actor: Actor = None,
) -> tuple[ReturnRequest, bool]:
    """File a return. Idempotent on `submission_key` (a double submit returns the first). The
    order's lines are locked first, so two submissions for the same items queue up and the
    second sees what the first took."""
    existing = ReturnRequest.objects.filter(submission_key=submission_key).first()
    if existing is not None:
        if existing.order_id != order.pk:
            raise DomainError("This form was already used for another order.")
        return existing, False
    list(LineItem.objects.select_for_update().filter(order=order).order_by("pk"))
    policy = return_policy_for(order.shop)
    quote = return_quote(order=order, items=items, method=method, policy=policy)
    request = ReturnRequest.objects.create(
        shop_id=order.shop_id,
        order=order,
        customer_id=order.customer_id,
        rma=_new_rma(order),
        method=method,
        currency=order.currency,
        refund_total=quote.refund_total,
        credit_total=quote.credit_total,
        fee_total=quote.fee_total,
        submission_key=submission_key,
    )
    ReturnItem.objects.bulk_create(
        ReturnItem(
            return_request=request,
            line_item=item.line,
            quantity=item.choice.quantity,
            reason=item.reason,
            comment=item.choice.comment[:1000],
            photo=item.choice.photo,
            photo_content_type=item.choice.photo_content_type if item.choice.photo else "",
            resolution=item.choice.resolution,
            exchange_variant_id=item.choice.exchange_variant_id
            if item.choice.resolution == Resolution.EXCHANGE
            else None,
            value=item.value,
            amount=item.amount,
        )
        for item in quote.items
    )
    request.record_transition(
        from_status="", to_status=ReturnStatus.REQUESTED, actor=actor, note=""
    )
    return_event_publish(request, ReturnEventName.REQUESTED)
    if _auto_approves(policy, quote):
        from returns.services.transitions import return_request_approve

        request = return_request_approve(
            return_request=request, note="approved automatically by the policy"
        )
    return request, True


def return_event_publish(request: ReturnRequest, name: str) -> None:
    """Publish the return's event (see `returns.events`); `return_resolved` also lists its
    items and what each was resolved with, so what the sale earned can be taken back."""
    extra = {}
    if name == ReturnEventName.RESOLVED:
        extra["items"] = [
            {
                "return_item_id": item.pk,
                "line_item_id": item.line_item_id,
                "quantity": item.quantity,
                "resolution": item.resolution,
            }
            for item in request.items.order_by("pk")
        ]
    events.publish(
        name=name,
        shop_id=request.shop_id,
        return_id=request.pk,
        order_id=request.order_id,
        customer_id=request.customer_id,
        status=request.status,
        at=timezone.now().isoformat(),
        **extra,
    )
