"""Shop-written message templates: the variables each kind offers, the restricted engine the
shop's wording runs in, and saving it only when it is valid.

A shop's template is staff-written text that runs on every message of its kind, so it must not
reach anything but the plain values of the message's context: it runs in its own
`django.template.Engine` with no loaders, no tag libraries, only the default filters and the
default tags that work on the context alone (no `{% load %}`, `{% include %}`, `{% extends %}`,
`{% debug %}`, `{% url %}`...). The context itself is plain JSON values, frozen (read-only
mappings and tuples) before rendering, so a template cannot call a method that changes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.template import (
    Context,
    Engine,
    Library,
    Template,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.template.base import FilterExpression, Lexer, Node, NodeList, TokenType, Variable
from django.template.smartif import TokenBase

from notifications.engine.kinds import kind_exists, kind_variables
from notifications.engine.links import preferences_url
from notifications.models import MessageTemplate
from orders.models import Channel, Order, Shop
from orders.tenancy import staff_permission_require
from postpurchase import permissions
from postpurchase.exceptions import DomainError
from postpurchase.message_kinds import message_kind, message_kind_find
from postpurchase.permissions import Actor

# --- What each kind offers ------------------------------------------------------------------
# Each kind declares its variables (`MessageKind.variables`): a kind no app registers does not
# exist here, and a template naming a variable not declared for its kind is refused.


def whatsapp_content_variables(kind: str, context: Mapping[str, Any]) -> dict[str, str]:
    """The numbered variables of the kind's WhatsApp content template, from the context."""
    found = message_kind_find(kind)
    names = found.whatsapp_variables if found else ()
    # Twilio refuses empty values and newlines, tabs or long runs of spaces (error 21656): a
    # value is sent on one line, and a blank one is left out so the template's own default
    # placeholder value is used.
    values = {
        str(number): " ".join(str(context.get(name) or "").split())
        for number, name in enumerate(names, 1)
    }
    return {number: value for number, value in values.items() if value}


# --- The restricted engine -------------------------------------------------------------------

# Default tags that only work on the context. Everything else (load, url, csrf_token, debug,
# querystring, the loader tags block/extends/include, and lorem, which only makes filler
# text) is absent from the engine.
_ALLOWED_TAGS = (
    "autoescape",
    "comment",
    "cycle",
    "filter",
    "firstof",
    "for",
    "if",
    "ifchanged",
    "now",
    "regroup",
    "resetcycle",
    "spaceless",
    "templatetag",
    "verbatim",
    "widthratio",
    "with",
)
# Named in the error so staff know why, rather than Django's "did you forget to load it?".
_FORBIDDEN_TAGS = frozenset(
    {"load", "include", "extends", "block", "debug", "ssi", "url", "csrf_token", "querystring"}
)


def _restricted_tags() -> Library:
    library = Library()
    for name in _ALLOWED_TAGS:
        library.tags[name] = defaulttags.register.tags[name]
    return library


class _RestrictedEngine(Engine):
    """An engine without loaders, libraries or the loader tags: a template compiled here can
    use the default filters and the tags above, on the context it is given, and nothing else."""

    def get_template_builtins(self, builtins: list[str]) -> list[Library]:
        return [_restricted_tags(), defaultfilters.register]


# debug=True keeps each node's source line, which the error messages report.
SHOP_ENGINE = _RestrictedEngine(dirs=[], app_dirs=False, libraries={}, loaders=[], debug=True)
SHOP_ENGINE_TEXT = _RestrictedEngine(
    dirs=[], app_dirs=False, libraries={}, loaders=[], debug=True, autoescape=False
)


class TemplateInvalid(DomainError):
    """A shop template that cannot be saved; `field` and `line` say where."""

    def __init__(self, message: str, *, field: str = "", line: int | None = None) -> None:
        self.field, self.line, self.reason = field, line, message
        where = f"line {line}: " if line else ""
        super().__init__(f"{where}{message}")


def _forbidden_tag(source: str) -> TemplateInvalid | None:
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents.split() else ""
            if name in _FORBIDDEN_TAGS:
                return TemplateInvalid(
                    f"{{% {name} %}} is not allowed in message templates", line=token.lineno
                )
    return None


def template_compile(source: str, *, html: bool) -> Template:
    """Compile shop-written text in the restricted engine; TemplateInvalid on any error."""
    refused = _forbidden_tag(source)
    if refused:
        raise refused
    engine = SHOP_ENGINE if html else SHOP_ENGINE_TEXT
    try:
        return engine.from_string(source)
    except TemplateSyntaxError as exc:
        line = getattr(exc, "template_debug", {}).get("line")
        raise TemplateInvalid(str(exc), line=line) from exc


def _names_in(expression: FilterExpression) -> Iterable[str]:
    variables = [expression.var] + [arg for _, args in expression.filters for _, arg in args]
    for variable in variables:
        if isinstance(variable, Variable) and variable.lookups:
            yield variable.lookups[0]


def _bound_names(node: Node) -> set[str]:
    """Names a tag defines for its body ({% for x in ... %}, {% with y=... %}, "as z")."""
    names = set(getattr(node, "loopvars", ()) or ())
    names |= set(getattr(node, "extra_context", {}) or {})
    for attr in ("var_name", "variable_name", "asvar"):
        value = getattr(node, attr, None)
        if isinstance(value, str):
            names.add(value)
    return names


def _walk(value: Any, line: int, found: list[tuple[str, int]], bound: set[str]) -> None:
    if isinstance(value, FilterExpression):
        found.extend((name, line) for name in _names_in(value))
    elif isinstance(value, list | tuple | NodeList):
        for item in value:
            _walk(item, line, found, bound)
    elif isinstance(value, dict):
        for item in value.values():
            _walk(item, line, found, bound)
    elif isinstance(value, Node | TokenBase):
        token = getattr(value, "token", None)
        line = getattr(token, "lineno", None) or line
        if isinstance(value, Node):
            bound |= _bound_names(value)
        for attr, item in vars(value).items():
            if attr not in {"token", "origin"}:
                _walk(item, line, found, bound)


def template_unknown_variables(template: Template, allowed: Iterable[str]) -> list[tuple[str, int]]:
    """(name, line) of each variable the template uses that the kind does not offer."""
    found: list[tuple[str, int]] = []
    # True, False and None are names in every context.
    bound: set[str] = {"forloop", "True", "False", "None"}
    _walk(template.nodelist, 1, found, bound)
    known = set(allowed) | bound
    return [(name, line) for name, line in found if name not in known]


def freeze(value: Any) -> Any:
    """A read-only copy of plain context values: mappings become read-only, lists tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    # Anything else (a model, a date) is not a plain value: the template gets its text only.
    return str(value)


def template_render(source: str, context: Mapping[str, Any], *, html: bool) -> str:
    template = template_compile(source, html=html)
    return template.render(Context(freeze(dict(context)), autoescape=html)).strip()


# --- Saving and resetting --------------------------------------------------------------------

LOCALE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
CONTENT_SID_RE = re.compile(r"^HX[0-9a-fA-F]{32}$")
SMS_MAX_LENGTH = 1600  # Twilio refuses longer message bodies


def locale_normalise(locale: str) -> str:
    """ "fr_ca", "FR-ca" → "fr-CA"; "" stays "" (any locale). TemplateInvalid when malformed."""
    value = locale.strip().replace("_", "-")
    if not value:
        return ""
    language, _, region = value.partition("-")
    value = language.lower() + (
        f"-{region.upper() if len(region) == 2 else region}" if region else ""
    )
    if not LOCALE_RE.match(value):
        raise TemplateInvalid(f"'{locale}' is not a locale like fr or fr-CA", field="locale")
    return value


def locale_candidates(locale: str) -> list[str]:
    """The locales to look for, most specific first: "fr-CA" → ["fr-CA", "fr", ""]."""
    try:
        value = locale_normalise(locale)
    except TemplateInvalid:
        return [""]
    language = value.partition("-")[0]
    return list(dict.fromkeys([value, language, ""]))


@dataclass(frozen=True)
class TemplateParts:
    subject: str = ""
    body_text: str = ""
    body_html: str = ""
    whatsapp_content_sid: str = ""


def template_check(source: str, *, field: str, kind: str, html: bool) -> None:
    """TemplateInvalid unless `source` compiles in the restricted engine and uses only the
    variables of `kind`."""
    try:
        template = template_compile(source, html=html)
    except TemplateInvalid as exc:
        raise TemplateInvalid(exc.reason, field=field, line=exc.line) from exc
    allowed = [variable.name for variable in kind_variables(kind)]
    unknown = template_unknown_variables(template, allowed)
    if unknown:
        name, line = unknown[0]
        raise TemplateInvalid(
            f"'{name}' is not a variable of this message; use one of: {', '.join(allowed)}",
            field=field,
            line=line,
        )


def template_validate(*, kind: str, channel: str, parts: TemplateParts) -> None:
    """TemplateInvalid (with the field and line) unless every part is a valid template of
    this kind on this channel."""
    if not kind_exists(kind):
        raise TemplateInvalid(f"'{kind}' is not a kind of message", field="kind")
    if channel not in Channel.values:
        raise TemplateInvalid(f"'{channel}' is not a channel", field="channel")
    if channel == Channel.EMAIL:
        if not parts.subject.strip():
            raise TemplateInvalid("An email needs a subject", field="subject")
        if not parts.body_text.strip():
            raise TemplateInvalid("An email needs a plain-text body", field="body_text")
        template_check(parts.subject, field="subject", kind=kind, html=False)
        template_check(parts.body_text, field="body_text", kind=kind, html=False)
        template_check(parts.body_html, field="body_html", kind=kind, html=True)
        return
    if parts.whatsapp_content_sid and channel != Channel.WHATSAPP:
        raise TemplateInvalid("Only WhatsApp uses a content template", field="whatsapp_content_sid")
    if parts.whatsapp_content_sid and not CONTENT_SID_RE.match(parts.whatsapp_content_sid):
        raise TemplateInvalid(
            "A content SID looks like HX followed by 32 hex digits", field="whatsapp_content_sid"
        )
    if not parts.body_text.strip() and not parts.whatsapp_content_sid:
        raise TemplateInvalid("The text needs a body", field="body_text")
    if len(parts.body_text) > SMS_MAX_LENGTH:
        raise TemplateInvalid(f"A text is at most {SMS_MAX_LENGTH} characters", field="body_text")
    template_check(parts.body_text, field="body_text", kind=kind, html=False)


def message_template_save(
    *,
    shop: Shop,
    kind: str,
    channel: str,
    locale: str,
    subject: str,
    body_text: str,
    body_html: str,
    whatsapp_content_sid: str,
    actor: Actor,
) -> MessageTemplate:
    """Save the shop's own wording of a kind on a channel and locale, replacing the previous
    one. Raises TemplateInvalid (a DomainError saying the field, line and error) and saves
    nothing when any part is not a valid template for the kind; StaffPermissionDenied when the
    actor's role may not edit templates."""
    staff_permission_require(actor=actor, shop_id=shop.pk, action=permissions.TEMPLATE_EDIT)
    locale = locale_normalise(locale)
    parts = TemplateParts(
        subject=" ".join(subject.split()) if channel == Channel.EMAIL else "",
        body_text=body_text.strip(),
        body_html=body_html.strip() if channel == Channel.EMAIL else "",
        whatsapp_content_sid=whatsapp_content_sid.strip() if channel == Channel.WHATSAPP else "",
    )
    template_validate(kind=kind, channel=channel, parts=parts)
    with transaction.atomic():
        template, _ = MessageTemplate.objects.update_or_create(
            shop=shop,
            kind=kind,
            channel=channel,
            locale=locale,
            defaults={
                "subject": parts.subject,
                "body_text": parts.body_text,
                "body_html": parts.body_html,
                "whatsapp_content_sid": parts.whatsapp_content_sid,
                "updated_by": actor,
            },
        )
    return template


def message_template_reset(*, template: MessageTemplate, actor: Actor) -> None:
    """Back to the product's default wording: the shop's override is deleted."""
    staff_permission_require(
        actor=actor, shop_id=template.shop_id, action=permissions.TEMPLATE_EDIT
    )
    template.delete()


# --- Reads for the editor, scoped to the shop ------------------------------------------------


def message_templates_for_shop(*, shop: Shop) -> dict[tuple[str, str], list[MessageTemplate]]:
    """The shop's overrides by (kind, channel), each list ordered by locale."""
    overrides: dict[tuple[str, str], list[MessageTemplate]] = {}
    for template in MessageTemplate.objects.filter(shop=shop).order_by("kind", "channel", "locale"):
        overrides.setdefault((template.kind, template.channel), []).append(template)
    return overrides


def message_template_get(
    *, shop: Shop, kind: str, channel: str, locale: str
) -> MessageTemplate | None:
    return MessageTemplate.objects.filter(
        shop=shop, kind=kind, channel=channel, locale=locale
    ).first()


def message_template_lookup(
    *, shop_id: int, kind: str, channel: str, locale: str
) -> list[MessageTemplate]:
    """The shop's templates of this kind and channel that apply to `locale`, most specific
    first ("fr-CA", then "fr", then any locale)."""
    candidates = locale_candidates(locale)
    found = {
        t.locale: t
        for t in MessageTemplate.objects.filter(
            shop_id=shop_id, kind=kind, channel=channel, locale__in=candidates
        )
    }
    return [found[c] for c in candidates if c in found]


# --- The editor's preview --------------------------------------------------------------------


def template_preview_context(*, shop: Shop, kind: str, order: Order | None) -> dict[str, Any]:
    """What a message of `kind` would carry: the values the kind's own preview builder reads
    from the order (and its latest parcel, return, …) where it has them, the documented sample
    values for the rest. Plain values only."""
    found = message_kind(kind)
    context = {variable.name: variable.sample_value() for variable in found.variables}
    context["shop_name"] = shop.name
    if order is None:
        return context
    real: dict[str, Any] = dict(found.preview_context(order)) if found.preview_context else {}
    if order.customer_id:
        real["preferences_url"] = preferences_url(order.customer_id)
    return context | {name: value for name, value in real.items() if name in context}


def template_preview_orders(*, shop: Shop, limit: int = 10) -> list[Order]:
    """The shop's latest orders, to preview a template against."""
    return list(
        Order.objects.filter(shop=shop).select_related("customer").order_by("-placed_at")[:limit]
    )


def template_preview_order(*, shop: Shop, order_id: int | None) -> Order | None:
    """The order to preview with: the one asked for (404 when it is not the shop's), else the
    latest, else None when the shop has no order yet."""
    orders = Order.objects.filter(shop=shop).select_related("shop", "customer")
    if order_id:
        return get_object_or_404(orders, pk=order_id)
    return orders.order_by("-placed_at").first()
