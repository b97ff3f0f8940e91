from datetime import timedelta
from typing import Any, cast

from django import forms

from notifications.engine.kinds import flow_delay_meaning
from notifications.models import Flow, MessageStatus
from orders.models import Channel
from postpurchase.message_kinds import kind_label

_SEARCH = {"type": "search"}
_DATE = forms.DateInput(attrs={"type": "date"})


class _FilterForm(forms.Form):
    """A list page's filters, read from the query string: a bad field is reported and ignored,
    the others still apply."""

    def filters(self) -> dict[str, Any]:
        self.is_valid()
        return {name: self.cleaned_data.get(name) for name in self.fields}

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.fields)


class MessageFilterForm(_FilterForm):
    q = forms.CharField(
        label="Customer",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={**_SEARCH, "placeholder": "Email, phone or name"}),
    )
    kind = forms.ChoiceField(label="Kind", required=False)
    channel = forms.ChoiceField(
        label="Channel", required=False, choices=[("", "Any channel"), *Channel.choices]
    )
    state = forms.ChoiceField(
        label="State", required=False, choices=[("", "Any state"), *MessageStatus.choices]
    )
    order = forms.CharField(
        label="Order",
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={**_SEARCH, "placeholder": "#1001"}),
    )
    created_from = forms.DateField(label="Scheduled from", required=False, widget=_DATE)
    created_to = forms.DateField(label="Scheduled to", required=False, widget=_DATE)
    # Set by the customer timeline's "all messages" link; shown as a removable chip.
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A kind with messages but no flow (a flow retired, or a link from the rates table)
        # is still a valid filter: it only matches fewer rows.
        asked = (self.data.get("kind") or "").strip()[:64]
        known = sorted({*kinds, asked} - {""})
        kind = cast(forms.ChoiceField, self.fields["kind"])
        kind.choices = [("", "Any kind"), *((k, kind_label(k)) for k in known)]

    @property
    def narrowing_fields(self) -> list[forms.BoundField]:
        """The fields shown after the search box, in the order the page lays them out."""
        names = ("kind", "channel", "state", "order", "created_from", "created_to")
        return [self[name] for name in names]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> dict[str, Any]:
        values = super().filters()
        return {
            "query": values["q"] or "",
            "kind": values["kind"] or "",
            "channel": values["channel"] or "",
            "state": values["state"] or "",
            "order": values["order"] or "",
            "customer_id": values["customer"],
            "created_from": values["created_from"],
            "created_to": values["created_to"],
        }


class SearchForm(_FilterForm):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={**_SEARCH, "placeholder": "Email, phone or name"}),
    )


class SuppressionFilterForm(_FilterForm):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={**_SEARCH, "placeholder": "Address or detail"}),
    )
    channel = forms.ChoiceField(
        label="Channel", required=False, choices=[("", "Any channel"), *Channel.choices]
    )


class SuppressionAddForm(forms.Form):
    """Shown on the page beside the list's filter, which has a channel field too: its ids
    (`id_add_channel`) keep the two apart."""

    channel = forms.ChoiceField(label="Channel", choices=Channel.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its page also has the filter's channel: ids of their own keep each label on its field.
        kwargs.setdefault("auto_id", "id_add_%s")
        super().__init__(*args, **kwargs)

    address = forms.CharField(
        label="Email or phone",
        max_length=255,
        help_text="An email address, or a phone number in international form (+14155550123).",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class MessageSettleForm(forms.Form):
    """What staff found out about a message held for review, and how."""

    outcome = forms.ChoiceField(
        label="What happened",
        widget=forms.RadioSelect,
        choices=[
            (MessageStatus.SENT, "It went out: the customer has it (mark it sent)"),
            (MessageStatus.FAILED, "It did not go out (mark it failed; it can then be retried)"),
        ],
    )
    note = forms.CharField(
        label="How you know",
        max_length=400,
        help_text="For the message's history, e.g. “in the provider's log as delivered”.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class _UNITS:
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    choices = [(MINUTES, "minutes"), (HOURS, "hours"), (DAYS, "days")]
    size = {MINUTES: timedelta(minutes=1), HOURS: timedelta(hours=1), DAYS: timedelta(days=1)}


def _split(duration: timedelta | None) -> tuple[int | None, str]:
    """A duration as the form shows it, in the largest unit that keeps it whole."""
    if duration is None:
        return None, _UNITS.HOURS
    if not duration:
        return 0, _UNITS.HOURS
    for unit in (_UNITS.DAYS, _UNITS.HOURS):
        if duration % _UNITS.size[unit] == timedelta(0):
            return duration // _UNITS.size[unit], unit
    if duration % _UNITS.size[_UNITS.MINUTES] == timedelta(0):
        return duration // _UNITS.size[_UNITS.MINUTES], _UNITS.MINUTES
    # Seconds are never entered here; round up so a short delay never shows as none.
    return duration // _UNITS.size[_UNITS.MINUTES] + 1, _UNITS.MINUTES


def _join(amount: int, unit: str) -> timedelta:
    return amount * _UNITS.size[unit]


class FlowForm(forms.Form):
    is_enabled = forms.BooleanField(label="On", required=False)
    channels = forms.MultipleChoiceField(
        label="Channels",
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tried in this order; each is used when the customer can receive it there.",
        error_messages={"required": "Choose at least one channel, or turn the flow off."},
    )
    delay_amount = forms.IntegerField(
        label="Delay",
        min_value=0,
        max_value=525_600,
        help_text="How long after the event the message goes out (0: at once).",
    )
    delay_unit = forms.ChoiceField(label="Delay unit", choices=_UNITS.choices)
    useful_amount = forms.IntegerField(
        label="Useful for",
        min_value=1,
        max_value=525_600,
        required=False,
        help_text="Past this after it was due, the message is cancelled instead of sent late. "
        "Empty: no limit.",
    )
    useful_unit = forms.ChoiceField(label="Useful for unit", choices=_UNITS.choices)

    @classmethod
    def for_flow(cls, flow: Flow) -> "FlowForm":
        delay, delay_unit = _split(flow.delay)
        useful, useful_unit = _split(flow.useful_for)
        form = cls(
            initial={
                "is_enabled": flow.is_enabled,
                "channels": list(flow.channels),
                "delay_amount": delay,
                "delay_unit": delay_unit,
                "useful_amount": useful,
                "useful_unit": useful_unit,
            }
        )
        form.explain_delay(flow)
        return form

    def explain_delay(self, flow: Flow) -> None:
        self.fields["delay_amount"].help_text = flow_delay_meaning(flow.kind)

    def changes(self) -> dict[str, Any]:
        """The cleaned form as `flow_update`'s arguments."""
        data = self.cleaned_data
        useful = data.get("useful_amount")
        return {
            "is_enabled": data["is_enabled"],
            "channels": list(data["channels"]),
            "delay": _join(data["delay_amount"], data["delay_unit"]),
            "useful_for": None if useful is None else _join(useful, data["useful_unit"]),
        }
