"""The messaging dashboard: rates per flow, the message log and each message, flow settings,
the suppression list, and each customer's timeline.

Views parse the request with a form, read through `notifications.selectors` (every read scoped
to `self.shop`) and write only through the services, then redirect (POST-redirect-GET). Each
declares the staff action it needs (`permission`), enforced by `StaffPermissionMixin`.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from operator import attrgetter
from typing import Any, ClassVar

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django.template.defaultfilters import pluralize
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django.views import View

from notifications import selectors
from notifications.dashboard.email_frame import email_frame_response
from notifications.dashboard.forms import (
    FlowForm,
    MessageFilterForm,
    MessageSettleForm,
    SearchForm,
    SuppressionAddForm,
    SuppressionFilterForm,
)
from notifications.engine.flow_settings import flow_update
from notifications.engine.kinds import flows_ensure_defaults
from notifications.engine.operations import (
    message_cancel,
    message_retry,
    message_send_now,
    message_settle,
)
from notifications.engine.suppression_list import suppression_add_by_staff, suppression_remove
from notifications.models import Flow, Message, MessageStatus
from orders.selectors import overview_window_start
from postpurchase import charts, permissions
from postpurchase.exceptions import DomainError
from postpurchase.message_kinds import kind_label
from postpurchase.shell.forms import read_only
from postpurchase.shell.nav import Crumb
from postpurchase.shell.staff import DashboardView, StaffPermissionMixin, StaffRequest
from postpurchase.tables import Column, table_sort

PER_PAGE = 50


class MessagingView(DashboardView):
    nav_section = "messages"
    # Which tab of the messaging section is current.
    tab = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tab=self.tab, **kwargs)


class _PartialView(DashboardView):
    """Answers an htmx request with the results fragment only (not on a history restore,
    which needs the whole page)."""

    partial_template_name = ""
    request: StaffRequest

    def get_template_names(self) -> list[str]:
        htmx = self.request.htmx
        if htmx and not htmx.history_restore_request:
            return [self.partial_template_name]
        return super().get_template_names()

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        response = super().render_to_response(context, **kwargs)
        # Same URL, two bodies (page or fragment): caches must keep them apart.
        patch_vary_headers(response, ["HX-Request"])
        return response


def _page(request: HttpRequest, rows: QuerySet, per_page: int = PER_PAGE) -> dict[str, Any]:
    paginator = Paginator(rows, per_page)
    page = paginator.get_page(request.GET.get("page"))
    return {
        "page_obj": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
    }


# Overview: rates per flow -------------------------------------------------------------------


class OverviewView(MessagingView):
    template_name = "notifications/dashboard/overview.html"
    tab = "overview"
    permission = permissions.DASHBOARD_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        rates = selectors.flow_rates(shop=self.shop)
        return super().get_context_data(
            rates=rates,
            rate_charts=_rate_charts(rates),
            # The rates' first day: each count links to the log from that day on.
            since=overview_window_start(shop=self.shop),
            **kwargs,
        )


# One chart per rate, a bar per flow and channel that reports it: the table beside carries every
# number, and a rate nothing reports (no message sent, opens by text) has no bar.
RATE_CHARTS = (
    ("delivered_pct", "Delivered", "Delivered, share of the messages sent, per flow"),
    ("opened_pct", "Opened", "Opened, share of the emails sent, per flow"),
    ("clicked_pct", "Clicked", "Clicked, share of the emails sent, per flow"),
)


def _rate_charts(rates: list[selectors.FlowRate]) -> list[dict[str, Any]]:
    result = []
    for attribute, heading, label in RATE_CHARTS:
        series = [
            (f"{kind_label(rate.kind)} · {rate.channel}", getattr(rate, attribute))
            for rate in rates
            if getattr(rate, attribute) is not None
        ]
        if series:
            result.append({"heading": heading, "label": label, "chart": charts.bar_chart(series)})
    return result


# Message log and message page ----------------------------------------------------------------


# The log's columns: newest first unless staff sort by another.
MESSAGE_COLUMNS = [
    Column("Scheduled", key="created", order_by=("created_at",), descending_first=True),
    Column("Due", key="due", order_by=("send_at",), descending_first=True),
    Column("Kind", key="kind"),
    Column("Channel", key="channel"),
    Column("Recipient"),
    Column("State", key="state", order_by=("status",)),
    Column("Attempts", numeric=True),
]
MESSAGE_DEFAULT_SORT = "-created"


class MessageListView(_PartialView, MessagingView):
    template_name = "notifications/dashboard/message_list.html"
    partial_template_name = "notifications/dashboard/partials/_message_results.html"
    tab = "log"
    permission = permissions.DASHBOARD_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kinds = selectors.message_kinds_for_shop(shop=self.shop)
        form = MessageFilterForm(self.request.GET, kinds=kinds)
        filters = form.filters()
        sort = table_sort(self.request, columns=MESSAGE_COLUMNS, default=MESSAGE_DEFAULT_SORT)
        rows = selectors.message_list_for_shop(shop=self.shop, **filters).order_by(*sort.ordering)
        # The chips count every state under the other filters, so each says what clicking it
        # would show.
        counts = selectors.message_state_counts(
            messages=selectors.message_list_for_shop(shop=self.shop, **{**filters, "state": ""})
        )
        customer = None
        if filters["customer_id"]:
            customer = selectors.customer_find_for_shop(
                shop=self.shop, customer_id=filters["customer_id"]
            )
        page = _page(self.request, rows)
        return super().get_context_data(
            form=form,
            sort=sort,
            state_chips=[(state, label, counts[state]) for state, label in MessageStatus.choices],
            current_state=filters["state"],
            total=sum(counts.values()),
            filter_customer=customer,
            messages_page=page["page_obj"].object_list,
            **page,
            **kwargs,
        )


def _message_log() -> Crumb:
    return Crumb("Message log", reverse("messaging:message_list"))


class MessageDetailView(MessagingView):
    template_name = "notifications/dashboard/message_detail.html"
    tab = "log"
    permission = permissions.DASHBOARD_VIEW

    def get_breadcrumbs(self, context: Mapping[str, Any]) -> list[Crumb]:
        return [_message_log(), Crumb(f"Message {context['message'].pk}")]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        message = selectors.message_get_for_shop(shop=self.shop, message_id=self.kwargs["pk"])
        return super().get_context_data(
            message=message,
            html_preview=selectors.message_html_preview(message=message),
            provider_events=selectors.message_provider_events(message=message),
            actions=_actions_for(message),
            **kwargs,
        )


class MessageEmailView(StaffPermissionMixin, View):
    """One message's email as sent, the document of the frame on its page (see
    `email_frame`: the email keeps its inline styles there, the page stays strict)."""

    permission = permissions.DASHBOARD_VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        message = selectors.message_get_for_shop(shop=self.shop, message_id=pk)
        html = selectors.message_html_preview(message=message)
        if not html:
            raise Http404("This message has no HTML part.")
        return email_frame_response(html)


def _never(message: Message) -> bool:
    return False


@dataclass(frozen=True)
class _Action:
    label: str
    run: Callable[[StaffRequest, Message, Any], Message]
    done: str
    # Whether the message's state offers it: the model's predicate (`Message.can_retry`, …).
    offered: Callable[[Message], bool]
    # Whether it is taken only from its own page, which says what it means (a held message
    # may already be with the customer) or asks for what it needs.
    needs_page: Callable[[Message], bool] = _never
    form: type[MessageSettleForm] | None = None
    permission: str = permissions.MESSAGE_OPERATE


def _send_now(request: StaffRequest, message: Message, form: Any) -> Message:
    return message_send_now(message_id=message.pk, actor=request.user)


def _cancel(request: StaffRequest, message: Message, form: Any) -> Message:
    return message_cancel(message_id=message.pk, actor=request.user)


def _retry(request: StaffRequest, message: Message, form: Any) -> Message:
    return message_retry(
        message_id=message.pk,
        actor=request.user,
        held_confirmed=request.POST.get("held_confirmed") == "yes",
    )


def _settle(request: StaffRequest, message: Message, form: Any) -> Message:
    return message_settle(
        message_id=message.pk,
        actor=request.user,
        outcome=form.cleaned_data["outcome"],
        note=form.cleaned_data["note"],
    )


_ACTIONS: dict[str, _Action] = {
    "send-now": _Action(
        "Send now", _send_now, "The message is on its way.", attrgetter("can_send_now")
    ),
    "cancel": _Action("Cancel", _cancel, "The message was cancelled.", attrgetter("can_cancel")),
    "retry": _Action(
        "Retry",
        _retry,
        "The message was queued again.",
        attrgetter("can_retry"),
        needs_page=attrgetter("is_held"),
    ),
    "settle": _Action(
        "Settle",
        _settle,
        "The message is settled.",
        attrgetter("can_settle"),
        needs_page=attrgetter("is_held"),
        form=MessageSettleForm,
    ),
}


def _actions_for(message: Message) -> list[tuple[str, str, bool]]:
    """(slug, label, taken on its own page) of the actions the message's state allows."""
    return [
        (slug, a.label, a.needs_page(message)) for slug, a in _ACTIONS.items() if a.offered(message)
    ]


class MessageActionView(MessagingView):
    """Send now, cancel, retry or settle one of the shop's messages. GET shows the action's
    page (what it means, and its form); POST takes it. A refusal is shown, not raised.

    A message held for review is retried only from its page, which says the customer may
    already have it: a POST without that confirmation is sent to the page instead."""

    template_name = "notifications/dashboard/message_action.html"
    tab = "log"
    http_method_names = ["get", "head", "post"]
    # Each action declares the staff permission it needs.
    actions: ClassVar[Mapping[str, _Action]] = _ACTIONS

    def required_permission(self) -> str:
        return self._action().permission

    def _action(self) -> _Action:
        todo = self.actions.get(self.kwargs["action"])
        if todo is None:
            raise Http404("No such action")
        return todo

    def _detail(self, message: Message) -> HttpResponse:
        return HttpResponseRedirect(reverse("messaging:message_detail", args=[message.pk]))

    def get_breadcrumbs(self, context: Mapping[str, Any]) -> list[Crumb]:
        message = context["message"]
        return [
            _message_log(),
            Crumb(f"Message {message.pk}", reverse("messaging:message_detail", args=[message.pk])),
            Crumb(context["todo"].label),
        ]

    def get(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        message = selectors.message_get_for_shop(shop=self.shop, message_id=pk)
        todo = self._action()
        if not todo.offered(message):
            messages.error(
                request,
                f"{todo.label}: not for a message that is {message.get_status_display()}.",
            )
            return self._detail(message)
        return self._page(message, todo, todo.form() if todo.form else None)

    def post(self, request: StaffRequest, pk: int, action: str) -> HttpResponse:
        message = selectors.message_get_for_shop(shop=self.shop, message_id=pk)
        todo = self._action()
        form = todo.form(request.POST) if todo.form else None
        if form is not None and not form.is_valid():
            return self._page(message, todo, form, status=400)
        if message.is_held and action == "retry" and request.POST.get("held_confirmed") != "yes":
            messages.warning(request, "Read this first: the customer may already have it.")
            return redirect("messaging:message_action", pk=message.pk, action=action)
        try:
            if not todo.offered(message):
                raise DomainError(f"not for a message that is {message.get_status_display()}")
            todo.run(request, message, form)
        except DomainError as exc:
            messages.error(request, f"{todo.label}: refused, {exc}.")
        else:
            messages.success(request, todo.done)
        return self._detail(message)

    def _page(self, message: Message, todo: _Action, form: Any, status: int = 200) -> HttpResponse:
        context = self.get_context_data(
            message=message, action=self.kwargs["action"], todo=todo, form=form
        )
        return self.render_to_response(context, status=status)


# Flow settings --------------------------------------------------------------------------------


def _template_editor_url(kind: str) -> str:
    # The template editor is its own part of the dashboard; until it is installed the flow
    # pages simply show no link rather than failing.
    try:
        return reverse("message_templates:edit", args=[kind])
    except NoReverseMatch:
        return ""


def _duration_words(value: timedelta | None, *, zero: str) -> str:
    """'2 days', '8 hours', '1 day 6 hours', '30 minutes': as staff read them."""
    minutes = int(value.total_seconds() // 60) if value else 0
    if not minutes:
        return zero
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    return " ".join(f"{n} {unit}{pluralize(n)}" for n, unit in parts if n)


class FlowListView(MessagingView):
    template_name = "notifications/dashboard/flow_list.html"
    tab = "flows"
    permission = permissions.DASHBOARD_VIEW

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # A shop that has not had an event yet still sees (and may edit) every default flow.
        flows_ensure_defaults(shop_id=self.shop.pk)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        flows = selectors.flow_list_for_shop(shop=self.shop)
        try:
            templates_url = reverse("message_templates:list")
        except NoReverseMatch:
            templates_url = ""
        rows = [
            (
                flow,
                _template_editor_url(flow.kind),
                _duration_words(flow.delay, zero="at once"),
                _duration_words(flow.useful_for, zero="no limit"),
            )
            for flow in flows
        ]
        return super().get_context_data(
            flows=rows,
            templates_url=templates_url,
            **kwargs,
        )


class FlowEditView(MessagingView):
    template_name = "notifications/dashboard/flow_edit.html"
    tab = "flows"
    permission = {"GET": permissions.DASHBOARD_VIEW, "POST": permissions.FLOW_EDIT}

    def get_breadcrumbs(self, context: Mapping[str, Any]) -> list[Crumb]:
        return [
            Crumb("Flows", reverse("messaging:flow_list")),
            Crumb(kind_label(context["flow"].kind)),
        ]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        flow = selectors.flow_get_for_shop(shop=self.shop, flow_id=self.kwargs["pk"])
        form = FlowForm.for_flow(flow)
        if not self.staff_may[permissions.FLOW_EDIT]:
            read_only(form)
        return self.render_to_response(self.get_context_data(flow=flow, form=form))

    def post(self, request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        flow = selectors.flow_get_for_shop(shop=self.shop, flow_id=self.kwargs["pk"])
        form = FlowForm(request.POST)
        form.explain_delay(flow)
        if form.is_valid():
            try:
                flow_update(
                    shop_id=self.shop.pk, flow_id=flow.pk, actor=request.user, **form.changes()
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Saved the {flow.kind.replace('_', ' ')} flow.")
                return HttpResponseRedirect(reverse("messaging:flow_list"))
        context = self.get_context_data(flow=flow, form=form)
        return self.render_to_response(context, status=400)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        flow: Flow = kwargs["flow"]
        return super().get_context_data(template_url=_template_editor_url(flow.kind), **kwargs)


# Suppression list -----------------------------------------------------------------------------


class SuppressionListView(_PartialView, MessagingView):
    template_name = "notifications/dashboard/suppression_list.html"
    partial_template_name = "notifications/dashboard/partials/_suppression_results.html"
    tab = "suppressions"
    permission = {"GET": permissions.DASHBOARD_VIEW, "POST": permissions.SUPPRESSION_EDIT}

    def post(self, request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Add an address by hand."""
        form = SuppressionAddForm(request.POST)
        if form.is_valid():
            try:
                suppression, created = suppression_add_by_staff(
                    shop_id=self.shop.pk, actor=request.user, **form.cleaned_data
                )
            except DomainError as exc:
                form.add_error("address", str(exc))
            else:
                if created:
                    messages.success(request, f"{suppression.address} will get no more messages.")
                else:
                    messages.info(
                        request,
                        f"{suppression.address} was already suppressed "
                        f"({suppression.get_reason_display().lower()}).",
                    )
                return HttpResponseRedirect(reverse("messaging:suppression_list"))
        context = self.get_context_data(add_form=form)
        return self.render_to_response(context, status=400)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = SuppressionFilterForm(self.request.GET)
        filters = form.filters()
        rows = selectors.suppression_list_for_shop(
            shop=self.shop, query=filters["q"] or "", channel=filters["channel"] or ""
        )
        kwargs.setdefault("add_form", SuppressionAddForm())
        page = _page(self.request, rows)
        return super().get_context_data(
            form=form,
            suppressions=page["page_obj"].object_list,
            **page,
            **kwargs,
        )


class SuppressionRemoveView(StaffPermissionMixin, View):
    http_method_names = ["post"]
    permission = permissions.SUPPRESSION_EDIT

    def post(self, request: StaffRequest, pk: int) -> HttpResponse:
        suppression = selectors.suppression_get_for_shop(shop=self.shop, suppression_id=pk)
        suppression_remove(shop_id=self.shop.pk, suppression_id=suppression.pk, actor=request.user)
        messages.success(request, f"{suppression.address} may receive messages again.")
        return HttpResponseRedirect(resolve_url("messaging:suppression_list"))


# Customers ------------------------------------------------------------------------------------


class CustomerListView(_PartialView):
    template_name = "notifications/dashboard/customer_list.html"
    partial_template_name = "notifications/dashboard/partials/_customer_results.html"
    nav_section = "customers"
    permission = permissions.DASHBOARD_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = SearchForm(self.request.GET)
        rows = selectors.customer_list_for_shop(shop=self.shop, query=form.filters()["q"] or "")
        page = _page(self.request, rows)
        return super().get_context_data(
            form=form, customers=page["page_obj"].object_list, **page, **kwargs
        )


class CustomerTimelineView(DashboardView):
    template_name = "notifications/dashboard/customer_detail.html"
    nav_section = "customers"
    permission = permissions.DASHBOARD_VIEW

    def get_breadcrumbs(self, context: Mapping[str, Any]) -> list[Crumb]:
        return [
            Crumb("Customers", reverse("messaging:customer_list")),
            Crumb(str(context["customer"])),
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        customer = selectors.customer_get_for_shop(shop=self.shop, customer_id=self.kwargs["pk"])
        return super().get_context_data(
            customer=customer,
            timeline=selectors.customer_timeline(customer=customer),
            timeline_limit=selectors.TIMELINE_LIMIT,
            consents=selectors.customer_consents_by_purpose(customer=customer),
            suppressions=list(selectors.customer_suppressions(customer=customer)),
            **kwargs,
        )
