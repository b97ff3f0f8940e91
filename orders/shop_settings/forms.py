from django import forms
from django.contrib.auth.password_validation import validate_password

from orders.models import StaffRole
from orders.models.tenancy import hex_colour


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


class ShopProfileForm(forms.Form):
    name = forms.CharField(label="Shop name", max_length=200)
    logo_url = forms.URLField(
        label="Logo address",
        required=False,
        assume_scheme="https",
        help_text="An https:// link to the logo on your own site (shown 40 px high).",
    )
    primary_colour = forms.CharField(
        label="Brand colour",
        max_length=7,
        validators=[hex_colour],
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text="Buttons and the page's header use it; text on it stays readable.",
    )
    website_url = forms.URLField(label="Website", required=False, assume_scheme="https")
    support_email = forms.EmailField(label="Support email", required=False)
    support_phone = forms.CharField(label="Support phone", max_length=32, required=False)


class WebhookSecretForm(forms.Form):
    # Never rendered back: a secret typed in is not sent to the browser again.
    secret = forms.CharField(
        label="Webhook secret",
        max_length=255,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
