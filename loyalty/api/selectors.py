"""The loyalty API's reads, scoped to the calling key's shop: another shop's customer is a 404."""

from django.db.models import QuerySet
from rest_framework.generics import get_object_or_404

from loyalty.models import LedgerEntry, Member, Programme
from orders.models import Customer, Shop
from orders.tenancy import scoped


def programme_active(*, shop: Shop) -> bool:
    return Programme.objects.filter(shop=shop, is_active=True).exists()


def customer_get(*, shop: Shop, customer_id: int) -> Customer:
    return get_object_or_404(scoped(Customer, shop), pk=customer_id)


def member_of(customer: Customer) -> Member | None:
    return Member.objects.select_related("tier").filter(customer=customer).first()


def ledger_entries(member: Member | None) -> QuerySet[LedgerEntry]:
    if member is None:
        return LedgerEntry.objects.none()
    return (
        LedgerEntry.objects.filter(member=member)
        .select_related("api_key")
        .order_by("-created_at", "-id")
    )
