"""The buyer's review form (one per product of the order) and its photos.

Photos go through `orders.photos.photo_clean`, the check and re-encoding every customer page
uses: decoded only as JPEG, PNG or WebP, refused when too big in bytes or in pixels (a
decompression bomb), stored only as we re-encode them. A form with one bad photo is refused
whole: nothing is saved until every part is right."""

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from feedback.models import Review
from orders.photos import PHOTO_ACCEPT, PHOTO_ERROR, Photo, PhotoRejected, photo_clean

STAR_CHOICES = [
    ("1", _("1 star: poor")),
    ("2", _("2 stars: fair")),
    ("3", _("3 stars: good")),
    ("4", _("4 stars: very good")),
    ("5", _("5 stars: excellent")),
]
BODY_ERROR = _("Write your review (up to 5000 characters).")


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several files in one input; cleaned into a list (empty when none was chosen)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultiplePhotoInput(attrs={"accept": PHOTO_ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ReviewForm(forms.Form):
    rating = forms.ChoiceField(
        label=_("Your rating"),
        choices=STAR_CHOICES,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose from 1 to 5 stars."),
            "invalid_choice": _("Choose from 1 to 5 stars."),
        },
    )
    title = forms.CharField(label=_("Title (optional)"), required=False, max_length=150)
    body = forms.CharField(
        label=_("Your review"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": 5000}),
        error_messages={"required": BODY_ERROR, "max_length": BODY_ERROR},
        help_text=_("What you like, what you do not, how you use it."),
    )
    photos = MultiplePhotoField(
        label=_("Photos (optional)"),
        required=False,
        error_messages={"empty": PHOTO_ERROR, "invalid": PHOTO_ERROR, "missing": PHOTO_ERROR},
    )
    first_name_only = forms.BooleanField(label=_("Show my first name only"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        most = settings.FEEDBACK_REVIEW_PHOTOS_MAX
        self.fields["photos"].help_text = ngettext(
            "Up to %(count)d JPEG, PNG or WebP photo of the product, each under 5 MB.",
            "Up to %(count)d JPEG, PNG or WebP photos of the product, each under 5 MB.",
            most,
        ) % {"count": most}

    def clean_photos(self) -> list[Photo]:
        uploads = self.cleaned_data.get("photos") or []
        most = settings.FEEDBACK_REVIEW_PHOTOS_MAX
        if len(uploads) > most:
            raise forms.ValidationError(
                ngettext(
                    "Choose at most %(count)d photo.", "Choose at most %(count)d photos.", most
                )
                % {"count": most},
                code="too_many",
            )
        photos = []
        for upload in uploads:
            try:
                photos.append(photo_clean(upload))
            except PhotoRejected:
                name = (upload.name or "")[:80]
                raise forms.ValidationError(
                    f"{name}: {PHOTO_ERROR}" if name else PHOTO_ERROR, code="photo"
                ) from None
        return photos

    @classmethod
    def initial_from(cls, review: Review | None) -> dict[str, Any]:
        if review is None:
            return {}
        return {
            "rating": str(review.rating),
            "title": review.title,
            "body": review.body,
            "first_name_only": review.first_name_only,
        }
