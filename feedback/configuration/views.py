"""The feedback settings pages under the Feedback tabs: the survey (what it asks, when, how
often) with the review incentive, and the case policy. Everyone on the staff reads them;
managers and owners change them (agents see the values, read only). Each POST is one service
call, then a redirect; a form with an error is shown again with what was typed and nothing
saved."""

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from feedback.configuration.forms import CasePolicyForm, SurveySettingsForm
from feedback.configuration.selectors import case_policy_current, survey_choices_for
from feedback.configuration.services import case_policy_save, feedback_settings_save
from orders.models import SettingsArea
from orders.shop_settings.selectors import settings_changes_for_shop
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.shell.forms import read_only
from postpurchase.shell.staff import DashboardView, StaffRequest

CHANGES_PER_PAGE = 10


class _SettingsPage(DashboardView):
    nav_section = "feedback"
    # The policy's action that may change what this page shows.
    edit_action = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        rows = settings_changes_for_shop(shop=self.shop, area=SettingsArea.FEEDBACK)
        page = Paginator(rows.select_related("actor"), CHANGES_PER_PAGE).get_page(
            self.request.GET.get("page")
        )
        return super().get_context_data(
            tab="settings", can_edit=self.staff_may[self.edit_action], changes_page=page, **kwargs
        )

    def _show(self, form: Any, *, status: int = 200) -> HttpResponse:
        if not self.staff_may[self.edit_action]:
            read_only(form)
        return self.render_to_response(self.get_context_data(form=form), status=status)


class SurveySettingsView(_SettingsPage):
    template_name = "feedback/configuration/surveys.html"
    permission = {"GET": permissions.DASHBOARD_VIEW, "POST": permissions.SURVEY_SETTINGS_EDIT}
    edit_action = permissions.SURVEY_SETTINGS_EDIT

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        choices = survey_choices_for(self.shop)
        return self._show(SurveySettingsForm(initial=SurveySettingsForm.initial_from(choices)))

    def post(self, request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = SurveySettingsForm(request.POST)
        if form.is_valid():
            try:
                feedback_settings_save(shop=self.shop, actor=request.user, choices=form.choices())
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Survey and review settings saved."))
                return HttpResponseRedirect(reverse("feedback_settings:surveys"))
        return self._show(form, status=400)


class CasePolicyView(_SettingsPage):
    template_name = "feedback/configuration/case_policy.html"
    permission = {"GET": permissions.DASHBOARD_VIEW, "POST": permissions.CASE_POLICY_EDIT}
    edit_action = permissions.CASE_POLICY_EDIT

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        policy = case_policy_current(self.shop)
        return self._show(CasePolicyForm(initial=CasePolicyForm.initial_from(policy)))

    def post(self, request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = CasePolicyForm(request.POST)
        if form.is_valid():
            try:
                case_policy_save(shop=self.shop, actor=request.user, choices=form.choices())
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, _("Case policy saved. It applies to cases opened from now on.")
                )
                return HttpResponseRedirect(reverse("feedback_settings:case_policy"))
        return self._show(form, status=400)
