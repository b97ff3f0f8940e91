from django import forms
from django.utils.translation import gettext_lazy as _

from loyalty.referrals.matching import phone_normalised


class ReferralSignupForm(forms.Form):
    """The friend's email (for their code) and, if they like, their phone."""

    email = forms.EmailField(label=_("Your email"), max_length=254)
    phone = forms.CharField(label=_("Your phone number"), max_length=32, required=False)

    def __init__(self, *args: object, region: str | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.region = region

    def clean_phone(self) -> str:
        phone = self.cleaned_data.get("phone", "").strip()
        if phone and not phone_normalised(phone, region=self.region):
            raise forms.ValidationError(
                _("This does not look like a phone number. Add your country code, e.g. +49.")
            )
        return phone
