"""Resolving an inspected return (or an approved one whose items are kept): the refund is
recorded and handed to the refund gateway, exchanges become a new order for the replacement
variants that flows through tracking and messaging like any order, and store credit goes into
the ledger. Each part is keyed on the return, so a repeat never pays twice."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from orders.models import OrderSource
from orders.services import order_ingest
from orders.services.data import AddressData, CustomerData, LineItemData, OrderData
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.permissions import Actor
from postpurchase.queue import enqueue_on_commit
from returns.models import Resolution, ReturnItem, ReturnRequest, ReturnStatus
from returns.services.credit import store_credit_issue
from returns.services.refunds import SHOPIFY_PENDING, ShopifyRefunds, refund_gateway_for
from returns.services.transitions import _move, _require


def _exchange_line(item: ReturnItem) -> LineItemData:
    variant = item.exchange_variant
    if variant is None:  # a constraint on ReturnItem rules it out for an exchange
        raise DomainError(f"Exchange item {item.pk} names no variant.")
    return LineItemData(
        external_id=f"exchange:{item.pk}",
        title=variant.product.title,
        variant_title=variant.title,
        sku=variant.sku,
        quantity=item.quantity,
        unit_price=Decimal("0.00"),
        product_external_id=variant.product.external_id,
        variant_external_id=variant.external_id,
    )


def _exchange_order_data(request: ReturnRequest, items: list[ReturnItem]) -> OrderData:
    order = request.order
    customer = order.customer
    return OrderData(
        external_id=f"exchange:{request.rma}",
        number=f"{order.number}-X{request.pk}",
        placed_at=timezone.now(),
        currency=order.currency,
        total=Decimal("0.00"),
        source=OrderSource.EXCHANGE,
        line_items=tuple(_exchange_line(item) for item in items),
        customer=CustomerData(external_id=customer.external_id, email=customer.email)
        if customer
        else None,
        email=order.email,
        phone=order.phone,
        shipping_address=AddressData(
            name=order.shipping_name,
            address1=order.shipping_address1,
            address2=order.shipping_address2,
            city=order.shipping_city,
            province=order.shipping_province,
            postcode=order.shipping_postcode,
            country=order.shipping_country,
        ),
        is_paid=True,
        paid_at=timezone.now(),
    )


@transaction.atomic
def return_request_resolve(*, return_request: ReturnRequest, actor: Actor = None) -> ReturnRequest:
    # The refund: only a role that may move the shop's money.
    _require(return_request, actor, permissions.RETURN_RESOLVE)
    request = (
        ReturnRequest.objects.select_for_update(of=("self",))
        .select_related("order", "customer")
        .get(pk=return_request.pk)
    )
    if not request.can_resolve:
        raise DomainError("A return is resolved once its items are inspected (or kept).")
    items = list(
        request.items.select_related("exchange_variant__product", "line_item").order_by("pk")
    )
    notes = []
    if request.refund_total > 0:
        gateway = refund_gateway_for(request)
        if isinstance(gateway, ShopifyRefunds):
            # Asked after commit, by a task: never a network call inside this transaction.
            request.refund_reference = SHOPIFY_PENDING
            notes.append(f"refund {request.refund_total} {request.currency} to request in Shopify")
            enqueue_on_commit("returns.tasks.return_refund_request_task", request.pk)
        else:
            result = gateway.request_refund(return_request=request, amount=request.refund_total)
            request.refund_reference = result.reference
            notes.append(result.note)
    exchanges = [item for item in items if item.resolution == Resolution.EXCHANGE]
    if exchanges:
        placed = order_ingest(
            shop=request.order.shop, data=_exchange_order_data(request, exchanges)
        )
        request.exchange_order = placed.order
        notes.append(f"exchange order {placed.order.number}")
    if request.credit_total > 0:
        if request.customer is None:
            raise DomainError("Store credit needs a customer account; refund instead.")
        store_credit_issue(
            customer=request.customer,
            amount=request.credit_total,
            currency=request.currency,
            reason=f"Return {request.rma}",
            dedupe_key=f"return:{request.pk}",
            return_request=request,
        )
        notes.append(f"store credit {request.credit_total} {request.currency}")
    request.resolved_at = timezone.now()
    return _move(
        request,
        ReturnStatus.RESOLVED,
        actor=actor,
        note="; ".join(notes)[:500],
        extra_fields=("refund_reference", "exchange_order", "resolved_at"),
    )
