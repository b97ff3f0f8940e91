"""The one door to merchant data for staff: every dashboard query starts from `scoped()`.

The current shop is the one the staff member picked with the shop switcher (kept in the
session), and only ever one they belong to; an object of any other shop is a 404. This module
is the dashboard shell's shop directory (`postpurchase.shell.shops`, registered in
`orders.apps`): the shell's views find the current shop here. What a staff member may do there
is the kernel's policy (`postpurchase.permissions`) applied to their role: every dashboard view
declares the action it needs (`postpurchase.shell.staff.StaffPermissionMixin`), and services
that change money, policy or settings check their actor (`staff_permission_require`).
"""

from typing import TypeAlias, TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import F, Model, QuerySet
from django.http import Http404, HttpRequest

from orders.models import Shop, StaffMembership
from postpurchase import permissions

M = TypeVar("M", bound=Model)
# Whoever asks: a role is only ever found for a signed-in user.
AnyUser: TypeAlias = AbstractBaseUser | AnonymousUser
SESSION_KEY = "current_shop_id"


def scoped(model: type[M], shop: Shop) -> QuerySet[M]:
    """All rows of `model` that belong to `shop`."""
    return model._default_manager.filter(shop=shop)


def staff_shops(user: AnyUser) -> QuerySet[Shop]:
    """The active shops the user is staff of, each with `staff_role`, their role there."""
    if not user.is_authenticated:
        return Shop.objects.none()
    # The annotation reads the same membership row the filter joined.
    return (
        Shop.objects.filter(memberships__user_id=user.pk, is_active=True)
        .annotate(staff_role=F("memberships__role"))
        .order_by("name")
    )


def current_shop(request: HttpRequest) -> Shop | None:
    shops = staff_shops(request.user)
    chosen = request.session.get(SESSION_KEY)
    shop = shops.filter(pk=chosen).first() if chosen else None
    return shop or shops.first()


def shop_select(request: HttpRequest, shop_id: int) -> Shop:
    """Switch the staff member's current shop; 404 for a shop they do not belong to."""
    shop = staff_shops(request.user).filter(pk=shop_id).first()
    if shop is None:
        raise Http404("No such shop")
    request.session[SESSION_KEY] = shop.pk
    return shop


def staff_role(user: AnyUser | None, shop_id: int) -> str | None:
    """The user's role in the shop, None when they are not its staff."""
    if user is None or not user.is_authenticated:
        return None
    return (
        StaffMembership.objects.filter(user_id=user.pk, shop_id=shop_id)
        .values_list("role", flat=True)
        .first()
    )


def staff_permission_require(*, actor: AnyUser | None, shop_id: int, action: str) -> None:
    """Raise `StaffPermissionDenied` (a DomainError) unless `actor` may take `action` in the
    shop. No actor is the system itself (a task, a rule of the shop's own policy): allowed."""
    if actor is None or permissions.is_ops(actor):
        return
    permissions.permission_require(staff_role(actor, shop_id), action)
