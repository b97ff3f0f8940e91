"""The customer's message preferences page, reached from every message without logging in.

One URL serves three requests: GET shows the page and never changes anything (link scanners
follow GETs); the page's form POSTs back with a CSRF token; and a mailbox provider's RFC 8058
one-click POST (body `List-Unsubscribe=One-Click`, no cookie, no CSRF token) unsubscribes the
customer from all marketing at once.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from notifications.engine.preferences import (
    PreferenceOption,
    preferences_customer_get,
    preferences_options,
    preferences_unsubscribe_marketing,
    preferences_update,
)
from orders.branding import shop_brand
from orders.models import Customer, Purpose
from postpurchase.shell.customer import customer_locale, customer_page_headers

ACTION_SAVE = "save"
ACTION_UNSUBSCRIBE_ALL = "unsubscribe_all"


class PreferencesForm(forms.Form):
    """One checkbox per switch the page offers this customer, and which button was pressed."""

    action = forms.ChoiceField(
        choices=[
            (ACTION_SAVE, gettext_lazy("Save my choices")),
            (ACTION_UNSUBSCRIBE_ALL, gettext_lazy("Unsubscribe from all marketing")),
        ],
        error_messages={"required": gettext_lazy("Choose one of the buttons to send the form.")},
    )

    def __init__(self, *args: Any, options: list[PreferenceOption], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.options = options
        for option in options:
            self.fields[option.key] = forms.BooleanField(
                label=option.label, required=False, initial=option.is_granted
            )

    def group(self, purpose: str) -> list[forms.BoundField]:
        return [self[option.key] for option in self.options if option.purpose == purpose]


def _masked_email(email: str) -> str:
    """Enough of the address for the customer to recognise it, not enough to harvest it from a
    forwarded link."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else ""


def _render(
    request: HttpRequest, customer: Customer, form: PreferencesForm, status: int = 200
) -> HttpResponse:
    shop = customer.shop
    context = {
        "shop": shop,
        "brand": shop_brand(shop),
        "language": translation.get_language(),
        "form": form,
        "order_updates": form.group(Purpose.TRANSACTIONAL),
        "marketing": form.group(Purpose.MARKETING),
        "masked_email": _masked_email(customer.email),
        "phone_ending": customer.phone[-4:] if customer.phone else "",
    }
    return render(request, "notifications/preferences.html", context, status=status)


def _csrf_rejection(request: HttpRequest) -> HttpResponse | None:
    """The view is exempt for the sake of one-click POSTs; the page's own form is checked here
    exactly as the middleware would have."""
    return CsrfViewMiddleware(_unused_view).process_view(request, _unused_view, (), {})


def _unused_view(request: HttpRequest) -> HttpResponse:
    # The middleware's check never calls the view; it only asks whether it is exempt (it is not).
    return HttpResponse()


def _one_click(customer: Customer) -> HttpResponse:
    preferences_unsubscribe_marketing(
        customer=customer, detail="one-click unsubscribe from the mailbox (RFC 8058)"
    )
    # Mailbox providers only read the status code; a short text answer is for anyone else.
    return HttpResponse(
        _("You are unsubscribed from news and offers."), content_type="text/plain; charset=utf-8"
    )


def _form_post(request: HttpRequest, customer: Customer) -> HttpResponse:
    form = PreferencesForm(request.POST, options=preferences_options(customer=customer))
    if not form.is_valid():
        return _render(request, customer, form, status=400)
    if form.cleaned_data["action"] == ACTION_UNSUBSCRIBE_ALL:
        preferences_unsubscribe_marketing(
            customer=customer, detail="unsubscribe from all marketing on the preferences page"
        )
        messages.success(
            request, _("You are unsubscribed from all news and offers. Order updates continue.")
        )
    else:
        changed = preferences_update(customer=customer, choices=form.cleaned_data)
        messages.success(
            request, _("Your choices are saved.") if changed else _("Nothing changed.")
        )
    return HttpResponseRedirect(request.path)


def _not_found(request: HttpRequest) -> HttpResponse:
    language = translation.get_language_from_request(request)
    with translation.override(language):
        context = {"language": language}
        response = render(request, "notifications/preferences_not_found.html", context, status=404)
    customer_page_headers(response, language=language)
    return response


@csrf_exempt  # RFC 8058 one-click POSTs carry no token; the form's POST is checked in the view.
@require_http_methods(["GET", "HEAD", "POST"])
def preferences_page(request: HttpRequest, token: str) -> HttpResponse:
    customer = preferences_customer_get(token=token)
    if customer is None:
        return _not_found(request)
    locale = customer_locale(customer=customer, shop=customer.shop)
    language = locale.language
    with locale.active():
        if request.method != "POST":
            options = preferences_options(customer=customer)
            response = _render(request, customer, PreferencesForm(options=options))
        elif request.POST.get("List-Unsubscribe") == "One-Click":
            response = _one_click(customer)
        else:
            response = _csrf_rejection(request) or _form_post(request, customer)
    # The URL holds the customer's token: it must not leak to the logo's or website's host,
    # nor be indexed, nor be kept.
    customer_page_headers(response, language=language, posts_form=True)
    return response
