from django import forms
from django.utils.translation import gettext_lazy as _


class SurveyCommentForm(forms.Form):
    """The survey's second and last question: why, in the customer's own words."""

    comment = forms.CharField(
        label=_("What is the main reason for your score?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": _("Write a few words, or leave the page: your score is saved.")
        },
    )
