"""Turning a message's context into text. Adapters only ever receive what this produces.

Each kind has default templates in the folder its declaration names (`MessageKind.templates`,
"notifications/<kind>/" in the template folders of the app that declares it: subject.txt,
body.txt and body.html for email; sms.txt for SMS and WhatsApp), which share the engine's layout
("notifications/_layout.html"). A shop may replace them with its own
wording per channel and locale (`MessageTemplate`, run in the restricted engine of
`templating`). Texts carry what the law expects of them: the shop's name on the first text a
number receives from the shop, and how to opt out on it and on every marketing text.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.template import TemplateDoesNotExist, engines
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import escape, linebreaks
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from notifications.engine.links import preferences_url, tracking_page_url
from notifications.engine.templating import (
    TemplateParts,
    locale_candidates,
    template_render,
    template_validate,
    whatsapp_content_variables,
)
from notifications.models import InboundMessage, Message, MessageStatus, MessageTemplate
from orders.models import Channel, Purpose, Shop
from postpurchase.exceptions import DomainError
from postpurchase.message_kinds import message_kind_find
from postpurchase.shell.customer import customer_locale

WHATSAPP_SESSION_WINDOW = timedelta(hours=24)
WHATSAPP_NEEDS_TEMPLATE = (
    "WhatsApp outside the 24-hour window needs an approved template for this message"
)
_STOP_WORD = re.compile(r"\bSTOP\b")


@dataclass(frozen=True)
class RenderedText:
    subject: str
    body_text: str
    body_html: str
    # Set when WhatsApp must send an approved content template instead of free text.
    whatsapp_content_sid: str = ""
    whatsapp_content_variables: dict[str, str] = field(default_factory=dict)


class ShopTemplates:
    """The shop templates a batch of messages needs, each (shop, kind, channel) read once:
    a batch's messages mostly share a few kinds."""

    def __init__(self) -> None:
        self._read: dict[tuple[int, str, str], list[MessageTemplate]] = {}

    def lookup(
        self, *, shop_id: int, kind: str, channel: str, locale: str
    ) -> list[MessageTemplate]:
        """The templates that apply to `locale`, most specific first: "fr-CA", "fr", any."""
        key = (shop_id, kind, channel)
        if key not in self._read:
            self._read[key] = list(
                MessageTemplate.objects.filter(shop_id=shop_id, kind=kind, channel=channel)
            )
        by_locale = {template.locale: template for template in self._read[key]}
        return [by_locale[c] for c in locale_candidates(locale) if c in by_locale]


_batches = threading.local()


def templates_for_batch(batch: object) -> ShopTemplates:
    """The same `ShopTemplates` for every call with the same `batch` object (e.g. the chunk
    being sent), a new one for another; per thread, and never outliving the batch."""
    held = getattr(_batches, "held", None)
    if held is None or held[0]() is not batch:
        held = (weakref.ref(batch), ShopTemplates())
        _batches.held = held
    return held[1]


def _default(path: str, context: Mapping[str, Any]) -> str:
    return render_to_string(path, dict(context)).strip()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _in_layout(inner_html: str, context: Mapping[str, Any]) -> str:
    """The shop's HTML is the content of the shared branded layout, like the defaults."""
    wrapper = engines["django"].from_string(
        '{% extends "notifications/_layout.html" %}{% block content %}{{ shop_content }}'
        "{% endblock %}"
    )
    # The shop's markup was rendered with autoescape on: only its own literal HTML is raw.
    return wrapper.render({**context, "shop_content": mark_safe(inner_html)}).strip()  # noqa: S308


def _default_folder(kind: str) -> str:
    found = message_kind_find(kind)
    # A kind no app registers any more (its messages outlive it) is looked for where kinds
    # keep their templates by default.
    return found.template_folder if found else f"notifications/{kind}"


def _render_default(kind: str, channel: str, context: Mapping[str, Any]) -> RenderedText:
    base = _default_folder(kind)
    try:
        if channel == Channel.EMAIL:
            return RenderedText(
                subject=_one_line(_default(f"{base}/subject.txt", context)),
                body_text=_default(f"{base}/body.txt", context),
                body_html=_default(f"{base}/body.html", context),
            )
        return RenderedText(
            subject="", body_text=_default(f"{base}/sms.txt", context), body_html=""
        )
    except TemplateDoesNotExist as exc:
        raise DomainError(f"no {channel} template for '{kind}': {exc}") from exc


def _render_shop(template: MessageTemplate, context: Mapping[str, Any]) -> RenderedText:
    text = template_render(template.body_text, context, html=False)
    if template.channel != Channel.EMAIL:
        return RenderedText(subject="", body_text=text, body_html="")
    if template.body_html.strip():
        inner = template_render(template.body_html, context, html=True)
    else:
        inner = linebreaks(escape(text))
    return RenderedText(
        subject=_one_line(template_render(template.subject, context, html=False)),
        body_text=text,
        body_html=_in_layout(inner, context),
    )


def sms_notice_apply(body: str, *, shop_name: str, first_text: bool, marketing: bool) -> str:
    """The shop's name on the first text a number receives from the shop, and how to opt out
    on it and on every marketing text (TCPA/CTIA), added only where the wording lacks them."""
    if first_text and shop_name and shop_name.casefold() not in body.casefold():
        body = f"{shop_name}: {body}"
    if (first_text or marketing) and not _STOP_WORD.search(body):
        body = f"{body} {gettext('Reply STOP to opt out.')}"
    return body


def message_render(
    *,
    kind: str,
    channel: str,
    context: Mapping[str, Any],
    shop: Shop | None = None,
    locale: str = "",
    purpose: str = Purpose.TRANSACTIONAL,
    first_text: bool = False,
    templates: ShopTemplates | None = None,
) -> RenderedText:
    """Render a message of `kind` for `channel`: the shop's own template for the locale (the
    most specific of "fr-CA", "fr", any locale), else the product's default; with Django's
    translation active for the locale (else the shop's). Without a shop, the default."""
    language = locale or (shop.locale if shop else "") or settings.LANGUAGE_CODE
    found: list[MessageTemplate] = []
    if shop is not None:
        templates = templates or ShopTemplates()
        found = templates.lookup(shop_id=shop.pk, kind=kind, channel=channel, locale=locale)
    own = next((t for t in found if t.body_text.strip()), None)
    with translation.override(language):
        text = _render_shop(own, context) if own else _render_default(kind, channel, context)
        if channel == Channel.SMS:
            body = sms_notice_apply(
                text.body_text,
                shop_name=str(context.get("shop_name") or (shop.name if shop else "")),
                first_text=first_text,
                marketing=purpose == Purpose.MARKETING,
            )
            text = RenderedText(subject="", body_text=body, body_html="")
    return text


# --- What a message about to be sent needs to know --------------------------------------------


def _is_first_text(message: Message) -> bool:
    """Whether no earlier text from the shop reached this number."""
    if not message.customer_id:
        # Only the customer's messages are indexed by recipient; without one, the notice is
        # added rather than a scan of the shop's whole outbox.
        return True
    earlier = Message.objects.filter(
        customer_id=message.customer_id,
        shop_id=message.shop_id,
        channel=Channel.SMS,
        recipient=message.recipient,
        status__in=(MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.DELIVERED),
    ).exclude(pk=message.pk)
    return not earlier.exists()


def whatsapp_window_open(*, shop_id: int, number: str) -> bool:
    """Whether the customer wrote to the shop on WhatsApp in the last 24 hours: only then may
    the shop send free text (WhatsApp's customer-service window)."""
    return InboundMessage.objects.filter(
        shop_id=shop_id,
        channel=Channel.WHATSAPP,
        sender=number.removeprefix("whatsapp:"),
        received_at__gte=timezone.now() - WHATSAPP_SESSION_WINDOW,
    ).exists()


def _whatsapp_template(
    message: Message, locale: str, context: Mapping[str, Any], templates: ShopTemplates
) -> RenderedText:
    found = templates.lookup(
        shop_id=message.shop_id, kind=message.kind, channel=Channel.WHATSAPP, locale=locale
    )
    sid = next((t.whatsapp_content_sid for t in found if t.whatsapp_content_sid), "")
    if not sid:
        raise DomainError(WHATSAPP_NEEDS_TEMPLATE)
    variables = whatsapp_content_variables(message.kind, context)
    shown = ", ".join(f"{number}={value}" for number, value in variables.items())
    return RenderedText(
        subject="",
        # What staff see in the message log: the template and what filled it.
        body_text=f"WhatsApp template {sid} ({shown})",
        body_html="",
        whatsapp_content_sid=sid,
        whatsapp_content_variables=variables,
    )


def message_render_outbound(
    *, message: Message, templates: ShopTemplates | None = None
) -> RenderedText:
    """Render a message about to be sent, as its recipient must get it: in the customer's
    locale (else the shop's), with their preferences link, the texts' opt-out notice, and on
    WhatsApp outside the 24-hour window the shop's approved content template. DomainError
    when it cannot be sent as it stands (the reason says why)."""
    templates = templates or ShopTemplates()
    shop, customer = message.shop, message.customer
    locale = (customer.locale if customer else "") or shop.locale
    context = dict(message.context)
    if message.customer_id:
        context["preferences_url"] = preferences_url(message.customer_id)
    if "tracking_url" in context and message.order is not None:
        # The link as it is now: staff may have revoked the one current at scheduling.
        context["tracking_url"] = tracking_page_url(message.order)
    if message.channel == Channel.WHATSAPP and not whatsapp_window_open(
        shop_id=message.shop_id, number=message.recipient
    ):
        return _whatsapp_template(message, locale, context, templates)
    # Any time the templates show, in the customer's zone, as their pages show it.
    with timezone.override(customer_locale(customer=customer, shop=shop).zone):
        return message_render(
            kind=message.kind,
            channel=message.channel,
            context=context,
            shop=shop,
            locale=locale,
            purpose=message.purpose,
            first_text=message.channel == Channel.SMS and _is_first_text(message),
            templates=templates,
        )


# --- The editor's preview --------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    text: RenderedText
    # For texts: the body as a number's first text from the shop gets it (name and STOP added
    # where missing); later transactional texts get `text.body_text` as it is.
    first_text_body: str = ""


def message_preview(
    *,
    shop: Shop,
    kind: str,
    channel: str,
    locale: str,
    parts: TemplateParts,
    context: Mapping[str, Any],
) -> Preview:
    """A draft of the shop's template rendered as the customer would get it, without saving
    it; the product's default when the draft has no body. TemplateInvalid when the draft is
    not a valid template."""
    if parts.body_text.strip() or parts.subject.strip() or parts.body_html.strip():
        template_validate(kind=kind, channel=channel, parts=parts)
    draft = MessageTemplate(
        shop=shop,
        kind=kind,
        channel=channel,
        locale=locale,
        subject=parts.subject,
        body_text=parts.body_text,
        body_html=parts.body_html,
    )
    with translation.override(locale or shop.locale or settings.LANGUAGE_CODE):
        own = parts.body_text.strip()
        text = _render_shop(draft, context) if own else _render_default(kind, channel, context)
        if channel != Channel.SMS:
            return Preview(text=text)
        first = sms_notice_apply(
            text.body_text, shop_name=shop.name, first_text=True, marketing=False
        )
    return Preview(text=text, first_text_body=first)
