"""The settings area's pages: one tab each, on the dashboard shell, each with the record of the
changes made on it. Read by managers and owners, changed by owners (the policy's actions)."""

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views import View

from orders.branding import brand_for_colour
from orders.models import ApiKey, SettingsArea, StaffInvitation, StaffMembership
from orders.shop_settings import selectors
from orders.shop_settings.api_keys import api_key_create_by_staff, api_key_revoke_by_staff
from orders.shop_settings.forms import (
    ApiKeyCreateForm,
    InvitationPasswordForm,
    SenderIdentityForm,
    ShopProfileForm,
    StaffInviteForm,
    StaffRoleForm,
    WebhookSecretForm,
)
from orders.shop_settings.integrations import (
    CARRIER_PROVIDERS,
    carrier_webhook_secret_set,
    shopify_webhook_secret_set,
)
from orders.shop_settings.profile import ShopProfile, shop_profile_of, shop_profile_update
from orders.shop_settings.sections import settings_sections_for
from orders.shop_settings.sender import (
    SenderIdentity,
    SenderIdentityInvalid,
    sender_identity_of,
    sender_identity_update,
)
from orders.shop_settings.staff import (
    staff_invitation_accept,
    staff_invitation_find,
    staff_invitation_revoke,
    staff_invite,
    staff_member_remove,
    staff_role_change,
)
from orders.tenancy import SESSION_KEY, scoped
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.shell.staff import DashboardView, StaffPermissionMixin, StaffRequest

CHANGES_PER_PAGE = 20


class SettingsView(DashboardView):
    """A tab of the settings area; `area` names whose changes its log shows (all: "")."""

    nav_section = "settings"
    tab = ""
    area = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        rows = selectors.settings_changes_for_shop(shop=self.shop, area=self.area)
        paginator = Paginator(rows.select_related("actor"), CHANGES_PER_PAGE)
        page = paginator.get_page(self.request.GET.get("page"))
        return super().get_context_data(
            tab=self.tab,
            # What other apps add to this tab (`sections`): the return address on the profile.
            sections=settings_sections_for(tab=self.tab, shop=self.shop),
            changes_page=page,
            page_obj=page,
            page_range=paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
            **kwargs,
        )


class SettingsHomeView(SettingsView):
    template_name = "orders/shop_settings/home.html"
    tab = "home"
    http_method_names = ["get", "head", "options"]
    permission = permissions.SETTINGS_VIEW


class StaffListView(SettingsView):
    template_name = "orders/shop_settings/staff.html"
    tab = "staff"
    area = SettingsArea.STAFF
    permission = {"GET": permissions.SETTINGS_VIEW, "POST": permissions.STAFF_EDIT}

    def post(self, request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Invite someone by email."""
        form = StaffInviteForm(request.POST)
        if form.is_valid():
            try:
                staff_invite(shop_id=self.shop.pk, actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                form.add_error("email", str(exc))
            else:
                messages.success(
                    request, f"An invitation is on its way to {form.cleaned_data['email']}."
                )
                return HttpResponseRedirect(reverse("shop_settings:staff"))
        return self.render_to_response(self.get_context_data(invite_form=form), status=400)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("invite_form", StaffInviteForm())
        members = list(selectors.staff_list_for_shop(shop=self.shop))
        return super().get_context_data(
            members=[
                (m, StaffRoleForm(initial={"role": m.role}, prefix=f"m{m.pk}")) for m in members
            ],
            invitations=selectors.staff_invitations_open_for_shop(shop=self.shop),
            **kwargs,
        )


class _StaffMemberAction(StaffPermissionMixin, View):
    http_method_names = ["post"]

    def membership(self, pk: int) -> StaffMembership:
        # Another shop's member is a 404, before anything is decided.
        return get_object_or_404(scoped(StaffMembership, self.shop).select_related("user"), pk=pk)

    def done(self) -> HttpResponse:
        return HttpResponseRedirect(reverse("shop_settings:staff"))


class StaffRoleView(_StaffMemberAction):
    permission = permissions.STAFF_EDIT

    def post(self, request: StaffRequest, pk: int) -> HttpResponse:
        membership = self.membership(pk)
        form = StaffRoleForm(request.POST, prefix=f"m{pk}")
        if not form.is_valid():
            messages.error(request, "Choose one of the roles.")
            return self.done()
        try:
            staff_role_change(
                shop_id=self.shop.pk,
                actor=request.user,
                membership_id=membership.pk,
                role=form.cleaned_data["role"],
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                f"{membership.user.email or membership.user} is now {form.cleaned_data['role']}.",
            )
        return self.done()


class StaffRemoveView(_StaffMemberAction):
    permission = permissions.STAFF_EDIT

    def post(self, request: StaffRequest, pk: int) -> HttpResponse:
        membership = self.membership(pk)
        try:
            staff_member_remove(shop_id=self.shop.pk, actor=request.user, membership_id=pk)
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, f"{membership.user.email or membership.user} is no longer staff here."
            )
        return self.done()


class StaffInvitationRevokeView(StaffPermissionMixin, View):
    http_method_names = ["post"]
    permission = permissions.STAFF_EDIT

    def post(self, request: StaffRequest, pk: int) -> HttpResponse:
        invitation = get_object_or_404(scoped(StaffInvitation, self.shop), pk=pk)
        try:
            staff_invitation_revoke(
                shop_id=self.shop.pk, actor=request.user, invitation_id=invitation.pk
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, f"The invitation to {invitation.email} is revoked: its link works no more."
            )
        return HttpResponseRedirect(reverse("shop_settings:staff"))


class ApiKeyListView(SettingsView):
    template_name = "orders/shop_settings/api_keys.html"
    tab = "api_keys"
    area = SettingsArea.API_KEYS
    permission = {"GET": permissions.SETTINGS_VIEW, "POST": permissions.API_KEY_EDIT}

    def post(self, request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Create a key. The page answers the POST itself, without a redirect: the full key
        is in this one response and stored nowhere, so it can never be shown again."""
        form = ApiKeyCreateForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(create_form=form), status=400)
        created = api_key_create_by_staff(
            shop_id=self.shop.pk, actor=request.user, name=form.cleaned_data["name"]
        )
        response = self.render_to_response(self.get_context_data(created=created))
        add_never_cache_headers(response)
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("create_form", ApiKeyCreateForm())
        return super().get_context_data(
            api_keys=selectors.api_keys_for_shop(shop=self.shop), **kwargs
        )


class ApiKeyRevokeView(StaffPermissionMixin, View):
    http_method_names = ["post"]
    permission = permissions.API_KEY_EDIT

    def post(self, request: StaffRequest, pk: int) -> HttpResponse:
        key = get_object_or_404(scoped(ApiKey, self.shop), pk=pk)
        api_key_revoke_by_staff(shop_id=self.shop.pk, actor=request.user, api_key_id=key.pk)
        messages.success(request, f"The key {key.prefix} is revoked: the API refuses it now.")
        return HttpResponseRedirect(reverse("shop_settings:api_keys"))


class SenderIdentityView(SettingsView):
    template_name = "orders/shop_settings/sender.html"
    tab = "sender"
    area = SettingsArea.SENDER
    permission = {"GET": permissions.SETTINGS_VIEW, "POST": permissions.INTEGRATION_EDIT}

    def post(self, request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = SenderIdentityForm(request.POST)
        if form.is_valid():
            try:
                sender_identity_update(
                    shop_id=self.shop.pk,
                    actor=request.user,
                    identity=SenderIdentity(**form.cleaned_data),
                )
            except SenderIdentityInvalid as exc:
                form.add_error(exc.field, str(exc))
            else:
                messages.success(request, "The sender identity is saved.")
                return HttpResponseRedirect(reverse("shop_settings:sender"))
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        identity = sender_identity_of(self.shop)
        kwargs.setdefault("form", SenderIdentityForm(initial=vars(identity)))
        return super().get_context_data(
            identity=identity,
            default_from=settings.DEFAULT_FROM_EMAIL,
            **kwargs,
        )


class ShopProfileView(SettingsView):
    template_name = "orders/shop_settings/profile.html"
    tab = "profile"
    area = SettingsArea.PROFILE
    permission = {"GET": permissions.SETTINGS_VIEW, "POST": permissions.SHOP_PROFILE_EDIT}

    def post(self, request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = ShopProfileForm(request.POST)
        if form.is_valid():
            try:
                shop_profile_update(
                    shop_id=self.shop.pk,
                    actor=request.user,
                    profile=ShopProfile(**form.cleaned_data),
                )
            except DomainError as exc:
                form.add_error("name", str(exc))
            else:
                messages.success(request, "The shop's profile is saved.")
                return HttpResponseRedirect(reverse("shop_settings:profile"))
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("form", ShopProfileForm(initial=vars(shop_profile_of(self.shop))))
        return super().get_context_data(**kwargs)


class ShopProfilePreviewView(DashboardView):
    """The tracking page's frame (header, contacts, colour) as a customer would see it with the
    profile in the query string, the saved one where a value is missing or invalid: the
    profile form's Preview button loads it into the frame beside the form, without saving."""

    template_name = "orders/shop_settings/profile_preview.html"
    http_method_names = ["get", "head", "options"]
    permission = permissions.SETTINGS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        saved = vars(shop_profile_of(self.shop))
        draft = ShopProfileForm({**saved, **self.request.GET.dict()})
        draft.is_valid()
        profile = ShopProfile(
            **{field: draft.cleaned_data.get(field, value) for field, value in saved.items()}
        )
        return super().get_context_data(
            shop=profile, brand=brand_for_colour(profile.primary_colour), **kwargs
        )


class ShopProfilePreviewFrameView(DashboardView):
    """The preview's frame, pointed at the draft typed so far: the profile form asks for it as
    its fields change (htmx) and puts it in place of the frame, so the tracking page's preview
    follows the typing without saving. Only the profile's own fields go into the frame's
    address (not the form's CSRF token)."""

    template_name = "orders/shop_settings/_preview_frame.html"
    http_method_names = ["get", "head", "options"]
    permission = permissions.SETTINGS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        draft = {
            field: self.request.GET[field]
            for field in ShopProfileForm.base_fields
            if field in self.request.GET
        }
        return super().get_context_data(preview_query=urlencode(draft), **kwargs)


class IntegrationsView(SettingsView):
    """Each integration's status, read from the shop and the settings when the page loads (no
    provider is called for it); test sends are buttons, in the sections other apps add."""

    template_name = "orders/shop_settings/integrations.html"
    tab = "integrations"
    area = SettingsArea.INTEGRATIONS
    http_method_names = ["get", "head", "options"]
    permission = permissions.SETTINGS_VIEW


class _WebhookSecretView(StaffPermissionMixin, View):
    http_method_names = ["post"]
    permission = permissions.INTEGRATION_EDIT
    label = ""

    def save(self, request: StaffRequest, secret: str, **kwargs: Any) -> None:
        raise NotImplementedError

    def post(self, request: StaffRequest, **kwargs: Any) -> HttpResponse:
        form = WebhookSecretForm(request.POST, prefix=kwargs.get("provider", "shopify"))
        if not form.is_valid():
            messages.error(request, "Paste the secret to set it.")
        else:
            try:
                self.save(request, form.cleaned_data["secret"], **kwargs)
            except DomainError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"The {self.label} webhook secret is set.")
        return HttpResponseRedirect(reverse("shop_settings:integrations"))


class ShopifySecretView(_WebhookSecretView):
    permission = permissions.INTEGRATION_EDIT
    label = "Shopify"

    def save(self, request: StaffRequest, secret: str, **kwargs: Any) -> None:
        shopify_webhook_secret_set(shop_id=self.shop.pk, actor=request.user, secret=secret)


class CarrierSecretView(_WebhookSecretView):
    permission = permissions.INTEGRATION_EDIT
    label = "carrier"

    def post(self, request: StaffRequest, **kwargs: Any) -> HttpResponse:
        if kwargs["provider"] not in CARRIER_PROVIDERS:
            raise Http404("No such carrier integration.")
        return super().post(request, **kwargs)

    def save(self, request: StaffRequest, secret: str, **kwargs: Any) -> None:
        carrier_webhook_secret_set(
            shop_id=self.shop.pk, actor=request.user, provider=kwargs["provider"], secret=secret
        )


class InvitationAcceptView(View):
    """The invitee's page, reached by the emailed link: they are not staff yet, so it is not a
    dashboard view. Signed in, they join with their account; otherwise, with an account for
    the invited address they sign in first, and without one they choose a password."""

    template_name = "orders/shop_settings/invitation.html"

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        return self._page(request, token, InvitationPasswordForm())

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        form = InvitationPasswordForm(request.POST)
        try:
            if request.user.is_authenticated:
                membership = staff_invitation_accept(token=token, user=request.user)
            elif form.is_valid():
                membership = staff_invitation_accept(
                    token=token, password=form.cleaned_data["password1"]
                )
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                return self._page(request, token, form, status=400)
        except DomainError as exc:
            return self._page(request, token, form, status=400, error=str(exc))
        request.session[SESSION_KEY] = membership.shop_id
        messages.success(request, f"Welcome to {membership.shop.name}.")
        return HttpResponseRedirect(reverse("dashboard:home"))

    def _page(
        self,
        request: HttpRequest,
        token: str,
        form: InvitationPasswordForm,
        status: int = 200,
        error: str = "",
    ) -> HttpResponse:
        context: dict[str, Any] = {"form": form, "error": error}
        try:
            invitation = staff_invitation_find(token=token)
        except DomainError as exc:
            context["error"] = str(exc)
            status = 410 if status == 200 else status
        else:
            context["invitation"] = invitation
            context["has_account"] = (
                get_user_model()._default_manager.filter(email__iexact=invitation.email).exists()
            )
        response = render(request, self.template_name, context, status=status)
        # The link is a secret: it is neither cached nor passed on as a referrer.
        add_never_cache_headers(response)
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex"
        return response
