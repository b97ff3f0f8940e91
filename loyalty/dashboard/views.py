"""The merchant's loyalty pages: the programme's numbers, its members, one member's page with
the ledger and staff adjustments, the programme's settings (rules, tiers) with a preview of what
a sample order earns, and the reward catalogue.

Reads go through `loyalty.dashboard.selectors` (scoped to the current shop: another shop's
member is a 404); each change is one service call that checks the actor itself, and a refusal
(DomainError) is shown next to the form with nothing saved. Agents read everything here;
managers and owners change the programme and adjust points."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar, cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from loyalty.dashboard import selectors
from loyalty.dashboard.changes import change_rows
from loyalty.dashboard.forms import (
    AdjustForm,
    MemberFilterForm,
    PeriodForm,
    PreviewForm,
    ProgrammeForm,
    RewardForm,
    TierFormSet,
)
from loyalty.dashboard.presenters import earning_preview, entry_words, numbers_page
from loyalty.models import Programme, Reward
from loyalty.programme.services import (
    REWARD_FIELDS,
    member_points_adjust,
    programme_start,
    programme_update,
    reward_add,
    reward_change,
    reward_offer,
    reward_remove,
    tiers_save,
)
from orders.models import SettingsArea
from orders.shop_settings.selectors import settings_changes_for_shop
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.shell.forms import read_only
from postpurchase.shell.nav import Crumb
from postpurchase.shell.staff import DashboardView, StaffPermissionMixin, StaffRequest
from postpurchase.tables import Column, table_sort

MEMBERS_PER_PAGE = 50
ENTRIES_PER_PAGE = 25
CHANGES_SHOWN = 20


def _heading(text: Any) -> str:
    """A lazily translated column heading, read in the staff member's language when shown."""
    return cast(str, text)


MEMBER_COLUMNS = [
    Column(
        _heading(gettext_lazy("Member")),
        key="name",
        order_by=("customer__last_name", "customer__first_name"),
    ),
    Column(
        _heading(gettext_lazy("Tier")),
        key="tier",
        order_by=("tier__rank",),
        descending_first=True,
    ),
    Column(
        _heading(gettext_lazy("Available")), key="available", numeric=True, descending_first=True
    ),
    Column(_heading(gettext_lazy("Pending")), key="pending", numeric=True, descending_first=True),
    Column(_heading(gettext_lazy("Expiring in 30 days")), numeric=True),
    Column(
        _heading(gettext_lazy("Earned in all")),
        key="earned",
        order_by=("lifetime_earned",),
        numeric=True,
        descending_first=True,
    ),
    Column(
        _heading(gettext_lazy("Joined")),
        key="joined",
        order_by=("created_at",),
        descending_first=True,
    ),
]
MEMBER_DEFAULT_SORT = "-available"


class _LoyaltyView(DashboardView):
    nav_section = "loyalty"
    tab = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        if "programme" not in kwargs:
            kwargs["programme"] = selectors.programme_for_shop(shop=self.shop)
        return super().get_context_data(tab=self.tab, **kwargs)


class OverviewView(_LoyaltyView):
    """The programme's numbers over a range of days, against the range before it."""

    template_name = "loyalty/dashboard/overview.html"
    permission = permissions.DASHBOARD_VIEW
    tab = "numbers"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        programme = selectors.programme_for_shop(shop=self.shop)
        form = PeriodForm(self.request.GET or None)
        context: dict[str, Any] = {"form": form, "programme": programme}
        if programme is not None:
            period = form.period(self.shop.today())
            numbers = selectors.loyalty_numbers(shop=self.shop, programme=programme, period=period)
            context.update(numbers=numbers, page=numbers_page(numbers))
        return super().get_context_data(**context, **kwargs)


class ProgrammeStartView(StaffPermissionMixin, View):
    """The empty state's "Start a programme": the programme with its default tiers and
    rewards, then its settings to adjust."""

    http_method_names = ["post"]
    permission = permissions.LOYALTY_SETTINGS

    def post(self, request: StaffRequest) -> HttpResponse:
        programme_start(shop_id=self.shop.pk, actor=request.user)
        messages.success(
            request,
            _(
                "The programme is running: check its rules and tiers below, and its rewards "
                "under Rewards."
            ),
        )
        return HttpResponseRedirect(reverse("loyalty_dashboard:settings"))


class MembersView(_LoyaltyView):
    template_name = "loyalty/dashboard/members.html"
    permission = permissions.DASHBOARD_VIEW
    tab = "members"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        tiers = list(selectors.tiers_for_shop(shop=self.shop))
        form = MemberFilterForm(self.request.GET, tiers=tiers)
        sort = table_sort(self.request, columns=MEMBER_COLUMNS, default=MEMBER_DEFAULT_SORT)
        members = selectors.member_list_for_shop(
            shop=self.shop,
            filters=selectors.MemberFilters(**form.filters()),
            ordering=sort.ordering,
        )
        page = Paginator(members, MEMBERS_PER_PAGE).get_page(self.request.GET.get("page"))
        return super().get_context_data(form=form, sort=sort, page_obj=page, **kwargs)


class MemberView(_LoyaltyView):
    """A member: balances, tier and its history, the ledger in words, lots and their expiry,
    rewards, referrals, and (managers and owners) the adjustment form."""

    template_name = "loyalty/dashboard/member.html"
    permission = permissions.DASHBOARD_VIEW
    tab = "members"

    def get_breadcrumbs(self, context: Mapping[str, Any]) -> list[Crumb]:
        return [
            Crumb(_("Members"), reverse("loyalty_dashboard:members")),
            Crumb(str(context["member"].customer)),
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        member = selectors.member_get_for_shop(shop=self.shop, member_id=self.kwargs["pk"])
        page = Paginator(selectors.member_ledger(member=member), ENTRIES_PER_PAGE).get_page(
            self.request.GET.get("page")
        )
        kwargs.setdefault("adjust_form", AdjustForm())
        return super().get_context_data(
            member=member,
            details=selectors.member_page(member=member),
            page_obj=page,
            entries=[(entry, entry_words(entry)) for entry in page.object_list],
            **kwargs,
        )


class MemberAdjustView(MemberView):
    """Staff add or take a member's points, with a reason; POST only."""

    http_method_names = ["post"]
    permission = permissions.LOYALTY_ADJUST

    def post(self, request: StaffRequest, pk: int) -> HttpResponse:
        member = selectors.member_get_for_shop(shop=self.shop, member_id=pk)
        form = AdjustForm(request.POST)
        if form.is_valid():
            try:
                booked = member_points_adjust(
                    shop_id=self.shop.pk,
                    member_id=member.pk,
                    actor=request.user,
                    points=form.cleaned_data["points"],
                    reason=form.cleaned_data["reason"],
                    key=form.cleaned_data["key"],
                )
            except DomainError as refused:
                form.add_error("points", str(refused))
            else:
                if booked.created:
                    messages.success(
                        request,
                        _("%(points)+d points booked for %(member)s.")
                        % {"points": booked.entry.available_delta, "member": member.customer},
                    )
                else:
                    messages.info(request, _("That adjustment was already booked, once."))
                return HttpResponseRedirect(reverse("loyalty_dashboard:member", args=[pk]))
        return self.render_to_response(self.get_context_data(adjust_form=form), status=400)


# Settings -------------------------------------------------------------------------------------


class SettingsView(_LoyaltyView):
    """The programme's rules and tiers, each its own form; agents read them."""

    template_name = "loyalty/dashboard/settings.html"
    permission: ClassVar[str | Mapping[str, str] | None] = {
        "GET": permissions.DASHBOARD_VIEW,
        "POST": permissions.LOYALTY_SETTINGS,
    }
    tab = "settings"

    def post(self, request: StaffRequest) -> HttpResponse:
        programme = selectors.programme_for_shop(shop=self.shop)
        if programme is None:
            return HttpResponseRedirect(reverse("loyalty_dashboard:settings"))
        form = ProgrammeForm(request.POST, instance=programme, shop=self.shop)
        if form.is_valid():
            try:
                programme_update(
                    shop_id=self.shop.pk, actor=request.user, values=dict(form.cleaned_data)
                )
            except DomainError as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(request, _("The programme's rules are saved."))
                return HttpResponseRedirect(reverse("loyalty_dashboard:settings"))
        # The form holds what was typed: the instance must show the saved values elsewhere.
        programme.refresh_from_db()
        return self.render_to_response(self.get_context_data(programme_form=form), status=400)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        programme = selectors.programme_for_shop(shop=self.shop)
        if programme is None:
            return super().get_context_data(programme=None, **kwargs)
        shop = self.shop
        tiers = list(selectors.tiers_for_shop(shop=shop))
        kwargs.setdefault("programme_form", ProgrammeForm(instance=programme, shop=shop))
        kwargs.setdefault(
            "tier_forms",
            TierFormSet(queryset=selectors.tiers_for_shop(shop=shop), shop=shop, prefix="tiers"),
        )
        if not self.staff_may[permissions.LOYALTY_SETTINGS]:
            read_only(kwargs["programme_form"], kwargs["tier_forms"])
        preview_form = PreviewForm(self.request.GET or None, tiers=tiers)
        changes = settings_changes_for_shop(shop=shop, area=SettingsArea.LOYALTY)[:CHANGES_SHOWN]
        return super().get_context_data(
            programme=programme,
            preview_form=preview_form,
            preview=_preview(self, programme, preview_form, tiers, {}),
            changes=change_rows(list(changes)),
            **kwargs,
        )


def _preview(
    view: DashboardView,
    programme: Programme,
    form: PreviewForm,
    tiers: list[Any],
    draft: Mapping[str, str],
) -> Any:
    total, tier = Decimal("100.00"), tiers[0] if tiers else None
    if form.is_bound and form.is_valid():
        if form.cleaned_data.get("sample_total") is not None:
            total = form.cleaned_data["sample_total"]
        chosen = form.cleaned_data.get("sample_tier")
        tier = next((t for t in tiers if str(t.pk) == chosen), tier)
    return earning_preview(
        programme=programme,
        tier=tier,
        total=total,
        currency=view.shop.currency,
        return_window_days=view.shop.return_window_days,
        today=view.shop.today(),
        points_per_unit=_draft_decimal(draft, "points_per_unit", "1000"),
        point_value=_draft_decimal(draft, "point_value", "1000"),
    )


def _draft_decimal(draft: Mapping[str, str], name: str, ceiling: str) -> Decimal | None:
    """A rate typed on the settings form and not saved yet, when it reads as one."""
    try:
        value = Decimal(draft.get(name, "").strip())
    except ArithmeticError:
        return None
    return value if value.is_finite() and 0 <= value <= Decimal(ceiling) else None


class PreviewView(_LoyaltyView):
    """The preview's result alone, which the settings page swaps in (htmx) as the sample
    order or the rates are typed; without JavaScript the page's own GET shows it."""

    template_name = "loyalty/dashboard/_preview.html"
    http_method_names = ["get", "head", "options"]
    permission = permissions.DASHBOARD_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        programme = selectors.programme_for_shop(shop=self.shop)
        tiers = list(selectors.tiers_for_shop(shop=self.shop))
        form = PreviewForm(self.request.GET or None, tiers=tiers)
        preview = (
            _preview(self, programme, form, tiers, self.request.GET)
            if programme is not None
            else None
        )
        return super().get_context_data(preview=preview, **kwargs)


class TiersView(SettingsView):
    """The tiers' list editor, a POST; on an error the settings page again, with the list as
    typed and what to fix next to it."""

    http_method_names = ["post"]
    permission = permissions.LOYALTY_SETTINGS

    def post(self, request: StaffRequest) -> HttpResponse:
        if selectors.programme_for_shop(shop=self.shop) is None:
            return HttpResponseRedirect(reverse("loyalty_dashboard:settings"))
        formset: Any = TierFormSet(
            request.POST,
            queryset=selectors.tiers_for_shop(shop=self.shop),
            shop=self.shop,
            prefix="tiers",
        )
        if formset.is_valid():
            try:
                tiers_save(shop_id=self.shop.pk, actor=request.user, rows=formset.edits())
            except DomainError as refused:
                formset._non_form_errors = formset.error_class([str(refused)])
            else:
                messages.success(request, _("The tiers are saved."))
                return HttpResponseRedirect(reverse("loyalty_dashboard:settings"))
        return self.render_to_response(self.get_context_data(tier_forms=formset), status=400)


# The reward catalogue -------------------------------------------------------------------------


class RewardsView(_LoyaltyView):
    """The catalogue: each reward's kind, value, points price, whether it is offered and how
    many codes it gave; managers and owners add, change, retire and remove from here."""

    template_name = "loyalty/dashboard/rewards.html"
    permission = permissions.DASHBOARD_VIEW
    tab = "rewards"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            rewards=list(selectors.reward_catalogue_for_shop(shop=self.shop)), **kwargs
        )


class _RewardFormView(_LoyaltyView):
    """A reward's form: on an error the form again, as typed, with what to fix next to the
    field, and nothing saved."""

    template_name = "loyalty/dashboard/reward_form.html"
    tab = "rewards"

    def reward(self) -> Reward | None:
        return None

    def get_breadcrumbs(self, context: Mapping[str, Any]) -> list[Crumb]:
        reward = context.get("reward")
        return [
            Crumb(_("Rewards"), reverse("loyalty_dashboard:rewards")),
            Crumb(reward.name if reward is not None else _("New reward")),
        ]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.reward()  # another shop's reward: 404 before anything else
        if selectors.programme_for_shop(shop=self.shop) is None:
            return HttpResponseRedirect(reverse("loyalty_dashboard:settings"))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        reward = self.reward()
        if "form" not in kwargs:
            kwargs["form"] = RewardForm(instance=reward, shop=self.shop)
            if not self.staff_may[permissions.LOYALTY_SETTINGS]:
                read_only(kwargs["form"])
        return super().get_context_data(reward=reward, **kwargs)

    def post(self, request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        reward = self.reward()
        if selectors.programme_for_shop(shop=self.shop) is None:
            return HttpResponseRedirect(reverse("loyalty_dashboard:settings"))
        form = RewardForm(request.POST, instance=reward, shop=self.shop)
        if form.is_valid():
            values = {name: form.cleaned_data[name] for name in REWARD_FIELDS}
            try:
                if reward is None:
                    saved = reward_add(shop_id=self.shop.pk, actor=request.user, values=values)
                else:
                    saved = reward_change(
                        shop_id=self.shop.pk,
                        actor=request.user,
                        reward_id=reward.pk,
                        values=values,
                    )
            except DomainError as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(request, _("%(reward)s is saved.") % {"reward": saved.name})
                return HttpResponseRedirect(reverse("loyalty_dashboard:rewards"))
        # The form holds what was typed; the page reads the reward again for its saved name.
        return self.render_to_response(self.get_context_data(form=form), status=400)


class RewardAddView(_RewardFormView):
    permission = permissions.LOYALTY_SETTINGS


class RewardView(_RewardFormView):
    """One reward: agents read it, managers and owners change it."""

    permission: ClassVar[str | Mapping[str, str] | None] = {
        "GET": permissions.DASHBOARD_VIEW,
        "POST": permissions.LOYALTY_SETTINGS,
    }

    def reward(self) -> Reward:
        return selectors.reward_get_for_shop(shop=self.shop, reward_id=self.kwargs["pk"])


class _RewardActionView(StaffPermissionMixin, View):
    http_method_names = ["post"]
    permission = permissions.LOYALTY_SETTINGS

    def post(self, request: StaffRequest, pk: int) -> HttpResponse:
        reward = selectors.reward_get_for_shop(shop=self.shop, reward_id=pk)
        try:
            done = self.act(request, reward)
        except DomainError as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, done)
        return HttpResponseRedirect(reverse("loyalty_dashboard:rewards"))

    def act(self, request: StaffRequest, reward: Reward) -> str:
        raise NotImplementedError


class RewardOfferView(_RewardActionView):
    """Retire a reward (members can no longer buy it; codes issued stay valid) or offer it
    again: the form's `offered` says which, so a repeated click changes nothing more."""

    permission = permissions.LOYALTY_SETTINGS

    def act(self, request: StaffRequest, reward: Reward) -> str:
        offered = request.POST.get("offered") == "1"
        reward_offer(shop_id=self.shop.pk, actor=request.user, reward_id=reward.pk, offered=offered)
        if offered:
            return _("%(reward)s is offered for points again.") % {"reward": reward.name}
        return _("%(reward)s is retired: members can no longer buy it.") % {"reward": reward.name}


class RewardRemoveView(_RewardActionView):
    """Delete a reward that never gave a code; one that did stays, to be retired instead."""

    permission = permissions.LOYALTY_SETTINGS

    def act(self, request: StaffRequest, reward: Reward) -> str:
        reward_remove(shop_id=self.shop.pk, actor=request.user, reward_id=reward.pk)
        return _("%(reward)s is removed.") % {"reward": reward.name}
