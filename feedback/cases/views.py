"""The merchant's case pages: the queue (filters by SLA state, assignee, source, priority; search;
sorted by due time) and each case's page (the thread, notes, assignment, replies by email, SMS or
WhatsApp, the resolution), with the SLA told in words.

Reads go through `feedback.cases.selectors` (scoped to the current shop: another shop's case is
a 404); every change is one service call, and a refusal (DomainError) becomes a message with
nothing changed. Agents work cases; a refund or store credit is a manager's call."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from feedback.cases import selectors
from feedback.cases.forms import (
    AssignForm,
    CaseFilterForm,
    NoteForm,
    OpenCaseForm,
    ReplyForm,
    ResolveForm,
)
from feedback.cases.services import (
    case_assign,
    case_note_add,
    case_reply_send,
    case_resolve,
    open_case_by_staff,
)
from feedback.models import Case
from feedback.models.cases import MONEY_RESOLUTIONS
from orders.models import Order
from orders.selectors import order_get_for_shop
from postpurchase import permissions
from postpurchase.exceptions import DomainError, IllegalTransition
from postpurchase.shell.nav import Crumb
from postpurchase.shell.staff import DashboardView, StaffPermissionMixin, StaffRequest
from postpurchase.tables import Column, table_sort

CASES_PER_PAGE = 50

# The queue's columns; the next deadline first by default, so the case to answer now is on top.
QUEUE_COLUMNS = [
    Column("Case"),
    Column("Customer"),
    Column("Source"),
    Column("Priority", key="priority", order_by=("priority_rank",), descending_first=True),
    Column("Status"),
    Column("SLA", key="due", order_by=("next_due_at",)),
    Column("Opened", key="opened", order_by=("created_at",), descending_first=True),
    Column("Assignee"),
]
QUEUE_DEFAULT_SORT = "due"


class QueueView(DashboardView):
    template_name = "feedback/cases/queue.html"
    nav_section = "feedback"
    permission = permissions.DASHBOARD_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        staff = selectors.shop_staff(shop=self.shop)
        form = CaseFilterForm(self.request.GET, staff=staff)
        sort = table_sort(self.request, columns=QUEUE_COLUMNS, default=QUEUE_DEFAULT_SORT)
        cases = selectors.case_list_for_shop(
            shop=self.shop, user=self.request.user, ordering=sort.ordering, **form.filters()
        )
        paginator = Paginator(cases, CASES_PER_PAGE)
        page = paginator.get_page(self.request.GET.get("page"))
        return super().get_context_data(
            form=form,
            sort=sort,
            page_obj=page,
            rows=selectors.case_rows(shop=self.shop, cases=list(page.object_list)),
            **kwargs,
        )


class CaseDetailView(DashboardView):
    template_name = "feedback/cases/case_detail.html"
    nav_section = "feedback"
    permission = permissions.DASHBOARD_VIEW

    def get_breadcrumbs(self, context: Mapping[str, Any]) -> list[Crumb]:
        return [
            Crumb("Cases", reverse("feedback_cases:queue")),
            Crumb(f"Case {context['case'].number}"),
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        case = selectors.case_get_for_shop(shop=self.shop, case_id=self.kwargs["pk"])
        staff = selectors.shop_staff(shop=self.shop)
        page = selectors.case_page(case=case)
        usable = [c for c in page.reply_channels if not c.refusal]
        # Four forms on one page: each field's id names its form.
        reply_form = ReplyForm(
            initial={"channel": usable[0].channel if usable else "email"}, auto_id="reply-%s"
        )
        return super().get_context_data(
            case=case,
            page=page,
            reply_form=reply_form,
            can_reply=bool(usable),
            note_form=NoteForm(),
            assign_form=AssignForm(initial={"assignee": str(case.assignee_id or "")}, staff=staff),
            resolve_form=ResolveForm(),
            **kwargs,
        )


@dataclass(frozen=True)
class _Action:
    run: Callable[[StaffRequest, Case, list[Any]], str]
    permission: str


def _reply(request: StaffRequest, case: Case, staff: list[Any]) -> str:
    form = ReplyForm(request.POST)
    if not form.is_valid():
        raise DomainError("Write the reply and choose how to send it.")
    entry = case_reply_send(
        case=case,
        actor=request.user,
        channel=form.cleaned_data["channel"],
        body=form.cleaned_data["body"],
        wait_for_customer=form.cleaned_data["wait_for_customer"],
    )
    return f"Reply sent by {entry.get_channel_display()}."


def _note(request: StaffRequest, case: Case, staff: list[Any]) -> str:
    form = NoteForm(request.POST)
    if not form.is_valid():
        raise DomainError("Write the note first.")
    case_note_add(case=case, actor=request.user, body=form.cleaned_data["body"])
    return "Note added."


def _assign(request: StaffRequest, case: Case, staff: list[Any]) -> str:
    form = AssignForm(request.POST, staff=staff)
    if not form.is_valid():
        raise DomainError("Choose one of the shop's staff.")
    assignee = form.chosen()
    case_assign(case=case, actor=request.user, assignee=assignee)
    return f"Case {case.number} assigned." if assignee else f"Case {case.number} unassigned."


def _resolve(request: StaffRequest, case: Case, staff: list[Any]) -> str:
    form = ResolveForm(request.POST)
    if not form.is_valid():
        raise DomainError("Choose the resolution; an amount is a positive number.")
    resolution = case_resolve(
        case=case,
        actor=request.user,
        kind=form.cleaned_data["kind"],
        note=form.cleaned_data["note"],
        amount=form.cleaned_data["amount"],
    )
    return f"Case {case.number} resolved: {resolution.get_kind_display().lower()}."


class CaseActionView(StaffPermissionMixin, View):
    """One change to a case; what it needs depends on the change (and, to resolve, on whether
    the resolution names money)."""

    http_method_names = ["post"]
    actions: ClassVar[Mapping[str, _Action]] = {
        "reply": _Action(_reply, permissions.CASE_HANDLE),
        "note": _Action(_note, permissions.CASE_HANDLE),
        "assign": _Action(_assign, permissions.CASE_HANDLE),
        "resolve": _Action(_resolve, permissions.CASE_HANDLE),
    }

    def required_permission(self) -> str:
        action = self.actions.get(self.kwargs["action"])
        if action is None:
            raise Http404("No such action")
        if (
            self.kwargs["action"] == "resolve"
            and self.request.POST.get("kind") in MONEY_RESOLUTIONS
        ):
            return permissions.CASE_RESOLVE_MONEY
        return action.permission

    def post(self, request: StaffRequest, pk: int, action: str) -> HttpResponse:
        case = selectors.case_get_for_shop(shop=self.shop, case_id=pk)
        staff = selectors.shop_staff(shop=self.shop)
        try:
            done = self.actions[action].run(request, case, staff)
        except IllegalTransition:
            messages.error(
                request, f"Not possible while the case is {case.get_status_display().lower()}."
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, done)
        return HttpResponseRedirect(reverse("feedback_cases:detail", args=[pk]))


class CaseOpenView(DashboardView):
    """Staff open a follow-up case by hand for an order (source "staff"), from the order's
    page; it joins the queue with the SLA its priority gets under the shop's policy."""

    template_name = "feedback/cases/case_open.html"
    nav_section = "orders"
    permission = permissions.CASE_HANDLE

    def get_breadcrumbs(self, context: Mapping[str, Any]) -> list[Crumb]:
        order = context["order"]
        return [
            Crumb(_("Orders"), reverse("dashboard:order_list")),
            Crumb(order.number, reverse("dashboard:order_detail", args=[order.pk])),
            Crumb(_("Open a follow-up case")),
        ]

    def _order(self) -> Order:
        return order_get_for_shop(shop=self.shop, order_id=self.kwargs["pk"])

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = OpenCaseForm(staff=selectors.shop_staff(shop=self.shop))
        return self.render_to_response(self.get_context_data(form=form, order=self._order()))

    def post(self, request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        order = self._order()
        form = OpenCaseForm(request.POST, staff=selectors.shop_staff(shop=self.shop))
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = open_case_by_staff(
                    shop=self.shop,
                    actor=request.user,
                    customer=order.customer,
                    order=order,
                    summary=data["summary"],
                    priority=data["priority"],
                    description=data["description"],
                    assignee=form.chosen_assignee(),
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Case %(number)s opened.") % {"number": case.number})
                return HttpResponseRedirect(reverse("feedback_cases:detail", args=[case.pk]))
        context = self.get_context_data(form=form, order=order)
        return self.render_to_response(context, status=400)
