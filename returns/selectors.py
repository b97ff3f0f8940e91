"""Reads of returns that other apps may make: the messages about a return and the marketing
pause read returns through these, never the models directly."""

from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import F, Prefetch, QuerySet, Sum

from returns.models import (
    HOLDING_STATUSES,
    OPEN_STATUSES,
    ReturnItem,
    ReturnPolicy,
    ReturnRequest,
)

OPEN_RETURN_REASON = "a return is open"


def customers_with_open_return(customer_ids: Collection[int]) -> dict[int, str]:
    """{customer_id: reason} for the customers with a return still open (requested, approved,
    on its way back, received or inspected): their marketing waits until it is resolved,
    rejected or cancelled. One query whatever the number of ids (a marketing pause check,
    listed in `NOTIFICATIONS_MARKETING_PAUSE_CHECKS`)."""
    if not customer_ids:
        return {}
    rows = (
        ReturnRequest.objects.filter(customer_id__in=customer_ids, status__in=OPEN_STATUSES)
        .values_list("customer_id", flat=True)
        .distinct()
    )
    return dict.fromkeys(rows, OPEN_RETURN_REASON)


def returned_line_item_ids(line_item_ids: Collection[int]) -> set[int]:
    """Of `line_item_ids`, the lines whose whole quantity is in returns that hold their items
    (filed and not rejected or cancelled): the customer no longer has them, so they are not
    offered for review. One query (read by feedback through `FEEDBACK_RETURNED_LINES`)."""
    if not line_item_ids:
        return set()
    rows = (
        ReturnItem.objects.filter(
            line_item_id__in=line_item_ids, return_request__status__in=HOLDING_STATUSES
        )
        .values("line_item_id", "line_item__quantity")
        .annotate(returned=Sum("quantity"))
        .filter(returned__gte=F("line_item__quantity"))
        .values_list("line_item_id", flat=True)
    )
    return set(rows)


@dataclass(frozen=True)
class ReturnForMessage:
    """A return with what a message about it says: its items (with their lines, reasons and
    exchange variants) and exchange order loaded, and its shop's return policy (None when the
    shop has none)."""

    request: ReturnRequest
    policy: ReturnPolicy | None


def _with_message_details(requests: QuerySet[ReturnRequest]) -> ReturnForMessage | None:
    request = (
        requests.select_related("exchange_order")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=ReturnItem.objects.select_related(
                    "line_item", "reason", "exchange_variant"
                ).order_by("pk"),
            )
        )
        .first()
    )
    if request is None:
        return None
    policy = ReturnPolicy.objects.filter(shop_id=request.shop_id).first()
    return ReturnForMessage(request=request, policy=policy)


def return_request_for_message(*, return_id: int) -> ReturnForMessage | None:
    """The return with what a message about it says (`ReturnForMessage`); None when the
    return does not exist. Three queries."""
    return _with_message_details(ReturnRequest.objects.filter(pk=return_id))


def return_request_latest_for_message(*, order_id: int) -> ReturnForMessage | None:
    """The order's latest return, loaded as `return_request_for_message` does (the template
    editor previews return messages with it); None when the order has no return."""
    return _with_message_details(
        ReturnRequest.objects.filter(order_id=order_id).order_by("-created_at", "-pk")
    )
