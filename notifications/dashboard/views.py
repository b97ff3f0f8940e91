"""The messaging dashboard: rates per flow, the message log and each message, flow settings,
the suppression list, and each customer's timeline.

Views parse the request with a form, read through `notifications.selectors` (every read scoped
to `self.shop`) and write only through the services, then redirect (POST-redirect-GET).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.template.defaultfilters import pluralize
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django.views import View

from notifications import selectors
from notifications.dashboard.email_frame import email_frame_response
from notifications.dashboard.forms import (
    FlowForm,
    MessageFilterForm,
    SearchForm,
    SuppressionAddForm,
    SuppressionFilterForm,
)
from notifications.flows import flows_ensure_defaults
from notifications.models import Flow, Message, MessageStatus
from notifications.services.flow_settings import flow_update
from notifications.services.operations import message_cancel, message_retry, message_send_now
from notifications.services.suppression_list import suppression_add_by_staff, suppression_remove
from orders.dashboard.views import DashboardView
from orders.tenancy import ShopStaffMixin
from postpurchase.exceptions import DomainError

PER_PAGE = 50


class MessagingView(DashboardView):
    nav_section = "messages"
    # Which tab of the messaging section is current.
    tab = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tab=self.tab, **kwargs)


class _PartialMixin:
    """Answers an htmx request with the results fragment only (not on a history restore,
    which needs the whole page)."""

    partial_template_name = ""
    request: HttpRequest

    def get_template_names(self) -> list[str]:
        htmx = self.request.htmx
        if htmx and not htmx.history_restore_request:
            return [self.partial_template_name]
        return super().get_template_names()  # type: ignore[misc]

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        response = super().render_to_response(context, **kwargs)  # type: ignore[misc]
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

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(rates=selectors.flow_rates(shop=self.shop), **kwargs)


# Message log and message page ----------------------------------------------------------------


class MessageListView(_PartialMixin, MessagingView):
    template_name = "notifications/dashboard/message_list.html"
    partial_template_name = "notifications/dashboard/partials/_message_results.html"
    tab = "log"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kinds = selectors.message_kinds_for_shop(shop=self.shop)
        form = MessageFilterForm(self.request.GET, kinds=kinds)
        filters = form.filters()
        rows = selectors.message_list_for_shop(shop=self.shop, **filters)
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
            state_chips=[(state, label, counts[state]) for state, label in MessageStatus.choices],
            current_state=filters["state"],
            total=sum(counts.values()),
            filter_customer=customer,
            messages_page=page["page_obj"].object_list,
            **page,
            **kwargs,
        )


class MessageDetailView(MessagingView):
    template_name = "notifications/dashboard/message_detail.html"
    tab = "log"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        message = selectors.message_get_for_shop(shop=self.shop, message_id=self.kwargs["pk"])
        return super().get_context_data(
            message=message,
            html_preview=selectors.message_html_preview(message=message),
            actions=_actions_for(message),
            **kwargs,
        )


class MessageEmailView(ShopStaffMixin, View):
    """One message's email as sent, the document of the frame on its page (see
    `email_frame`: the email keeps its inline styles there, the page stays strict)."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        message = selectors.message_get_for_shop(shop=self.shop, message_id=pk)
        html = selectors.message_html_preview(message=message)
        if not html:
            raise Http404("This message has no HTML part.")
        return email_frame_response(html)


@dataclass(frozen=True)
class _Action:
    label: str
    service: Callable[..., Message]
    done: str
    # The states the dashboard offers it in. Retry is narrower than the transition table,
    # which also lets a *scheduled* message be queued: from here that would be "send now"
    # without saying so.
    states: tuple[str, ...]


_ACTIONS: dict[str, _Action] = {
    "send-now": _Action(
        "Send now", message_send_now, "The message is on its way.", (MessageStatus.SCHEDULED,)
    ),
    "cancel": _Action(
        "Cancel",
        message_cancel,
        "The message was cancelled.",
        (MessageStatus.SCHEDULED, MessageStatus.QUEUED),
    ),
    "retry": _Action(
        "Retry", message_retry, "The message was queued again.", (MessageStatus.FAILED,)
    ),
}


def _actions_for(message: Message) -> list[tuple[str, str]]:
    return [(slug, a.label) for slug, a in _ACTIONS.items() if message.status in a.states]


class MessageActionView(ShopStaffMixin, View):
    """Send now, cancel or retry one of the shop's messages; a refusal is shown, not raised."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        if action not in _ACTIONS:
            raise Http404("No such action")
        message = selectors.message_get_for_shop(shop=self.shop, message_id=pk)
        todo = _ACTIONS[action]
        try:
            if message.status not in todo.states:
                raise DomainError(f"not for a message that is {message.get_status_display()}")
            todo.service(message_id=message.pk, actor=request.user)
        except DomainError as exc:
            messages.error(request, f"{todo.label}: refused, {exc}.")
        else:
            messages.success(request, todo.done)
        return HttpResponseRedirect(reverse("messaging:message_detail", args=[message.pk]))


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

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        flow = selectors.flow_get_for_shop(shop=self.shop, flow_id=self.kwargs["pk"])
        return self.render_to_response(
            self.get_context_data(flow=flow, form=FlowForm.for_flow(flow))
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        flow = selectors.flow_get_for_shop(shop=self.shop, flow_id=self.kwargs["pk"])
        form = FlowForm(request.POST)
        form.explain_delay(flow)
        if form.is_valid():
            try:
                flow_update(shop_id=self.shop.pk, flow_id=flow.pk, **form.changes())
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


class SuppressionListView(_PartialMixin, MessagingView):
    template_name = "notifications/dashboard/suppression_list.html"
    partial_template_name = "notifications/dashboard/partials/_suppression_results.html"
    tab = "suppressions"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
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
            can_remove=selectors.staff_can_remove_suppressions(
                user=self.request.user, shop=self.shop
            ),
            **page,
            **kwargs,
        )


class SuppressionRemoveView(ShopStaffMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        suppression = selectors.suppression_get_for_shop(shop=self.shop, suppression_id=pk)
        # An agent's attempt raises PermissionDenied in the service: a 403, nothing removed.
        suppression_remove(shop_id=self.shop.pk, suppression_id=suppression.pk, actor=request.user)
        messages.success(request, f"{suppression.address} may receive messages again.")
        return HttpResponseRedirect(resolve_url("messaging:suppression_list"))


# Customers ------------------------------------------------------------------------------------


class CustomerListView(_PartialMixin, DashboardView):
    template_name = "notifications/dashboard/customer_list.html"
    partial_template_name = "notifications/dashboard/partials/_customer_results.html"
    nav_section = "customers"

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
