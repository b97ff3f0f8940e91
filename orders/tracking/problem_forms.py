"""The "report a problem" form, and the photo it may carry.

A customer's photo is untrusted bytes: it is decoded only as JPEG, PNG or WebP (whatever its
name or the browser's content type say), refused before decoding when too big in bytes or in
pixels, and stored only as we re-encode it, which drops its metadata (EXIF, GPS position)."""

import io
import re
import warnings
from dataclasses import dataclass

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

from orders.models import ProblemKind, Shipment

PHOTO_MAX_BYTES = 5 * 1024 * 1024
# A decompression-bomb guard far below Pillow's own (~89 megapixels): no phone photo needs more.
PHOTO_MAX_PIXELS = 40_000_000
PHOTO_MAX_SIDE = 2000
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP")
PHOTO_ACCEPT = "image/jpeg,image/png,image/webp"
PHOTO_ERROR = _("Choose a JPEG, PNG or WebP photo under 5 MB.")
DESCRIPTION_ERROR = _("Describe what happened in 10 to 2000 characters.")

KIND_CHOICES = [
    (ProblemKind.NOT_RECEIVED, _("My order has not arrived")),
    (ProblemKind.DAMAGED, _("Something arrived damaged")),
    (ProblemKind.WRONG_ITEM, _("I received the wrong item")),
]
_SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class PhotoRejected(Exception):
    """The upload is not a photo we accept; the customer sees PHOTO_ERROR."""


@dataclass(frozen=True)
class Photo:
    data: bytes
    content_type: str


def _has_alpha(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        return True
    return image.mode == "P" and "transparency" in image.info


def photo_clean(upload: UploadedFile) -> Photo:
    """The upload decoded, downscaled and re-encoded; PhotoRejected when it is not a JPEG, PNG
    or WebP image that decodes completely within the size limits."""
    # The size is known from the upload's headers: refuse before reading a byte of it.
    if upload.size is None or upload.size > PHOTO_MAX_BYTES:
        raise PhotoRejected
    upload.seek(0)
    data = upload.read(PHOTO_MAX_BYTES + 1)
    if not data or len(data) > PHOTO_MAX_BYTES:
        raise PhotoRejected
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # `formats` limits the decoders Pillow tries: a GIF, SVG or PDF is never opened.
            probe = Image.open(io.BytesIO(data), formats=PHOTO_FORMATS)
            width, height = probe.size
            if width * height > PHOTO_MAX_PIXELS:
                raise PhotoRejected
            probe.verify()
            # verify() leaves the image unusable and misses a truncated JPEG: decode it all.
            image = Image.open(io.BytesIO(data), formats=PHOTO_FORMATS)
            image.load()
            return _reencoded(image)
    except PhotoRejected:
        raise
    # Decoders meet hostile input here and fail in many ways (OSError, SyntaxError,
    # struct.error, DecompressionBombError...): any failure means "not a photo we accept".
    except Exception as exc:
        raise PhotoRejected from exc


def _reencoded(image: Image.Image) -> Photo:
    # Phones record rotation in EXIF; apply it before the EXIF is dropped.
    image = ImageOps.exif_transpose(image)
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # Saved without `exif`, `icc_profile` or text chunks: no metadata carries over.
    if _has_alpha(image):
        image.convert("RGBA").save(out, format="PNG", optimize=True)
        return Photo(out.getvalue(), "image/png")
    image.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
    return Photo(out.getvalue(), "image/jpeg")


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
