"""The case pages' forms: the queue's filters and each action's input."""

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from feedback.cases.selectors import SLA_FILTERS
from feedback.models import CasePriority, CaseSource, CaseStatus, ResolutionKind, ThreadChannel

_SEARCH = {"type": "search", "autocomplete": "off"}


class CaseFilterForm(forms.Form):
    """Read from the query string: a bad value is ignored, the other filters still apply."""

    q = forms.CharField(
        label="Customer or order",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={**_SEARCH, "placeholder": "ada@example.org, Ada or #1001"}),
    )
    sla = forms.ChoiceField(label="SLA", required=False, choices=[("", "Any"), *SLA_FILTERS])
    assignee = forms.ChoiceField(label="Assignee", required=False)
    source = forms.ChoiceField(
        label="Source", required=False, choices=[("", "Any"), *CaseSource.choices]
    )
    priority = forms.ChoiceField(
        label="Priority", required=False, choices=[("", "Any"), *CasePriority.choices]
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Open and waiting"), *CaseStatus.choices, ("all", "Any status")],
    )

    def __init__(self, *args: Any, staff: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = [(str(u.pk), u.get_full_name() or u.get_username()) for u in staff]
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", "Anyone"),
            ("mine", "Mine"),
            ("unassigned", "Unassigned"),
            *people,
        ]

    @property
    def narrowing_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("sla", "assignee", "source", "priority", "status")]

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.fields)

    def filters(self) -> dict[str, str]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            name: data.get(name) or ""
            for name in ("q", "sla", "assignee", "source", "priority", "status")
            if name not in self.errors
        }


class ReplyForm(forms.Form):
    channel = forms.ChoiceField(
        label="Send by",
        choices=[(c.value, c.label) for c in ThreadChannel if c != ThreadChannel.NOTE],
    )
    body = forms.CharField(label="Reply", widget=forms.Textarea(attrs={"rows": 5}), max_length=5000)
    wait_for_customer = forms.BooleanField(
        label="Wait for the customer's answer (pauses the clock)", required=False, initial=True
    )


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Internal note", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label="Assignee", required=False)

    def __init__(self, *args: Any, staff: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.staff = {str(u.pk): u for u in staff}
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", "Nobody"),
            *((pk, u.get_full_name() or u.get_username()) for pk, u in self.staff.items()),
        ]

    def chosen(self) -> Any:
        return self.staff.get(self.cleaned_data.get("assignee") or "")


class ResolveForm(forms.Form):
    kind = forms.ChoiceField(label="Resolution", choices=ResolutionKind.choices)
    amount = forms.DecimalField(
        label="Amount (refund or store credit)",
        required=False,
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
    )
    note = forms.CharField(
        label="Note", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class OpenCaseForm(forms.Form):
    """A case staff open themselves from an order's page (a call, a chat, a hunch)."""

    summary = forms.CharField(
        label=_("Summary"),
        max_length=200,
        help_text=_("What it is about, in a few words: shown in the queue."),
        error_messages={"required": _("Say in a few words what the case is about.")},
    )
    priority = forms.ChoiceField(
        label=_("Priority"),
        choices=CasePriority.choices,
        initial=CasePriority.NORMAL,
        help_text=_("Sets how soon it must be answered and resolved (the case policy)."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What the customer said or what happened; staff only."),
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)

    def __init__(self, *args: Any, staff: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.staff = {str(u.pk): u for u in staff}
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", _("Nobody yet")),
            *((pk, u.get_full_name() or u.get_username()) for pk, u in self.staff.items()),
        ]

    def chosen_assignee(self) -> Any:
        return self.staff.get(self.cleaned_data.get("assignee") or "")
