from typing import Any

from django import forms

from feedback.models import IncentiveKind, ReviewIncentive, ReviewRule, ReviewStatus

RATING_CHOICES = [("", "Any rating")] + [(str(n), f"{n}★") for n in range(1, 6)]


class ReviewFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    status = forms.ChoiceField(
        label="State", required=False, choices=[("", "Any state"), *ReviewStatus.choices]
    )
    rating = forms.ChoiceField(label="Rating", required=False, choices=RATING_CHOICES)
    rule = forms.ChoiceField(
        label="Rule", required=False, choices=[("", "Any rule"), *ReviewRule.choices]
    )

    @property
    def narrowing_fields(self) -> list[forms.BoundField]:
        # The state is the queue's tabs, kept across searches, not a filter beside them.
        return [self["rating"], self["rule"]]

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in ("q", "rating", "rule"))

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "status": data["status"],
            "rating": int(data["rating"]) if data["rating"] else None,
            "rule": data["rule"],
            "query": data["q"].strip(),
        }


class RejectForm(forms.Form):
    rule = forms.ChoiceField(label="The content rule it breaks", choices=ReviewRule.choices)
    note = forms.CharField(label="Note (staff only)", required=False, max_length=500)


class PublishForm(forms.Form):
    note = forms.CharField(label="Note (staff only)", required=False, max_length=500)


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Public reply",
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 3000}),
        help_text="Shown under the review on your storefront, signed with the shop's name.",
    )


class PhotoFlagForm(forms.Form):
    photo = forms.IntegerField(widget=forms.HiddenInput)


class IncentiveForm(forms.ModelForm):
    class Meta:
        model = ReviewIncentive
        fields = ["kind", "discount_text", "points"]
        labels = {
            "kind": "Offer for writing a review",
            "discount_text": "Discount given",
            "points": "Loyalty points given",
        }
        help_texts = {
            "kind": "Offered for every review, whatever its rating, and shown on each one.",
        }
        widgets = {"kind": forms.RadioSelect}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == IncentiveKind.DISCOUNT and not (data.get("discount_text") or "").strip():
            self.add_error("discount_text", "Say what the discount is.")
        if kind == IncentiveKind.POINTS and not data.get("points"):
            self.add_error("points", "Give a number of points above zero.")
        return data
