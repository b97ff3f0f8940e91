"""The merchant dashboard's orders pages: overview, orders list and order page (with the
customer's tracking link, its page views and the problems they reported), and the shop switcher.

Views parse the request, call a selector from `orders.selectors` and render; every read is
scoped to `self.shop`, the staff member's current shop, set by the shell's
`StaffPermissionMixin`, which also enforces the action each view declares (`permission`)
against the staff policy.
"""

from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models.functions import Length
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from orders import selectors
from orders.dashboard.figures import order_figures, overview_figures_for
from orders.dashboard.forms import OrderFilterForm, ShopSelectForm
from orders.dashboard.panels import order_panels_for
from orders.links import tracking_page_path, tracking_page_url
from orders.services.problem_resolution import problem_report_resolve
from orders.services.tracking import tracking_link_renew
from orders.tenancy import shop_select
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.shell.nav import Crumb
from postpurchase.shell.staff import DashboardView, StaffPermissionMixin, StaffRequest
from postpurchase.tables import Column, table_sort

ORDERS_PER_PAGE = 50
LATEST_ORDERS_ON_OVERVIEW = 10

# The orders list's columns; those with a key sort (`?sort=number`, `-placed` …).
ORDER_COLUMNS = [
    # "#999" before "#1000": shorter numbers first, then alphabetically.
    Column("Order", key="number", order_by=("number_length", "number")),
    Column("Placed", key="placed", order_by=("placed_at",), descending_first=True),
    Column(
        "Customer",
        key="customer",
        order_by=("customer__first_name", "customer__last_name", "email"),
    ),
    Column("Status"),
    Column("Items", numeric=True),
    Column("Total", key="total", numeric=True, descending_first=True),
]
# Newest first, as the list always opened.
ORDER_DEFAULT_SORT = "-placed"


class OverviewView(DashboardView):
    template_name = "orders/overview.html"
    nav_section = "overview"
    permission = permissions.DASHBOARD_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        latest = selectors.order_list_for_shop(shop=self.shop)[:LATEST_ORDERS_ON_OVERVIEW]
        overview = selectors.shop_overview(shop=self.shop)
        return super().get_context_data(
            overview=overview,
            # The orders' own KPI cards, then the other apps' numbers (returns to decide,
            # messages failed …), as they registered.
            figures=[*order_figures(self.shop, overview), *overview_figures_for(self.shop)],
            orders=list(latest),
            **kwargs,
        )


class OrderListView(DashboardView):
    template_name = "orders/order_list.html"
    partial_template_name = "orders/partials/_order_rows.html"
    nav_section = "orders"
    permission = permissions.DASHBOARD_VIEW
    request: StaffRequest

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = OrderFilterForm(self.request.GET)
        sort = table_sort(self.request, columns=ORDER_COLUMNS, default=ORDER_DEFAULT_SORT)
        orders = (
            selectors.order_list_for_shop(shop=self.shop, **form.filters())
            .annotate(number_length=Length("number"))
            .order_by(*sort.ordering)
        )
        paginator = Paginator(orders, ORDERS_PER_PAGE)
        page = paginator.get_page(self.request.GET.get("page"))
        return super().get_context_data(
            form=form,
            sort=sort,
            page_obj=page,
            page_range=paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
            orders=page.object_list,
            **kwargs,
        )

    def get_template_names(self) -> list[str]:
        htmx = self.request.htmx
        # A history restore needs the whole page, not the fragment.
        if htmx and not htmx.history_restore_request:
            return [self.partial_template_name]
        return [self.template_name]

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        response = super().render_to_response(context, **kwargs)
        # Same URL, two bodies (page or fragment): caches must keep them apart.
        patch_vary_headers(response, ["HX-Request"])
        return response


class OrderDetailView(DashboardView):
    template_name = "orders/order_detail.html"
    nav_section = "orders"
    permission = permissions.DASHBOARD_VIEW

    def get_breadcrumbs(self, context: Mapping[str, Any]) -> list[Crumb]:
        return [Crumb("Orders", reverse("dashboard:order_list")), Crumb(context["order"].number)]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        order = selectors.order_get_for_shop(shop=self.shop, order_id=self.kwargs["pk"])
        consents = selectors.customer_consents(customer=order.customer) if order.customer else []
        return super().get_context_data(
            order=order,
            consents=consents,
            timeline=selectors.order_timeline(order=order),
            tracking_path=tracking_page_path(order),
            tracking_url=tracking_page_url(order),
            tracking_views=selectors.tracking_page_views_for_order(order=order),
            problem_reports=selectors.problem_report_list_for_order(order=order),
            # What apps above orders know of the order (its returns …), by their registration.
            panels=order_panels_for(order),
            **kwargs,
        )


def _order_page(order_id: int, fragment: str = "") -> HttpResponseRedirect:
    url = reverse("dashboard:order_detail", args=[order_id])
    return HttpResponseRedirect(f"{url}#{fragment}" if fragment else url)


class TrackingLinkRenewView(StaffPermissionMixin, View):
    """Give the order a new tracking link; the old one stops working at once. It breaks the
    link in every message already sent, so it is not an agent's call."""

    http_method_names = ["post"]
    permission = permissions.TRACKING_LINK_RENEW

    def post(self, request: StaffRequest, pk: int) -> HttpResponse:
        order = selectors.order_get_for_shop(shop=self.shop, order_id=pk)
        tracking_link_renew(order=order, actor=request.user)
        messages.success(
            request,
            f"Order {order.number} has a new tracking link; the previous one no longer works.",
        )
        return _order_page(order.pk, "tracking")


class ProblemReportResolveView(StaffPermissionMixin, View):
    http_method_names = ["post"]
    permission = permissions.CASE_HANDLE

    def post(self, request: StaffRequest, pk: int, report_id: int) -> HttpResponse:
        report = selectors.problem_report_get_for_shop(
            shop=self.shop, order_id=pk, report_id=report_id
        )
        try:
            report = problem_report_resolve(report=report, actor=request.user)
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Marked resolved: {report.get_kind_display()}.")
        return _order_page(pk, "problems")


# Only types our photo upload produces are shown inline; anything else is a download, so no
# stored bytes can ever be rendered as a page on the dashboard's origin.
INLINE_PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


class ProblemReportPhotoView(StaffPermissionMixin, View):
    """The photo the customer sent with a report; staff of the order's shop only."""

    http_method_names = ["get", "head"]
    permission = permissions.DASHBOARD_VIEW

    def get(self, request: HttpRequest, pk: int, report_id: int) -> HttpResponse:
        report = selectors.problem_report_get_for_shop(
            shop=self.shop, order_id=pk, report_id=report_id, with_photo=True
        )
        if not report.has_photo or report.photo is None:
            raise Http404("This report has no photo.")
        content_type = report.photo_content_type
        inline = content_type in INLINE_PHOTO_TYPES
        response = HttpResponse(
            bytes(report.photo),
            content_type=content_type if inline else "application/octet-stream",
        )
        response["Content-Disposition"] = (
            "inline" if inline else f'attachment; filename="problem-{report.pk}-photo"'
        )
        response["X-Content-Type-Options"] = "nosniff"
        # A customer's photo: no shared cache may keep it.
        patch_cache_control(response, private=True)
        return response


class ShopSelectView(StaffPermissionMixin, View):
    """Switch the current shop (only to one the staff member belongs to, where every role may
    see the dashboard), then go back."""

    http_method_names = ["post"]
    permission = permissions.DASHBOARD_VIEW

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ShopSelectForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose a shop to switch to.")
            return HttpResponseRedirect(resolve_url("dashboard:home"))
        shop = shop_select(request, form.cleaned_data["shop"])
        messages.success(request, f"You are now working in {shop.name}.")
        return HttpResponseRedirect(self._next_url(request, form.cleaned_data["next"]))

    @staticmethod
    def _next_url(request: HttpRequest, candidate: str) -> str:
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
        return resolve_url("dashboard:home")
