"""The lookup form, and how what a customer types is read: order numbers with or without '#'
in any case, postcodes with or without spaces."""

from django import forms
from django.utils.translation import gettext_lazy as _


def order_number_normalise(raw: str) -> str:
    """'  #ab-1001 ' → 'AB-1001': the number as the lookup compares it."""
    return raw.strip().lstrip("#").strip().upper()


def postcode_normalise(raw: str) -> str:
    """'sw1a 1aa' → 'SW1A1AA'."""
    return "".join(raw.split()).upper()


class TrackingLookupForm(forms.Form):
    number = forms.CharField(
        label=_("Order number"),
        max_length=64,
        help_text=_("It is in your order confirmation, for example #1001."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "aria-describedby": "id_number_help",
            }
        ),
    )
    contact = forms.CharField(
        label=_("Email or postcode of the shipping address"),
        max_length=254,
        help_text=_("The email address you ordered with, or the postcode the order goes to."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "email",
                "autocapitalize": "none",
                "spellcheck": "false",
                "aria-describedby": "id_contact_help",
            }
        ),
    )
