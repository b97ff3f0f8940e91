"""The messaging providers' sections of the settings area's integrations tab (registered
from the app's `ready()`), and the two test-send buttons they hold: each a POST that calls the
provider through the real channel adapter, records the outcome and shows it plainly."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views import View

from notifications.engine.provider_checks import (
    ProviderTestOutcome,
    email_provider_configured,
    email_sender_for,
    email_test_send,
    last_email_event,
    last_email_sent,
    last_text_status_callback,
    masked,
    text_test_send,
    twilio_is_configured,
    twilio_sender_for,
)
from orders.models import Shop
from orders.shop_settings.sections import SettingsSection, settings_section_register
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.shell.staff import StaffPermissionMixin, StaffRequest


def email_integration_section(shop: Shop) -> dict[str, Any]:
    return {
        "provider": email_provider_configured(),
        "sender": email_sender_for(shop),
        "last_sent": last_email_sent(shop),
        "last_event": last_email_event(shop),
    }


def twilio_integration_section(shop: Shop) -> dict[str, Any]:
    configured = twilio_is_configured()
    return {
        "is_configured": configured,
        "account_sid": masked(settings.TWILIO_ACCOUNT_SID) if configured else "",
        "sender": twilio_sender_for(shop) if configured else "",
        "last_callback": last_text_status_callback(shop),
        "phone_region": shop.phone_region or "",
    }


def integration_sections_register() -> None:
    settings_section_register(
        SettingsSection(
            key="email",
            tab="integrations",
            template_name="notifications/dashboard/settings/_email.html",
            context=email_integration_section,
            order=10,
        )
    )
    settings_section_register(
        SettingsSection(
            key="twilio",
            tab="integrations",
            template_name="notifications/dashboard/settings/_twilio.html",
            context=twilio_integration_section,
            order=20,
        )
    )


class TestTextForm(forms.Form):
    phone = forms.CharField(label="Staff phone number", max_length=32)


class _ProviderTestView(StaffPermissionMixin, View):
    http_method_names = ["post"]
    permission = permissions.INTEGRATION_EDIT
    what = ""

    def send(self, request: StaffRequest) -> ProviderTestOutcome:
        raise NotImplementedError

    def post(self, request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            outcome = self.send(request)
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            if outcome.is_sent:
                messages.success(request, f"The test {self.what} went to {outcome.recipient}.")
            else:
                # The provider's own words: they say what to fix.
                messages.error(
                    request,
                    f"The test {self.what} to {outcome.recipient} failed: {outcome.detail}",
                )
        return HttpResponseRedirect(reverse("shop_settings:integrations"))


class EmailTestView(_ProviderTestView):
    permission = permissions.INTEGRATION_EDIT
    what = "email"

    def send(self, request: StaffRequest) -> ProviderTestOutcome:
        return email_test_send(
            shop_id=self.shop.pk, actor=request.user, recipient=request.user.email
        )


class TextTestView(_ProviderTestView):
    permission = permissions.INTEGRATION_EDIT
    what = "text"

    def send(self, request: StaffRequest) -> ProviderTestOutcome:
        form = TestTextForm(request.POST)
        if not form.is_valid():
            raise DomainError("Enter the phone number to send the test text to.")
        return text_test_send(
            shop_id=self.shop.pk, actor=request.user, phone=form.cleaned_data["phone"]
        )
