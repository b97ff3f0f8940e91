"""What the portal reads, always through the order its token opened: a return of another order
is never found."""

from django.db.models import Prefetch

from orders.models import Order, Shop
from returns.models import ReturnEvent, ReturnItem, ReturnReason, ReturnRequest


def return_reasons_active(*, shop: Shop) -> list[ReturnReason]:
    return list(ReturnReason.objects.filter(shop=shop, is_active=True).order_by("position", "pk"))


def return_requests_for_order(*, order: Order) -> list[ReturnRequest]:
    return list(ReturnRequest.objects.filter(order=order).order_by("-created_at", "-pk"))


def return_request_for_order(*, order: Order, rma: str) -> ReturnRequest | None:
    """The order's return with this RMA, its items and history; None for any other RMA."""
    if not rma or len(rma) > 24:
        return None
    items = ReturnItem.objects.select_related("line_item", "reason", "exchange_variant").order_by(
        "pk"
    )
    return (
        ReturnRequest.objects.filter(order=order, rma=rma)
        .prefetch_related(
            Prefetch("items", queryset=items),
            Prefetch("events", queryset=ReturnEvent.objects.order_by("at", "pk")),
        )
        .first()
    )


def return_request_for_submission(*, order: Order, submission_key: str) -> ReturnRequest | None:
    """The return a one-time form key already filed for this order, if any."""
    if not submission_key:
        return None
    return ReturnRequest.objects.filter(order=order, submission_key=submission_key).first()
