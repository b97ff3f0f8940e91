"""The order's payment as its platform reports it: the payment state and the refunds, each
change on the order's timeline. Called under the order's lock (by `order_ingest`)."""

from datetime import UTC, datetime

from orders.models import FinancialStatus, Order, OrderEvent
from orders.services.data import RefundData


def order_payment_status_record(*, order: Order, status: str) -> bool:
    """Keep the payment state the platform reports; returns whether it changed.

    No transition table: the state is mirrored, not decided here, and the platform may move it
    any way (a voided authorisation paid after all, a refund on a partly paid order). Updates
    older than the one applied never get this far (`order_ingest`)."""
    status = FinancialStatus(status)
    if order.financial_status == status:
        return False
    previous = order.financial_status
    order.financial_status = status
    order.save(update_fields=["financial_status", "updated_at"])
    OrderEvent.objects.create(
        shop_id=order.shop_id,
        order=order,
        kind=OrderEvent.Kind.PAYMENT_STATUS,
        from_status=previous,
        to_status=status,
    )
    # No event of its own: `order_ingest` publishes `order_refunded` for a move to a state in
    # which money went back, the one move others act on.
    return True


def _utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def order_refunds_record(*, order: Order, refunds: tuple[RefundData, ...]) -> int:
    """Put each refund on the order's timeline once (by the platform's refund id), with its
    amount when known; returns how many were new. Every update repeats the order's refunds."""
    if not refunds:
        return 0
    known = set(
        OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.REFUNDED).values_list(
            "data__refund_id", flat=True
        )
    )
    new = [refund for refund in refunds if refund.external_id not in known]
    OrderEvent.objects.bulk_create(
        OrderEvent(
            shop_id=order.shop_id,
            order=order,
            kind=OrderEvent.Kind.REFUNDED,
            note=refund.note[:500],
            data={
                "refund_id": refund.external_id,
                "amount": None if refund.amount is None else str(refund.amount),
                "currency": refund.currency,
                "refunded_at": _utc(refund.refunded_at),
            },
        )
        for refund in new
    )
    return len(new)
