"""The one door to merchant data for staff: every dashboard query starts from `scoped()`.

The current shop is the one the staff member picked with the shop switcher (kept in the
session), and only ever one they belong to; an object of any other shop is a 404.
"""

from typing import TypeVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

from orders.models import Shop, StaffMembership

M = TypeVar("M", bound=Model)
SESSION_KEY = "current_shop_id"


def scoped(model: type[M], shop: Shop) -> QuerySet[M]:
    """All rows of `model` that belong to `shop`."""
    return model._default_manager.filter(shop=shop)


def staff_shops(user) -> QuerySet[Shop]:
    if not user.is_authenticated:
        return Shop.objects.none()
    return Shop.objects.filter(memberships__user=user, is_active=True).order_by("name")


def membership_for(user, shop: Shop) -> StaffMembership | None:
    return StaffMembership.objects.filter(user=user, shop=shop).first()


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


class ShopStaffMixin(LoginRequiredMixin):
    """Sets `self.shop` (and `request.shop`) to the staff member's current shop."""

    shop: Shop

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        shop = current_shop(request)
        if shop is None:
            raise Http404("You are not a member of any shop.")
        self.shop = request.shop = shop
        return super().dispatch(request, *args, **kwargs)
