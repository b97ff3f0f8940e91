"""The one door to merchant data for staff: every dashboard query starts from `scoped()`.

The current shop is the one the staff member picked with the shop switcher (kept in the
session), and only ever one they belong to; an object of any other shop is a 404. What a staff
member may do there is the kernel's policy (`postpurchase.permissions`) applied to their role:
every dashboard view declares the action it needs (`StaffPermissionMixin`), and services that
change money, policy or settings check their actor (`staff_permission_require`).
"""

from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F, Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from orders.models import Shop, StaffMembership
from postpurchase import permissions

M = TypeVar("M", bound=Model)
SESSION_KEY = "current_shop_id"


def scoped(model: type[M], shop: Shop) -> QuerySet[M]:
    """All rows of `model` that belong to `shop`."""
    return model._default_manager.filter(shop=shop)


def staff_shops(user) -> QuerySet[Shop]:
    """The active shops the user is staff of, each with `staff_role`, their role there."""
    if not user.is_authenticated:
        return Shop.objects.none()
    # The annotation reads the same membership row the filter joined.
    return (
        Shop.objects.filter(memberships__user=user, is_active=True)
        .annotate(staff_role=F("memberships__role"))
        .order_by("name")
    )


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


def staff_role(user, shop_id: int) -> str | None:
    """The user's role in the shop, None when they are not its staff."""
    if user is None or not user.is_authenticated:
        return None
    return (
        StaffMembership.objects.filter(user=user, shop_id=shop_id)
        .values_list("role", flat=True)
        .first()
    )


def _is_ops(user) -> bool:
    """A superuser is the platform's ops, who may do everything (as they can in admin)."""
    return bool(getattr(user, "is_superuser", False))


def staff_permission_require(*, actor, shop_id: int, action: str) -> None:
    """Raise `StaffPermissionDenied` (a DomainError) unless `actor` may take `action` in the
    shop. No actor is the system itself (a task, a rule of the shop's own policy): allowed."""
    if actor is None or _is_ops(actor):
        return
    permissions.permission_require(staff_role(actor, shop_id), action)


class ShopStaffMixin(LoginRequiredMixin):
    """Sets `self.shop` (and `request.shop`) to the staff member's current shop; a subclass
    may then refuse the request (`refusal`) before the view runs."""

    shop: Shop

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        shop = current_shop(request)
        if shop is None:
            raise Http404("You are not a member of any shop.")
        self.shop = request.shop = shop
        refusal = self.refusal(request)
        if refusal is not None:
            return refusal
        return super().dispatch(request, *args, **kwargs)

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        """A response that ends the request before the view runs, or None."""
        return None


class StaffPermissionMixin(ShopStaffMixin):
    """Every dashboard view declares what it needs, and this is where it is enforced: a staff
    member whose role in the current shop is too low gets a 403 page saying who may.

    `permission` is one action of the policy for every method the view takes, or a mapping
    from HTTP method to action (HEAD and OPTIONS follow GET). A view whose action depends on
    the URL (an action slug) overrides `required_permission`. A view that declares nothing
    fails loudly rather than being open to every role."""

    permission: ClassVar[str | Mapping[str, str] | None] = None
    forbidden_template_name = "dashboard/forbidden.html"

    def required_permission(self) -> str:
        declared = self.permission
        if isinstance(declared, str):
            return declared
        method = self.request.method or "GET"
        method = "GET" if method in ("HEAD", "OPTIONS") else method
        if declared is None or method not in declared:
            raise ImproperlyConfigured(
                f"{type(self).__name__} declares no staff permission for {method}."
            )
        return declared[method]

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        if (request.method or "").lower() not in self.http_method_names:
            return None  # the view answers 405, whoever asks
        action = self.required_permission()
        # `current_shop` read the role with the shop: no query of its own.
        allowed = permissions.AllowedActions(self.shop.staff_role, everything=_is_ops(request.user))
        request.staff_may = allowed
        if allowed[action]:
            return None
        return self.forbidden(request, permissions.StaffPermissionDenied(action, allowed.role))

    def forbidden(
        self, request: HttpRequest, refusal: permissions.StaffPermissionDenied
    ) -> HttpResponse:
        context: dict[str, Any] = {"refusal": refusal, "shop": self.shop}
        return TemplateResponse(request, self.forbidden_template_name, context, status=403)
