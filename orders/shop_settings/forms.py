from django import forms
from django.contrib.auth.password_validation import validate_password

from orders.models import StaffRole


class StaffInviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(label="Role", choices=StaffRole.choices, initial=StaffRole.AGENT)


class StaffRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=StaffRole.choices)


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What the key is for, e.g. “Warehouse system”.",
    )


class InvitationPasswordForm(forms.Form):
    """A new account's password, for an invitee who has none yet."""

    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput, strip=False)

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            try:
                validate_password(first)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class SenderIdentityForm(forms.Form):
    from_name = forms.CharField(
        label="From name",
        max_length=100,
        required=False,
        help_text="Blank: the shop's name.",
    )
    from_address = forms.EmailField(
        label="From address",
        required=False,
        help_text=(
            "Blank: the platform's address. Its domain must be verified with the email "
            "provider, or providers refuse or junk the mail."
        ),
    )
    reply_to = forms.EmailField(
        label="Reply-to address",
        required=False,
        help_text="Where customers' replies go. Blank: the support email.",
    )
