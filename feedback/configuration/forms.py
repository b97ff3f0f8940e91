"""The feedback settings' forms: each field's error is said next to it, and a form that does
not validate saves nothing."""

from collections.abc import Iterable
from datetime import date, time, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from feedback.configuration.selectors import SurveyChoices
from feedback.configuration.services import (
    BUDGET_DAYS_RANGE,
    MAX_HOLIDAYS,
    MAX_SURVEY_DELAY,
    MAX_TARGET_HOURS,
    WEEKDAYS,
    CasePolicyChoices,
)
from feedback.models import CasePolicy, CasePriority, IncentiveKind, SurveyKind

DELAY_UNITS = [("days", _("days")), ("hours", _("hours"))]
_UNIT = {"days": timedelta(days=1), "hours": timedelta(hours=1)}
WEEKDAY_NAMES = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)


class SurveySettingsForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the survey asks"),
        choices=SurveyKind.choices,
        widget=forms.RadioSelect,
        help_text=_("One question, answered in one tap; the customer may then say why."),
    )
    delay_amount = forms.IntegerField(
        label=_("Sent after delivery"),
        min_value=0,
        help_text=_("How long after the order is delivered the survey goes out (at most 60 days)."),
    )
    delay_unit = forms.ChoiceField(label=_("Unit"), choices=DELAY_UNITS)
    budget_days = forms.IntegerField(
        label=_("At most one survey per customer every (days)"),
        min_value=BUDGET_DAYS_RANGE[0],
        max_value=BUDGET_DAYS_RANGE[1],
        help_text=_("None goes out while a return or a follow-up case is open either."),
    )
    incentive_kind = forms.ChoiceField(
        label=_("Offer for writing a review"),
        choices=IncentiveKind.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Offered for every review, whatever its rating, and marked on each one: an offer "
            "for good reviews only is against the FTC rule."
        ),
    )
    incentive_discount_text = forms.CharField(
        label=_("Discount given"),
        required=False,
        max_length=200,
        help_text=_("For example: THANKS10 for ten percent off the next order."),
    )
    incentive_points = forms.IntegerField(
        label=_("Loyalty points given"), required=False, min_value=0, max_value=1_000_000
    )

    @classmethod
    def initial_from(cls, choices: SurveyChoices) -> dict[str, Any]:
        hours = choices.delay / timedelta(hours=1)
        whole_days = hours % 24 == 0
        return {
            "kind": choices.kind,
            "delay_amount": int(hours // 24) if whole_days else int(hours),
            "delay_unit": "days" if whole_days else "hours",
            "budget_days": choices.budget_days,
            "incentive_kind": choices.incentive_kind,
            "incentive_discount_text": choices.incentive_discount_text,
            "incentive_points": choices.incentive_points or None,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        amount, unit = data.get("delay_amount"), data.get("delay_unit")
        if amount is not None and unit in _UNIT and amount * _UNIT[unit] > MAX_SURVEY_DELAY:
            self.add_error("delay_amount", _("At most 60 days after delivery."))
        kind = data.get("incentive_kind")
        if (
            kind == IncentiveKind.DISCOUNT
            and not (data.get("incentive_discount_text") or "").strip()
        ):
            self.add_error("incentive_discount_text", _("Say what the discount is."))
        if kind == IncentiveKind.POINTS and not data.get("incentive_points"):
            self.add_error("incentive_points", _("Give a number of points above zero."))
        return data

    def choices(self) -> SurveyChoices:
        data = self.cleaned_data
        kind = data["incentive_kind"]
        return SurveyChoices(
            kind=data["kind"],
            budget_days=data["budget_days"],
            delay=data["delay_amount"] * _UNIT[data["delay_unit"]],
            incentive_kind=kind,
            incentive_discount_text=(
                data.get("incentive_discount_text") or "" if kind == IncentiveKind.DISCOUNT else ""
            ),
            incentive_points=(data.get("incentive_points") or 0)
            if kind == IncentiveKind.POINTS
            else 0,
        )


def _holidays_parse(text: str) -> tuple[list[date], list[str]]:
    """Dates one per line (or separated by commas), as YYYY-MM-DD: the dates, and the entries
    that are not dates."""
    found: list[date] = []
    bad: list[str] = []
    for entry in text.replace(",", "\n").splitlines():
        entry = entry.strip()
        if not entry:
            continue
        try:
            found.append(date.fromisoformat(entry))
        except ValueError:
            bad.append(entry)
    return found, bad


def _holiday_dates(holidays: Iterable[date]) -> str:
    return "\n".join(d.isoformat() for d in sorted(holidays))


def _target_field(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=1,
        max_value=MAX_TARGET_HOURS,
        max_digits=6,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
    )


def _time_field(label: str) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        required=False,
        input_formats=["%H:%M", "%H:%M:%S"],
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
        error_messages={"invalid": _("Enter a time of day from 00:00 to 23:59.")},
    )


class CasePolicyForm(forms.Form):
    """Targets per priority (business hours), opening hours per weekday, holidays."""

    holidays = forms.CharField(
        label=_("Holidays"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One date a line, as 2026-12-25: the SLA clock does not run on these days."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for priority in CasePriority:
            self.fields[f"{priority.value}_first_response"] = _target_field(
                _("%(priority)s: first response within (hours)") % {"priority": priority.label}
            )
            self.fields[f"{priority.value}_resolution"] = _target_field(
                _("%(priority)s: resolved within (hours)") % {"priority": priority.label}
            )
        for day in WEEKDAYS:
            name = WEEKDAY_NAMES[day]
            self.fields[f"day{day}_open"] = forms.BooleanField(
                label=_("%(day)s: open") % {"day": name}, required=False
            )
            self.fields[f"day{day}_opens"] = _time_field(_("%(day)s opens at") % {"day": name})
            self.fields[f"day{day}_closes"] = _time_field(_("%(day)s closes at") % {"day": name})

    @classmethod
    def initial_from(cls, policy: CasePolicy) -> dict[str, Any]:
        initial: dict[str, Any] = {"holidays": _holiday_dates(policy.holidays)}
        for priority in CasePriority:
            for which in ("first_response", "resolution"):
                initial[f"{priority.value}_{which}"] = policy.target(priority, which) / timedelta(
                    hours=1
                )
        for day in WEEKDAYS:
            span = policy.business_hours.get(str(day))
            initial[f"day{day}_open"] = bool(span)
            initial[f"day{day}_opens"] = span[0] if span else "09:00"
            initial[f"day{day}_closes"] = span[1] if span else "17:00"
        return initial

    def targets(self) -> list[dict[str, Any]]:
        """The targets' fields, a row per priority, for the template."""
        return [
            {
                "priority": priority.label,
                "first_response": self[f"{priority.value}_first_response"],
                "resolution": self[f"{priority.value}_resolution"],
            }
            for priority in CasePriority
        ]

    def days(self) -> list[dict[str, Any]]:
        """The opening hours' fields, a row per weekday, for the template."""
        return [
            {
                "name": WEEKDAY_NAMES[day],
                "open": self[f"day{day}_open"],
                "opens": self[f"day{day}_opens"],
                "closes": self[f"day{day}_closes"],
            }
            for day in WEEKDAYS
        ]

    def clean_holidays(self) -> list:
        dates, bad = _holidays_parse(self.cleaned_data.get("holidays") or "")
        if bad:
            raise forms.ValidationError(
                _("Not a date: %(entries)s. Write each as 2026-12-25.")
                % {"entries": ", ".join(bad[:3])}
            )
        if len(set(dates)) > MAX_HOLIDAYS:
            raise forms.ValidationError(_("At most 100 holidays."))
        return sorted(set(dates))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for priority in CasePriority:
            first = data.get(f"{priority.value}_first_response")
            resolution = data.get(f"{priority.value}_resolution")
            if first is not None and resolution is not None and resolution < first:
                self.add_error(
                    f"{priority.value}_resolution",
                    _("Resolution cannot come before the first response (%(hours)s hours).")
                    % {"hours": f"{first:g}"},
                )
        for day in WEEKDAYS:
            if not data.get(f"day{day}_open"):
                continue
            opens, closes = data.get(f"day{day}_opens"), data.get(f"day{day}_closes")
            if f"day{day}_opens" in self.errors or f"day{day}_closes" in self.errors:
                continue
            if opens is None or closes is None:
                self.add_error(f"day{day}_closes", _("Give the opening and closing times."))
            elif closes <= opens:
                self.add_error(f"day{day}_closes", _("Closing time must be after opening time."))
        return data

    def choices(self) -> CasePolicyChoices:
        data = self.cleaned_data
        hours: dict[int, tuple[time, time]] = {
            day: (data[f"day{day}_opens"], data[f"day{day}_closes"])
            for day in WEEKDAYS
            if data.get(f"day{day}_open")
        }
        return CasePolicyChoices(
            targets={
                p.value: (
                    float(data[f"{p.value}_first_response"]),
                    float(data[f"{p.value}_resolution"]),
                )
                for p in CasePriority
            },
            hours=hours,
            holidays=tuple(data["holidays"]),
        )
