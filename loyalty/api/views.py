"""`/api/v1/customers/{id}/loyalty/`: a customer's points and ledger, and staff adjustments.

Every read starts from the calling key's shop: another shop's customer, or a shop that runs no
active programme, is a 404. An adjustment needs an `Idempotency-Key`: the API's replay store
(`orders.api.idempotency`) answers a retry with the first response, refused or not."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.api import selectors
from loyalty.api.serializers import AdjustmentInput, LedgerEntrySerializer, LoyaltyAccountSerializer
from loyalty.api.services import points_adjust
from loyalty.ledger import NotEnoughPoints
from orders.api.auth import request_api_key, request_shop
from orders.api.idempotency import IDEMPOTENCY_HEADER, idempotent
from orders.api.pagination import ApiPagination
from orders.api.schema import ErrorSerializer, InvalidRequestSerializer
from orders.models import Customer

NOT_ENOUGH_POINTS = "not enough points"

_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The customer's id.")
_REQUIRED_KEY = OpenApiParameter(
    name=IDEMPOTENCY_HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    required=True,
    description=(
        "Required: any unique string (a UUID, say), at most 255 characters. A retry with the "
        "same key and body returns the first response (with `Idempotent-Replayed: true`) and "
        "books nothing again; the same key with a different body is refused with 422."
    ),
)
_PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="A page of the ledger (1 unless asked)."),
    OpenApiParameter(
        "page_size",
        int,
        description=f"Entries per page: {ApiPagination.page_size} unless asked, at most "
        f"{ApiPagination.max_page_size} (a larger ask gets {ApiPagination.max_page_size}).",
    ),
]


# The member's figures the account shows, each zero for a customer who never earned.
_BALANCES = (
    "available",
    "pending",
    "reserved",
    "spendable",
    "lifetime_earned",
    "lifetime_redeemed",
    "lifetime_expired",
)


def _customer(request: Request, customer_id: int) -> Customer:
    shop = request_shop(request)
    customer = selectors.customer_get(shop=shop, customer_id=customer_id)
    if not selectors.programme_active(shop=shop):
        raise NotFound("This shop runs no loyalty programme.")
    return customer


class LoyaltyAccountView(APIView):
    @extend_schema(
        operation_id="customers_loyalty_retrieve",
        parameters=[_ID, *_PAGE_PARAMETERS],
        responses={
            200: LoyaltyAccountSerializer,
            400: InvalidRequestSerializer,
            401: ErrorSerializer,
            404: ErrorSerializer,
        },
        description="The customer's balances, tier and ledger (newest first, paginated). A "
        "customer who never earned has zero balances and no entries.",
    )
    def get(self, request: Request, id: int) -> Response:
        customer = _customer(request, id)
        member = selectors.member_of(customer)
        paginator = ApiPagination()
        page = paginator.paginate_queryset(selectors.ledger_entries(member), request, view=self)
        body: dict[str, Any] = {
            "customer": customer.pk,
            **{name: getattr(member, name) if member else 0 for name in _BALANCES},
            "tier": member.tier if member else None,
            "tier_since": member.tier_since if member else None,
            "entries": {
                "count": paginator.page.paginator.count if paginator.page is not None else 0,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": page or [],
            },
        }
        return Response(LoyaltyAccountSerializer(body).data)


class LoyaltyAdjustmentView(APIView):
    @extend_schema(
        operation_id="customers_loyalty_adjustments_create",
        parameters=[_ID, _REQUIRED_KEY],
        request=AdjustmentInput,
        responses={
            201: LedgerEntrySerializer,
            200: OpenApiResponse(
                LedgerEntrySerializer, description="The entry an earlier booking made."
            ),
            400: InvalidRequestSerializer,
            401: ErrorSerializer,
            404: ErrorSerializer,
            409: OpenApiResponse(
                ErrorSerializer,
                description="A debit beyond the customer's spendable points (nothing booked), "
                "or a request with the same key still running.",
            ),
            422: ErrorSerializer,
        },
        description="Add or take points, with the reason. Booked once per `Idempotency-Key`.",
    )
    def post(self, request: Request, id: int) -> Response:
        if not request.headers.get(IDEMPOTENCY_HEADER, "").strip():
            raise ValidationError({IDEMPOTENCY_HEADER: ["This header is required."]})
        return self._adjust(request, id)

    @idempotent
    def _adjust(self, request: Request, id: int) -> Response:
        customer = _customer(request, id)
        parser = AdjustmentInput(data=request.data)
        parser.is_valid(raise_exception=True)
        values = parser.validated_data
        try:
            booked = points_adjust(
                customer=customer,
                points=values["points"],
                reason=values["reason"],
                key=request.headers[IDEMPOTENCY_HEADER].strip(),
                api_key=request_api_key(request),
            )
        except NotEnoughPoints as refusal:
            # An answer, not a failure: stored with the key, so a retry gets it again.
            detail = (
                f"Not enough points: {refusal.wanted} to take, {refusal.spendable} spendable. "
                "Nothing was booked."
            )
            return Response(
                {"error": NOT_ENOUGH_POINTS, "detail": detail}, status=status.HTTP_409_CONFLICT
            )
        code = status.HTTP_201_CREATED if booked.created else status.HTTP_200_OK
        return Response(LedgerEntrySerializer(booked.entry).data, status=code)
