from datetime import date, timedelta

from django import forms

from feedback.numbers.selectors import Period

PRESETS = (30, 90, 365)
DEFAULT_DAYS = 90
# A custom range is capped so the page's one rollup query stays small.
MAX_DAYS = 3 * 366


class NumbersPeriodForm(forms.Form):
    """The range of days shown: a preset ending today, or from/to in the shop's zone (both
    given wins over the preset)."""

    days = forms.TypedChoiceField(
        label="Period",
        coerce=int,
        choices=[(d, f"Last {d} days") for d in PRESETS],
        initial=DEFAULT_DAYS,
        required=False,
    )
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until:
            if since > until:
                self.add_error("until", "Pick a day on or after the first one.")
            elif (until - since).days + 1 > MAX_DAYS:
                self.add_error("since", f"Pick a range of at most {MAX_DAYS} days.")
        return data

    def period(self, today: date) -> Period:
        days = DEFAULT_DAYS
        if self.is_valid():
            since, until = self.cleaned_data.get("since"), self.cleaned_data.get("until")
            if since and until:
                return Period(since, until)
            days = self.cleaned_data.get("days") or DEFAULT_DAYS
        return Period(today - timedelta(days=days - 1), today)
