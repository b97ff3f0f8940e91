"""The base of every dashboard view: the staff member's current shop, and the staff permission
policy (`postpurchase.permissions`) enforced before the view runs.

Every dashboard view declares the action it needs (`StaffPermissionMixin.permission`); a role
too low for it gets a 403 page saying who may. Pages (`DashboardView`) also say which section
of the navigation they belong to and what their breadcrumbs are.
"""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.generic import TemplateView
from django_htmx.middleware import HtmxDetails

from postpurchase import permissions
from postpurchase.shell.nav import Crumb
from postpurchase.shell.shops import shop_directory

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class StaffRequest(HttpRequest):
    """A dashboard view's request as the shell hands it over: its user is signed in (anyone
    else was sent to sign in first), `shop` is their current shop and `staff_may` what their
    role there allows. A type only: the object is Django's request with those two set."""

    user: "User"
    shop: Any  # the tenant model (settings.TENANT_MODEL): the kernel names no app
    staff_may: permissions.AllowedActions
    htmx: HtmxDetails


def no_shop_response(request: HttpRequest) -> HttpResponseBase:
    """Where a signed-in user who belongs to no shop goes instead of the dashboard: ops (staff
    or superusers of the site) to the admin, where their work is; anyone else to a page
    saying they belong to no shop, with a way to sign out (a 404 here would be a debug page
    listing every URL under DEBUG, and tells them nothing)."""
    user = request.user
    if user.is_staff or user.is_superuser:
        return redirect("admin:index")
    return TemplateResponse(request, "shell/no_shop.html", status=403)


class ShopStaffMixin(LoginRequiredMixin):
    """Sets `self.shop` (and `request.shop`) to the staff member's current shop; a subclass
    may then refuse the request (`refusal`) before the view runs."""

    shop: Any
    # Set by the view this is mixed into (Django's `View`).
    request: HttpRequest
    http_method_names: Sequence[str]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        staff = cast(StaffRequest, request)  # signed in: from here on, what the shell makes it
        shop = shop_directory().current_shop(request)
        if shop is None:
            return no_shop_response(request)
        self.shop = staff.shop = shop
        refusal = self.refusal(staff)
        if refusal is not None:
            return refusal
        return super().dispatch(request, *args, **kwargs)

    def refusal(self, request: StaffRequest) -> HttpResponse | None:
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
    forbidden_template_name = "shell/forbidden.html"
    # What the staff member's role allows in the current shop, set before the view runs (and
    # on the request, for the shell's templates).
    staff_may: permissions.AllowedActions

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

    def refusal(self, request: StaffRequest) -> HttpResponse | None:
        if (request.method or "").lower() not in self.http_method_names:
            return None  # the view answers 405, whoever asks
        action = self.required_permission()
        # The shop came with the staff member's role in it: no query of its own.
        allowed = permissions.AllowedActions(
            self.shop.staff_role, everything=permissions.is_ops(request.user)
        )
        self.staff_may = request.staff_may = allowed
        if allowed[action]:
            return None
        return self.forbidden(request, permissions.StaffPermissionDenied(action, allowed.role))

    def forbidden(
        self, request: StaffRequest, refusal: permissions.StaffPermissionDenied
    ) -> HttpResponse:
        context: dict[str, Any] = {"refusal": refusal, "shop": self.shop}
        return TemplateResponse(request, self.forbidden_template_name, context, status=403)


class DashboardView(StaffPermissionMixin, TemplateView):
    """A dashboard page, drawn in the shell's layout."""

    # Which navigation section is marked current (`postpurchase.shell.nav.NavSection.key`).
    nav_section = ""

    def get_breadcrumbs(self, context: Mapping[str, Any]) -> list[Crumb]:
        """The trail to this page, from its section's list down to the page itself (last,
        without a link); none for a section's own page. Built from the page's context."""
        return []

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(nav_section=self.nav_section, **kwargs)
        context["breadcrumbs"] = self.get_breadcrumbs(context)
        return context
