"""The merchant side of returns: the queue with counts, filters and bulk approve/reject; each
return's page with its items, photos, the customer's history, the history of the return and
the actions its status allows; the policy editor; the returns report.

Reads go through `returns.dashboard.selectors` (scoped to `self.shop`, the staff member's
current shop: anything of another shop is a 404); every move goes through a
`returns.services` transition, and a refusal (DomainError, IllegalTransition) becomes a
message with nothing changed. Each view declares the staff action it needs (`permission`):
agents see everything, managers decide, receive and resolve, owners edit the policy.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from postpurchase import charts, permissions
from postpurchase.exceptions import DomainError, IllegalTransition
from postpurchase.shell.forms import read_only
from postpurchase.shell.nav import Crumb
from postpurchase.shell.staff import DashboardView, StaffPermissionMixin, StaffRequest
from postpurchase.tables import Column, table_sort
from returns.dashboard import selectors
from returns.dashboard.forms import (
    BulkActionForm,
    InspectForm,
    RejectForm,
    ReportPeriodForm,
    ReturnFilterForm,
    ReturnPolicyForm,
    ReturnReasonFormSet,
    ReturnWindowForm,
)
from returns.dashboard.reports import (
    QUALITY_CHECK_FACTOR,
    QUALITY_CHECK_MIN_UNITS,
    RateRow,
    ReturnsReport,
    returns_report,
)
from returns.models import ReturnRequest, ReturnStatus
from returns.services import (
    Inspection,
    return_address_set,
    return_policy_for,
    return_policy_save,
    return_request_approve,
    return_request_inspect,
    return_request_mark_in_transit,
    return_request_receive,
    return_request_reject,
    return_request_resolve,
)

RETURNS_PER_PAGE = 50
CHART_ROWS = 10

# The queue's columns; newest first unless staff sort by another.
QUEUE_COLUMNS = [
    Column("Select", label_hidden=True),
    Column("RMA", key="rma"),
    Column("Order", key="order", order_by=("order__number",)),
    Column("Customer", key="customer", order_by=("customer__last_name", "customer__first_name")),
    Column("Filed", key="filed", order_by=("created_at",), descending_first=True),
    Column("Status", key="state", order_by=("status",)),
    Column("Method"),
    Column("Units", key="units", order_by=("unit_count",), numeric=True, descending_first=True),
    Column("Value", key="value", order_by=("value_total",), numeric=True, descending_first=True),
]
QUEUE_DEFAULT_SORT = "-filed"


class ReturnsView(DashboardView):
    nav_section = "returns"
    tab = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tab=self.tab, **kwargs)


def _queue_url(request: HttpRequest, candidate: str = "") -> str:
    queue = reverse("returns_dashboard:queue")
    if candidate.startswith(queue) and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}
    ):
        return candidate
    return queue


# Queue -----------------------------------------------------------------------------------------


class QueueView(ReturnsView):
    template_name = "returns/dashboard/queue.html"
    tab = "queue"
    permission = permissions.DASHBOARD_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = ReturnFilterForm(
            self.request.GET,
            reasons=selectors.reason_list_for_shop(shop=self.shop),
            products=selectors.returned_product_list_for_shop(shop=self.shop),
        )
        filters = form.filters()
        status = form.cleaned_data.get("status") or ""
        # The tabs count every status under the other filters: each says what clicking shows.
        unfiltered_by_status = selectors.return_list_for_shop(shop=self.shop, **filters)
        counts = selectors.return_status_counts(returns=unfiltered_by_status)
        sort = table_sort(self.request, columns=QUEUE_COLUMNS, default=QUEUE_DEFAULT_SORT)
        rows = selectors.return_list_for_shop(shop=self.shop, status=status, **filters).order_by(
            *sort.ordering
        )
        paginator = Paginator(rows, RETURNS_PER_PAGE)
        page = paginator.get_page(self.request.GET.get("page"))
        return super().get_context_data(
            form=form,
            sort=sort,
            status_tabs=[(value, label, counts[value]) for value, label in ReturnStatus.choices],
            current_status=status,
            total=sum(counts.values()),
            page_obj=page,
            page_range=paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
            returns=page.object_list,
            can_bulk=self.staff_may[permissions.RETURN_DECIDE]
            and any(r.can_decide for r in page.object_list),
            **kwargs,
        )


class BulkActionView(StaffPermissionMixin, View):
    """Approve or reject the selected returns, each through its service; says how many moved
    and which were refused (not requested any more, say)."""

    http_method_names = ["post"]
    permission = permissions.RETURN_DECIDE

    def post(self, request: StaffRequest) -> HttpResponse:
        form = BulkActionForm(request.POST)
        back = _queue_url(request, request.POST.get("next", ""))
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:  # ErrorList hands out each error as its message
                    messages.error(request, str(error))
            return HttpResponseRedirect(back)
        ids = form.cleaned_data["ids"]
        action = form.cleaned_data["action"]
        reason = form.cleaned_data["reason"].strip()
        returns = selectors.return_list_for_shop(shop=self.shop).filter(pk__in=ids)
        found = {r.pk: r for r in returns}
        moved, failed = 0, []
        for pk in ids:
            return_request = found.get(pk)
            if return_request is None:
                # Another shop's id (or a deleted one) is refused the same way as a missing one.
                failed.append(f"#{pk}: not found")
                continue
            try:
                if action == "approve":
                    return_request_approve(return_request=return_request, actor=request.user)
                else:
                    return_request_reject(
                        return_request=return_request, actor=request.user, reason=reason
                    )
            except IllegalTransition:
                failed.append(f"{return_request.rma}: {return_request.get_status_display()}")
            except DomainError as exc:
                failed.append(f"{return_request.rma}: {exc}")
            else:
                moved += 1
        verb = "Approved" if action == "approve" else "Rejected"
        if moved:
            messages.success(request, f"{verb} {moved} return{'' if moved == 1 else 's'}.")
        if failed:
            messages.error(
                request,
                f"{len(failed)} could not be {verb.lower()} ({'; '.join(failed)}).",
            )
        return HttpResponseRedirect(back)


# Return page and its actions -------------------------------------------------------------------

_ACTION_LABELS = {
    "approve": "Approve",
    "reject": "Reject",
    "in-transit": "Mark on its way back",
    "receive": "Mark received",
    "inspect": "Record inspection",
    "resolve": "Resolve",
}


class ReturnDetailView(ReturnsView):
    template_name = "returns/dashboard/return_detail.html"
    tab = "queue"
    permission = permissions.DASHBOARD_VIEW

    def get_breadcrumbs(self, context: Mapping[str, Any]) -> list[Crumb]:
        return [
            Crumb("Returns", reverse("returns_dashboard:queue")),
            Crumb(context["return_request"].rma),
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return_request = selectors.return_get_for_shop(shop=self.shop, return_id=self.kwargs["pk"])
        items = list(return_request.items.all())
        may = self.staff_may
        # What the return's status allows and the staff member's role may do.
        actions = [
            action
            for action in selectors.return_actions(return_request=return_request)
            if may[_ACTIONS[action].permission]
        ]
        return super().get_context_data(
            return_request=return_request,
            items=items,
            value_total=sum((item.value for item in items), start=0),
            history=selectors.customer_history(return_request=return_request),
            actions=[(a, _ACTION_LABELS[a]) for a in actions],
            can=set(actions),
            reject_form=RejectForm(),
            inspect_form=InspectForm(items=items) if "inspect" in actions else None,
            **kwargs,
        )


@dataclass(frozen=True)
class _Done:
    run: Callable[[StaffRequest, ReturnRequest], ReturnRequest]
    message: str
    permission: str


def _approve(request: StaffRequest, rr: ReturnRequest) -> ReturnRequest:
    return return_request_approve(return_request=rr, actor=request.user)


def _reject(request: StaffRequest, rr: ReturnRequest) -> ReturnRequest:
    form = RejectForm(request.POST)
    if not form.is_valid():
        raise DomainError("Say why the return is rejected: the customer will read it.")
    return return_request_reject(
        return_request=rr, actor=request.user, reason=form.cleaned_data["reason"]
    )


def _in_transit(request: StaffRequest, rr: ReturnRequest) -> ReturnRequest:
    return return_request_mark_in_transit(return_request=rr, actor=request.user)


def _receive(request: StaffRequest, rr: ReturnRequest) -> ReturnRequest:
    return return_request_receive(return_request=rr, actor=request.user)


def _inspect(request: StaffRequest, rr: ReturnRequest) -> ReturnRequest:
    form = InspectForm(request.POST, items=list(rr.items.defer("photo").order_by("pk")))
    if not form.is_valid():
        raise DomainError("Choose each item's condition.")
    inspections = {
        pk: Inspection(condition=condition, restock=restock, note=note)
        for pk, (condition, restock, note) in form.inspections().items()
    }
    return return_request_inspect(return_request=rr, actor=request.user, inspections=inspections)


def _resolve(request: StaffRequest, rr: ReturnRequest) -> ReturnRequest:
    return return_request_resolve(return_request=rr, actor=request.user)


_ACTIONS: dict[str, _Done] = {
    "approve": _Done(_approve, "Return {rma} approved.", permissions.RETURN_DECIDE),
    "reject": _Done(_reject, "Return {rma} rejected.", permissions.RETURN_DECIDE),
    "in-transit": _Done(_in_transit, "Return {rma} is on its way back.", permissions.RETURN_HANDLE),
    "receive": _Done(_receive, "Return {rma} received.", permissions.RETURN_RECEIVE),
    "inspect": _Done(_inspect, "Inspection of {rma} recorded.", permissions.RETURN_RECEIVE),
    "resolve": _Done(_resolve, "Return {rma} resolved.", permissions.RETURN_RESOLVE),
}


class ReturnActionView(StaffPermissionMixin, View):
    """One move of a return; what it needs depends on the move."""

    http_method_names = ["post"]
    # Each move declares the staff permission it needs.
    actions: ClassVar[Mapping[str, _Done]] = _ACTIONS

    def required_permission(self) -> str:
        todo = self.actions.get(self.kwargs["action"])
        if todo is None:
            raise Http404("No such action")
        return todo.permission

    def post(self, request: StaffRequest, pk: int, action: str) -> HttpResponse:
        return_request = selectors.return_get_for_shop(shop=self.shop, return_id=pk)
        todo = _ACTIONS[action]
        try:
            # Each move is one service, which locks the return and is its own transaction: a
            # refusal part-way (say, inspection) leaves nothing changed.
            todo.run(request, return_request)
        except IllegalTransition:
            messages.error(
                request,
                f"{_ACTION_LABELS[action]}: not possible while the return is "
                f"{return_request.get_status_display().lower()}.",
            )
        except DomainError as exc:
            messages.error(request, f"{_ACTION_LABELS[action]}: {exc}")
        else:
            messages.success(request, todo.message.format(rma=return_request.rma))
        return HttpResponseRedirect(reverse("returns_dashboard:detail", args=[pk]))


# Only types our photo upload produces are shown inline; anything else is a download, so no
# stored bytes can ever be rendered as a page on the dashboard's origin.
INLINE_PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


class ReturnItemPhotoView(StaffPermissionMixin, View):
    """The photo the customer sent with an item; staff of the return's shop only."""

    http_method_names = ["get", "head"]
    permission = permissions.DASHBOARD_VIEW

    def get(self, request: HttpRequest, pk: int, item_id: int) -> HttpResponse:
        item = selectors.return_item_photo_get_for_shop(
            shop=self.shop, return_id=pk, item_id=item_id
        )
        if item.photo is None:  # the selector finds only items with one
            raise Http404("This item has no photo.")
        content_type = item.photo_content_type
        inline = content_type in INLINE_PHOTO_TYPES
        response = HttpResponse(
            bytes(item.photo), content_type=content_type if inline else "application/octet-stream"
        )
        response["Content-Disposition"] = (
            "inline" if inline else f'attachment; filename="return-item-{item.pk}-photo"'
        )
        response["X-Content-Type-Options"] = "nosniff"
        # A customer's photo: no shared cache may keep it.
        patch_cache_control(response, private=True)
        return response


# Policy --------------------------------------------------------------------------------------


class PolicyView(ReturnsView):
    """Everyone sees the policy; only the shop's owner changes it."""

    template_name = "returns/dashboard/policy.html"
    tab = "policy"
    permission = {"GET": permissions.DASHBOARD_VIEW, "POST": permissions.RETURN_POLICY_EDIT}

    def _forms(self, data: QueryDict | None = None) -> dict[str, Any]:
        policy = return_policy_for(self.shop)
        return {
            "window_form": ReturnWindowForm(data, instance=self.shop, prefix="window"),
            "policy_form": ReturnPolicyForm(data, instance=policy, shop=self.shop, prefix="policy"),
            "reasons": ReturnReasonFormSet(data, shop=self.shop, prefix="reasons"),
        }

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        forms = self._forms()
        if not self.staff_may[permissions.RETURN_POLICY_EDIT]:
            read_only(*forms.values())
        return self.render_to_response(self.get_context_data(**forms))

    def post(self, request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        forms = self._forms(request.POST)
        if all(form.is_valid() for form in forms.values()):
            try:
                return_policy_save(
                    shop=self.shop,
                    actor=request.user,
                    return_window_days=forms["window_form"].cleaned_data["return_window_days"],
                    edits=[forms["policy_form"], forms["reasons"]],
                )
            except DomainError as exc:
                forms["window_form"].add_error(None, str(exc))
            else:
                messages.success(request, "Return policy saved.")
                return HttpResponseRedirect(reverse("returns_dashboard:policy"))
        return self.render_to_response(self.get_context_data(**forms), status=400)


class ReturnAddressView(StaffPermissionMixin, View):
    """The return address, set from the settings area's profile tab (this app's section
    there); the policy editor changes it too."""

    http_method_names = ["post"]
    permission = permissions.RETURN_POLICY_EDIT

    def post(self, request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return_address_set(
                shop=self.shop, actor=request.user, address=request.POST.get("return_address", "")
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "The return address is saved.")
        return HttpResponseRedirect(reverse("shop_settings:profile"))


# Report --------------------------------------------------------------------------------------


class ReportView(ReturnsView):
    template_name = "returns/dashboard/report.html"
    tab = "report"
    permission = permissions.DASHBOARD_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = ReportPeriodForm(self.request.GET or None)
        report = returns_report(shop=self.shop, days=form.period())
        top = sorted(
            (row for row in report.products if row.item_rate is not None),
            key=lambda row: row.item_rate or Decimal(0),
            reverse=True,
        )[:CHART_ROWS]
        return super().get_context_data(
            form=form,
            report=report,
            rate_chart=charts.bar_chart(_rate_series(report, top)) if top else None,
            reason_chart=charts.bar_chart(
                [(row.label, row.share) for row in report.reasons if row.share is not None]
            )
            if report.reasons
            else None,
            factor=QUALITY_CHECK_FACTOR,
            min_units=QUALITY_CHECK_MIN_UNITS,
            **kwargs,
        )


def _rate_series(report: ReturnsReport, top: list[RateRow]) -> list[tuple[str, Decimal]]:
    """The chart's bars: the shop's average first, to read each product against, then the
    products with the highest item return rate (a flagged one says so in its label)."""
    series: list[tuple[str, Decimal]] = []
    if report.item_rate is not None:
        series.append(("Shop average", report.item_rate))
    for row in top:
        if row.item_rate is None:  # the caller keeps only rows with a rate
            continue
        flag = " (needs a quality check)" if row.needs_quality_check else ""
        series.append((f"{row.title}{flag}", row.item_rate))
    return series
