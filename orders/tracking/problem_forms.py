"""The "report a problem" form, and the photo it may carry (checked and re-encoded by
`orders.photos.photo_clean`, shared with every customer page that takes a photo)."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import ProblemKind, Shipment
from orders.photos import PHOTO_ACCEPT, PHOTO_ERROR, Photo, PhotoRejected, photo_clean

DESCRIPTION_ERROR = _("Describe what happened in 10 to 2000 characters.")

KIND_CHOICES = [
    (ProblemKind.NOT_RECEIVED, _("My order has not arrived")),
    (ProblemKind.DAMAGED, _("Something arrived damaged")),
    (ProblemKind.WRONG_ITEM, _("I received the wrong item")),
]
_SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class ProblemReportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What happened?"),
        choices=KIND_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what happened.")},
    )
    description = forms.CharField(
        label=_("Tell us more"),
        min_length=10,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": 2000}),
        error_messages={
            "required": DESCRIPTION_ERROR,
            "min_length": DESCRIPTION_ERROR,
            "max_length": DESCRIPTION_ERROR,
        },
        help_text=_("What you received, what is wrong, anything that helps the shop sort it out."),
    )
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        widget=forms.FileInput(attrs={"accept": PHOTO_ACCEPT}),
        error_messages={"empty": PHOTO_ERROR, "invalid": PHOTO_ERROR, "missing": PHOTO_ERROR},
        help_text=_("A JPEG, PNG or WebP photo under 5 MB."),
    )
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, shipments: list[Shipment], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.shipments = {str(shipment.pk): shipment for shipment in shipments}
        # Only a split order makes the customer say which parcel; one parcel is the parcel.
        if len(shipments) > 1:
            self.fields["shipment"] = forms.ChoiceField(
                label=_("Which parcel?"),
                required=False,
                choices=[("", _("Not sure, or all of them"))]
                + [
                    (str(shipment.pk), _parcel_label(number, shipment))
                    for number, shipment in enumerate(shipments, start=1)
                ],
            )

    def clean_photo(self) -> Photo | None:
        upload = self.cleaned_data.get("photo")
        if not upload:
            return None
        try:
            return photo_clean(upload)
        except PhotoRejected:
            raise forms.ValidationError(PHOTO_ERROR, code="photo") from None

    def clean_submission_key(self) -> str:
        key = self.cleaned_data["submission_key"]
        if not _SUBMISSION_KEY.match(key):
            raise forms.ValidationError(_("Please reload the page and try again."), code="key")
        return key

    def clean_shipment(self) -> Shipment | None:
        value = self.cleaned_data.get("shipment")
        return self.shipments.get(value) if value else None


def _parcel_label(number: int, shipment: Shipment) -> str:
    label = _("Parcel %(number)s") % {"number": number}
    details = " ".join(part for part in (shipment.carrier, shipment.tracking_number) if part)
    return f"{label}: {details}" if details else str(label)
