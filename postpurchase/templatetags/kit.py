"""The logic behind the UI kit's templates (`templates/components/`): `{% load kit %}`.

Each tag prepares what one component renders; the markup stays in the component. How to use
each is in CONTRIBUTING.md ("How to use the UI kit")."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms, template
from django.core.paginator import Page
from django.utils.safestring import SafeString, mark_safe

from postpurchase import charts, status_tones

register = template.Library()


@dataclass(frozen=True)
class Action:
    label: str
    url: str


@register.simple_tag
def kit_actions(*pairs: str) -> list[Action]:
    """`{% kit_actions "Export" export_url "Import" import_url as secondary %}`: the page
    header's secondary actions, as label, URL, label, URL …"""
    if len(pairs) % 2:
        raise template.TemplateSyntaxError("kit_actions takes label, URL pairs")
    return [Action(label=str(pairs[i]), url=str(pairs[i + 1])) for i in range(0, len(pairs), 2)]


@register.simple_tag
def kit_page_range(page: Page) -> list[int | str]:
    """The page numbers to offer around the current page, with the paginator's ellipsis."""
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))


@register.filter
def status_tone(status: str, kind: str) -> str:
    """`order.status|status_tone:"order"` → "success": the tone its app registered, else
    neutral (`postpurchase.status_tones`)."""
    return status_tones.tone(str(kind), str(status))


@register.simple_tag
def kit_bar_chart(series: Sequence[tuple[str, Any]]) -> charts.BarChart:
    """`{% kit_bar_chart series as chart %}` from (label, value) pairs."""
    return charts.bar_chart(series)


@register.simple_tag
def kit_sparkline(values: Sequence[Any], labels: Sequence[str] = ()) -> charts.Sparkline:
    """`{% kit_sparkline values labels as line %}` (labels, e.g. the days, are optional)."""
    return charts.sparkline(values, labels=labels)


# Form fields ---------------------------------------------------------------------------------


def field_help_id(field: forms.BoundField) -> str:
    return f"{field.auto_id or field.html_name}-help"


def field_error_id(field: forms.BoundField) -> str:
    return f"{field.auto_id or field.html_name}-error"


@register.simple_tag
def kit_widget(field: forms.BoundField, help_text: str = "") -> str:
    """The field's input, told which help text and error describe it (`aria-describedby`) and
    whether it is invalid, so a screen reader reads them with the input."""
    described_by = []
    if help_text or field.help_text:
        described_by.append(field_help_id(field))
    if field.errors:
        described_by.append(field_error_id(field))
    attrs: dict[str, str | bool] = {}
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def help_id(field: forms.BoundField) -> str:
    return field_help_id(field)


@register.filter
def error_id(field: forms.BoundField) -> str:
    return field_error_id(field)


# The filter bar ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterChip:
    label: str  # "Status: Delivered"
    remove_query: str  # the current query without this filter (and back to page 1)


@dataclass(frozen=True)
class FilterBar:
    search: forms.BoundField | None
    fields: tuple[forms.BoundField, ...]
    hidden: tuple[forms.BoundField, ...]
    chips: tuple[FilterChip, ...]
    # htmx: refresh as the person types in a text box (after a pause), or changes a select.
    hx_trigger: str


TYPED_INPUTS = ("text", "search", "email", "tel", "number")


def _shown_value(field: forms.BoundField, raw: str) -> str:
    choices = getattr(field.field, "choices", None)
    if choices is not None and not isinstance(field.field, forms.ModelChoiceField):
        for value, label in choices:
            if str(value) == raw:
                return str(label)
    form = field.form
    cleaned = getattr(form, "cleaned_data", {}).get(field.name) if form.is_bound else None
    if isinstance(field.field, forms.ModelChoiceField) and cleaned is not None:
        return str(cleaned)
    return raw


def _chips(
    form: forms.Form, params: Any, names: Iterable[str], search: str | None
) -> tuple[FilterChip, ...]:
    chips = []
    for name in names:
        raw = params.get(name) if params is not None else None
        if not raw:
            continue
        field = form[name]
        label = field.label or name
        shown = f"“{raw}”" if name == search else _shown_value(field, str(raw))
        remaining = params.copy()
        for dropped in (name, "page"):
            remaining.pop(dropped, None)
        query = remaining.urlencode()
        chips.append(
            FilterChip(label=f"{label}: {shown}", remove_query=f"?{query}" if query else "?")
        )
    return tuple(chips)


@register.simple_tag(takes_context=True)
def kit_filter_bar(context: template.Context, form: forms.Form, search: str = "q") -> FilterBar:
    """What the filter bar shows for a filter form: the search box (the field named `search`),
    the narrowing fields (the form's `narrowing_fields` if it has them, else every other
    visible field), its hidden fields, and a removable chip per filter in use."""
    search_field = form[search] if search in form.fields else None
    narrowing = getattr(form, "narrowing_fields", None)
    if narrowing is not None:
        fields = tuple(narrowing() if callable(narrowing) else narrowing)
    else:
        fields = tuple(f for f in form.visible_fields() if f.name != search)
    hidden = tuple(form.hidden_fields())
    request = context.get("request")
    params = request.GET if request is not None else None
    # Hidden fields get no chip: the page that sets one shows it in its own words (a raw value,
    # such as an id, is not for people).
    names = [f.name for f in (search_field, *fields) if f is not None]
    typed = [f for f in (search_field, *fields) if f is not None and _input_type(f) in TYPED_INPUTS]
    trigger = ", ".join(
        [f"input changed delay:300ms from:#{f.auto_id}" for f in typed] + ["change", "submit"]
    )
    return FilterBar(
        search=search_field,
        fields=fields,
        hidden=hidden,
        chips=_chips(form, params, names, search if search_field else None),
        hx_trigger=trigger,
    )


def _input_type(field: forms.BoundField) -> str:
    return str(getattr(field.field.widget, "input_type", ""))


@register.simple_tag
def kit_required_marker() -> SafeString:
    return mark_safe('<span class="field__required" aria-hidden="true">*</span>')
