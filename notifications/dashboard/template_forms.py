"""The template editor's form: the shop's wording of one kind on one channel and locale."""

from django import forms

from orders.models import Channel


class MessageTemplateForm(forms.Form):
    locale = forms.CharField(
        label="Locale",
        required=False,
        max_length=16,
        help_text="Blank: every customer without a more specific template. E.g. fr or fr-CA.",
    )
    subject = forms.CharField(label="Subject", required=False, max_length=255)
    body_text = forms.CharField(
        label="Text", required=False, strip=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    body_html = forms.CharField(
        label="HTML",
        required=False,
        strip=False,
        help_text="The content of the branded email layout (header and footer are added).",
        widget=forms.Textarea(attrs={"rows": 12}),
    )
    whatsapp_content_sid = forms.CharField(
        label="Approved content template SID",
        required=False,
        max_length=64,
        help_text="Twilio's HX… SID of the template WhatsApp approved for this message, sent "
        "when the customer has not written to you in the last 24 hours.",
    )
    order = forms.IntegerField(label="Preview with order", required=False, min_value=1)

    def __init__(self, *args, channel: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.channel = channel
        if channel == Channel.EMAIL:
            del self.fields["whatsapp_content_sid"]
            return
        del self.fields["subject"], self.fields["body_html"]
        self.fields["body_text"].label = "Message"
        if channel != Channel.WHATSAPP:
            del self.fields["whatsapp_content_sid"]

    def value(self, name: str) -> str:
        """A cleaned text field, "" for a field this channel does not have."""
        return str(self.cleaned_data.get(name) or "") if name in self.fields else ""
