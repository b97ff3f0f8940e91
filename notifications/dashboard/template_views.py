"""The template editor: each kind's wording per channel and locale, previewed live against one
of the shop's recent orders. Views parse, call `notifications.engine.templating` /
`rendering`, and render; every read is scoped to the staff member's shop."""

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template import Engine, TemplateDoesNotExist
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views import View

from notifications.dashboard.email_frame import (
    email_frame_response,
    email_preview_get,
    email_preview_stash,
)
from notifications.dashboard.template_forms import MessageTemplateForm
from notifications.engine.channels.sms import sms_encoding, sms_segments
from notifications.engine.kinds import kind_exists
from notifications.engine.rendering import message_preview
from notifications.engine.templating import (
    TemplateInvalid,
    TemplateParts,
    locale_normalise,
    message_template_get,
    message_template_reset,
    message_template_save,
    message_templates_for_shop,
    template_check,
    template_preview_context,
    template_preview_order,
    template_preview_orders,
)
from notifications.models import MessageTemplate
from orders.models import Channel
from orders.tenancy import scoped
from postpurchase import permissions
from postpurchase.message_kinds import TEMPLATE_FILES, kind_label, message_kind, message_kinds
from postpurchase.shell.nav import Crumb
from postpurchase.shell.staff import DashboardView, StaffPermissionMixin, StaffRequest
from postpurchase.templatetags.dashboard import dashboard_datetime

# Beyond this many segments a text costs enough per customer to say how much.
COSTLY_SEGMENTS = 3
# The form's fields, in the order of each channel's default template files (`TEMPLATE_FILES`).
_FIELDS: dict[str, tuple[str, ...]] = {
    Channel.EMAIL: ("subject", "body_text", "body_html"),
    Channel.SMS: ("body_text",),
    Channel.WHATSAPP: ("body_text",),
}
# The defaults' HTML extends the shared layout; a shop's HTML is only the layout's content.
_LAYOUT_WRAPPER = re.compile(
    r'^\s*\{% extends "notifications/_layout.html" %\}\s*\{% block content %\}(.*)'
    r"\{% endblock %\}\s*$",
    re.DOTALL,
)


# Shared snippets the defaults include; a shop template cannot include, so they are inlined.
_SNIPPET = re.compile(r'\{% include "(notifications/_[a-z_]+\.(?:txt|html))" %\}')


def _template_source(name: str) -> str:
    """A template file's source, as the (only, Django) template engine finds it."""
    return Engine.get_default().get_template(name).source


def _snippet_source(match: re.Match[str]) -> str:
    return _template_source(match.group(1)).strip()


def edit_url(kind: str, channel: str, locale: str = "") -> str:
    query = {"channel": channel} | ({"locale": locale} if locale else {})
    return f"{reverse('message_templates:edit', args=[kind])}?{urlencode(query)}"


def _kind_or_404(kind: str) -> str:
    if not kind_exists(kind):
        raise Http404("No such kind of message")
    return kind


def _channel_or_404(value: str | None) -> str:
    channel = value or Channel.EMAIL
    if channel not in Channel.values:
        raise Http404("No such channel")
    return channel


def _locale_or_404(value: str | None) -> str:
    try:
        return locale_normalise(value or "")
    except TemplateInvalid:
        raise Http404("No such locale") from None


def default_sources(kind: str, channel: str) -> dict[str, str]:
    """The product's default wording as a starting point (its shared snippets inlined), when
    every field of it is a valid shop template; else nothing, and the page starts empty while
    the preview shows the default."""
    sources = {}
    folder = message_kind(kind).template_folder
    for name, filename in zip(_FIELDS[channel], TEMPLATE_FILES[channel], strict=True):
        try:
            source = _template_source(f"{folder}/{filename}")
        except TemplateDoesNotExist:
            continue
        wrapped = _LAYOUT_WRAPPER.match(source)
        source = _SNIPPET.sub(_snippet_source, (wrapped.group(1) if wrapped else source).strip())
        try:
            template_check(source, field=name, kind=kind, html=name == "body_html")
        except TemplateInvalid:
            return {}
        sources[name] = source
    return sources


def _parts(form: MessageTemplateForm) -> TemplateParts:
    return TemplateParts(
        subject=form.value("subject"),
        body_text=form.value("body_text"),
        body_html=form.value("body_html"),
        whatsapp_content_sid=form.value("whatsapp_content_sid").strip(),
    )


def _text_stats(label: str, body: str) -> dict[str, Any]:
    return {
        "label": label,
        "body": body,
        "characters": len(body),
        "encoding": sms_encoding(body),
        "segments": sms_segments(body),
    }


def preview_for(request: StaffRequest, form: MessageTemplateForm, kind: str) -> dict[str, Any]:
    """Render the form's draft against the chosen order (or sample values): what the preview
    partial shows, including an invalid draft's error."""
    shop, channel = request.shop, form.channel
    order_id = form.cleaned_data.get("order") if form.is_valid() else None
    order = template_preview_order(shop=shop, order_id=order_id)
    context = template_preview_context(shop=shop, kind=kind, order=order)
    result: dict[str, Any] = {"order": order, "channel": channel, "error": ""}
    if not form.is_valid():
        result["error"] = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        return result
    try:
        locale = locale_normalise(form.value("locale"))
        preview = message_preview(
            shop=shop,
            kind=kind,
            channel=channel,
            locale=locale,
            parts=_parts(form),
            context=context,
        )
    except TemplateInvalid as exc:
        result["error"] = str(exc)
        return result
    result["text"] = preview.text
    if channel == Channel.EMAIL and preview.text.body_html:
        token = email_preview_stash(shop=shop, html=preview.text.body_html)
        result["frame_url"] = reverse("message_templates:preview_frame", args=[token])
    if channel != Channel.EMAIL:
        texts = [_text_stats("Every text", preview.text.body_text)]
        if preview.first_text_body and preview.first_text_body != preview.text.body_text:
            texts = [
                _text_stats("Later order updates", preview.text.body_text),
                _text_stats("First text to a number, and marketing", preview.first_text_body),
            ]
        result["texts"] = texts
        result["costly_segments"] = COSTLY_SEGMENTS
    if channel == Channel.WHATSAPP:
        result["content_variables"] = [
            (number, name, context.get(name, ""))
            for number, name in enumerate(message_kind(kind).whatsapp_variables, 1)
        ]
    return result


class TemplatePreviewFrameView(StaffPermissionMixin, View):
    """A previewed draft's email, the document of the preview's frame (see `email_frame`)."""

    permission = permissions.DASHBOARD_VIEW

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        html = email_preview_get(shop=self.shop, token=token)
        if html is None:
            raise Http404("This preview has lapsed: preview the template again.")
        return email_frame_response(html)


class TemplateListView(DashboardView):
    """Every kind on every channel, and which the shop has made its own (in which locales)."""

    template_name = "notifications/dashboard/template_list.html"
    nav_section = "messages"
    permission = permissions.DASHBOARD_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        overrides = message_templates_for_shop(shop=self.shop)
        rows = [
            {
                "kind": kind.name,
                "label": kind_label(kind.name),
                "cells": [
                    {
                        "channel": label,
                        "url": edit_url(kind.name, channel),
                        "locales": [
                            t.locale or "any" for t in overrides.get((kind.name, channel), [])
                        ],
                    }
                    for channel, label in Channel.choices
                ],
            }
            for kind in message_kinds()
        ]
        return super().get_context_data(rows=rows, channels=Channel.choices, **kwargs)


def editor_subtitle(template: MessageTemplate | None, locale: str) -> str:
    """The editor's one line of context: whose wording the page shows, for which locale, and
    who changed it last."""
    if template is None:
        where = f" for {locale}" if locale else ""
        return f"The product's default wording is used{where}: write your own below."
    where = f" for {template.locale}" if template.locale else " for every locale"
    when = dashboard_datetime(timezone.localtime(template.updated_at))
    who = f" by {template.updated_by}" if template.updated_by else ""
    return f"Your own wording{where}, last changed {when}{who}."


class TemplateEditView(DashboardView):
    """Agents see the wording and preview drafts; saving is for the shop's owner or a
    manager."""

    template_name = "notifications/dashboard/template_edit.html"
    nav_section = "messages"
    permission = {"GET": permissions.DASHBOARD_VIEW, "POST": permissions.TEMPLATE_EDIT}
    request: StaffRequest

    def get_breadcrumbs(self, context: Mapping[str, Any]) -> list[Crumb]:
        return [
            Crumb("Message templates", reverse("message_templates:list")),
            Crumb(context["kind_label"]),
        ]

    def get(self, request: HttpRequest, kind: str) -> HttpResponse:
        kind = _kind_or_404(kind)
        channel = _channel_or_404(request.GET.get("channel"))
        locale = _locale_or_404(request.GET.get("locale"))
        template = message_template_get(shop=self.shop, kind=kind, channel=channel, locale=locale)
        if template is not None:
            initial = {
                "subject": template.subject,
                "body_text": template.body_text,
                "body_html": template.body_html,
                "whatsapp_content_sid": template.whatsapp_content_sid,
            }
        else:
            initial = default_sources(kind, channel)
        form = MessageTemplateForm(
            initial | {"locale": locale}, channel=channel
        )  # bound, so the first preview renders the same draft the page shows
        return self.render_page(form, kind, template)

    def post(self, request: StaffRequest, kind: str) -> HttpResponse:
        kind = _kind_or_404(kind)
        channel = _channel_or_404(request.POST.get("channel"))
        form = MessageTemplateForm(request.POST, channel=channel)
        if form.is_valid():
            try:
                saved = message_template_save(
                    shop=self.shop,
                    kind=kind,
                    channel=channel,
                    locale=form.value("locale"),
                    subject=form.value("subject"),
                    body_text=form.value("body_text"),
                    body_html=form.value("body_html"),
                    whatsapp_content_sid=form.value("whatsapp_content_sid"),
                    actor=request.user,
                )
            except TemplateInvalid as exc:
                field = exc.field if exc.field in form.fields else None
                form.add_error(field, str(exc))
            else:
                messages.success(request, f"Saved your {kind} {channel} template.")
                return HttpResponseRedirect(edit_url(kind, channel, saved.locale))
        return self.render_page(form, kind, None, status=400)

    def render_page(
        self,
        form: MessageTemplateForm,
        kind: str,
        template: MessageTemplate | None,
        status: int = 200,
    ) -> HttpResponse:
        channel = form.channel
        try:
            locale = locale_normalise(str(form.data.get("locale", "")))
        except TemplateInvalid:
            locale = ""
        if template is None:
            template = message_template_get(
                shop=self.shop, kind=kind, channel=channel, locale=locale
            )
        overrides = message_templates_for_shop(shop=self.shop).get((kind, channel), [])
        context = self.get_context_data(
            kind=kind,
            kind_label=kind_label(kind),
            subtitle=editor_subtitle(template, locale),
            channel=channel,
            locale=locale,
            form=form,
            template=template,
            channel_tabs=[(c, label, edit_url(kind, c)) for c, label in Channel.choices],
            locales=[(t.locale or "any", edit_url(kind, channel, t.locale)) for t in overrides],
            variables=message_kind(kind).variables,
            orders=template_preview_orders(shop=self.shop),
            preview=preview_for(self.request, form, kind),
        )
        return self.render_to_response(context, status=status)


class TemplatePreviewView(StaffPermissionMixin, View):
    """The draft rendered, not saved: the htmx partial on each change, or without JavaScript
    the whole edit page with the preview filled in."""

    http_method_names = ["post"]
    permission = permissions.DASHBOARD_VIEW

    def post(self, request: StaffRequest, kind: str) -> HttpResponse:
        kind = _kind_or_404(kind)
        channel = _channel_or_404(request.POST.get("channel"))
        form = MessageTemplateForm(request.POST, channel=channel)
        if request.htmx:
            response = render(
                request,
                "notifications/dashboard/template_preview.html",
                {"preview": preview_for(request, form, kind), "kind": kind},
            )
        else:
            page = TemplateEditView()
            page.setup(request, kind=kind)
            page.shop = self.shop
            response = page.render_page(form, kind, None)
        patch_vary_headers(response, ["HX-Request"])
        return response


class TemplateResetView(StaffPermissionMixin, View):
    """Back to the product's default: the shop's override is deleted."""

    http_method_names = ["post"]
    permission = permissions.TEMPLATE_EDIT

    def post(self, request: StaffRequest, pk: int) -> HttpResponse:
        template = get_object_or_404(scoped(MessageTemplate, self.shop), pk=pk)
        kind, channel, locale = template.kind, template.channel, template.locale
        message_template_reset(template=template, actor=request.user)
        messages.success(request, f"Your {kind} {channel} template is back to the default.")
        return HttpResponseRedirect(edit_url(kind, channel, locale))
