"""The return form: one group of fields per returnable line, then the return method.

Field names carry the line's id (`quantity_<id>`, `reason_<id>`, ...), so the review step can
send every choice back as hidden fields and the confirm step reads them with the same form.
The form checks only what a browser can get wrong (a number, a known choice, a photo that is
a photo); whether the choices make a return is the service's call (`return_quote`)."""

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.photos import (
    PHOTO_ACCEPT,
    PHOTO_ERROR,
    Photo,
    PhotoRejected,
    photo_clean,
)
from returns.models import Resolution, ReturnMethod, ReturnPolicy, ReturnReason, ReturnStatus
from returns.services import (
    ItemChoice,
    ReturnableLine,
    keep_item_limit,
    resolutions_for,
    return_methods_for,
)
from returns.services.eligibility import (
    ALL_RETURNED,
    FINAL_SALE,
    IN_OPEN_RETURN,
    NO_RESOLUTION,
    NOT_DELIVERED,
    WINDOW_CLOSED,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

_SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

# Keyed by the stored values (the choices are str enums): looked up with a model's field.
METHOD_LABELS: dict[str, "StrOrPromise"] = {
    ReturnMethod.DROP_OFF: _("Drop it off at a carrier point"),
    ReturnMethod.PICKUP: _("Have it picked up from your address"),
    ReturnMethod.KEEP_ITEM: _("Keep the item, no need to send it back"),
}
METHOD_INSTRUCTIONS: dict[str, "StrOrPromise"] = {
    ReturnMethod.DROP_OFF: _(
        "Pack the items securely, put the printed return slip inside the parcel and take it to "
        "a carrier drop-off point. Keep the receipt until your return is complete."
    ),
    ReturnMethod.PICKUP: _(
        "Pack the items securely and put the printed return slip inside the parcel. The carrier "
        "will contact you to arrange the pickup from your address."
    ),
    ReturnMethod.KEEP_ITEM: _(
        "You do not need to send anything back. You can keep, donate or recycle the item."
    ),
}
RESOLUTION_LABELS: dict[str, "StrOrPromise"] = {
    Resolution.EXCHANGE: _("Exchange for another size or colour"),
    Resolution.STORE_CREDIT: _("Store credit"),
    Resolution.REFUND: _("Refund to how you paid"),
}
# The service's reasons are plain English for staff; the customer reads these.
BLOCKED_LABELS: dict[str, "StrOrPromise"] = {
    NOT_DELIVERED: _("Not delivered yet."),
    WINDOW_CLOSED: _("The return window for this item has closed."),
    FINAL_SALE: _("Final sale: this item cannot be returned."),
    IN_OPEN_RETURN: _("In an open return."),
    ALL_RETURNED: _("Returned."),
    NO_RESOLUTION: _("No other size or colour is available to exchange this item for."),
}
STATUS_LABELS: dict[str, "StrOrPromise"] = {
    ReturnStatus.REQUESTED: _("Requested"),
    ReturnStatus.APPROVED: _("Approved"),
    ReturnStatus.REJECTED: _("Not accepted"),
    ReturnStatus.IN_TRANSIT: _("On its way back"),
    ReturnStatus.RECEIVED: _("Received by the shop"),
    ReturnStatus.INSPECTED: _("Checked by the shop"),
    ReturnStatus.RESOLVED: _("Completed"),
    ReturnStatus.CANCELLED: _("Cancelled"),
}


def percent_text(value: Decimal) -> str:
    """Decimal('10.00') → '10', Decimal('12.50') → '12.5'."""
    text = f"{value.quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def resolutions_offered(policy: ReturnPolicy, line: ReturnableLine) -> list[tuple[str, str]]:
    """(value, label) of what the policy offers for this line, exchange first; an exchange
    only when another variant is in stock."""
    choices = []
    for resolution in resolutions_for(policy, line.exchange_variants):
        label = str(RESOLUTION_LABELS[resolution])
        bonus = policy.store_credit_bonus_percent
        if resolution == Resolution.STORE_CREDIT and bonus > 0:
            label = gettext("%(label)s (+%(percent)s%% bonus)") % {
                "label": label,
                "percent": percent_text(bonus),
            }
        choices.append((resolution, label))
    return choices


def _quantities(values: Mapping[str, Any], lines: list[ReturnableLine]) -> dict[int, int]:
    """line id → units chosen, from the form's values (cleaned, or carried back from the
    review as text); what is not a number counts as none."""
    chosen = {}
    for entry in lines:
        try:
            chosen[entry.line.pk] = int(values.get(f"quantity_{entry.line.pk}") or 0)
        except (TypeError, ValueError):
            continue
    return chosen


class ReturnForm(forms.Form):
    method = forms.ChoiceField(
        label=_("How will you send the items back?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how you will send the items back.")},
    )
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(
        self,
        *args,
        lines: list[ReturnableLine],
        reasons: list[ReturnReason],
        policy: ReturnPolicy,
        currency: str = "",
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if line.is_returnable]
        self.policy = policy
        self.currency = currency
        self.keep_limit = keep_item_limit(policy)
        # Sent back, the methods are checked against the items chosen in `clean`; shown, they
        # are those that fit the items chosen so far (none yet: any item).
        chosen = {} if self.is_bound else _quantities(self.initial, self.lines)
        self._offer_methods(return_methods_for(policy, self.lines, chosen))
        reason_choices = [("", _("Choose a reason"))] + [(r.code, r.label) for r in reasons]
        for entry in self.lines:
            self._add_line_fields(entry, reason_choices)

    def _add_line_fields(self, entry: ReturnableLine, reason_choices: list) -> None:
        pk = entry.line.pk
        self.fields[f"quantity_{pk}"] = forms.TypedChoiceField(
            label=_("How many to return"),
            choices=[(n, str(n)) for n in range(entry.returnable_quantity + 1)],
            coerce=int,
            required=False,
            empty_value=0,  # type: ignore[arg-type]  # the stubs allow only str; an int is fine
            initial=0,
        )
        self.fields[f"reason_{pk}"] = forms.ChoiceField(
            label=_("Why are you returning it?"), choices=reason_choices, required=False
        )
        self.fields[f"comment_{pk}"] = forms.CharField(
            label=_("Anything to add? (optional)"),
            required=False,
            max_length=1000,
            widget=forms.Textarea(attrs={"rows": 2, "maxlength": 1000}),
        )
        self.fields[f"photo_{pk}"] = forms.FileField(
            label=_("Photo (needed for damaged or defective items)"),
            required=False,
            widget=forms.FileInput(attrs={"accept": PHOTO_ACCEPT}),
            error_messages={"empty": PHOTO_ERROR, "invalid": PHOTO_ERROR, "missing": PHOTO_ERROR},
        )
        offered = resolutions_offered(self.policy, entry)
        self.fields[f"resolution_{pk}"] = forms.ChoiceField(
            label=_("What would you like instead?"),
            choices=offered,
            required=False,
            widget=forms.RadioSelect,
            initial=offered[0][0] if offered else None,
        )
        # Any number is taken here: whether that variant is still in stock is the service's
        # check, which says so in words the customer understands.
        self.fields[f"variant_{pk}"] = forms.IntegerField(
            label=_("Exchange for"),
            required=False,
            widget=forms.Select(
                choices=[(v.pk, v.title or str(v)) for v in entry.exchange_variants]
            ),
        )

    def _offer_methods(self, methods: list[str]) -> None:
        cast(forms.ChoiceField, self.fields["method"]).choices = [
            (method, str(METHOD_LABELS.get(method, method))) for method in methods
        ]
        self.fields["method"].initial = methods[0] if len(methods) == 1 else None

    def _check_method_fits(self, cleaned: dict[str, Any]) -> None:
        fitting = return_methods_for(self.policy, self.lines, _quantities(cleaned, self.lines))
        method = cleaned.get("method")
        if method and method not in fitting:
            limit = f"{floatformat(self.keep_limit or 0, 2)} {self.currency}".strip()
            self.add_error(
                "method",
                forms.ValidationError(
                    _(
                        "Only items worth up to %(limit)s can be kept: choose another way to "
                        "send them back."
                    )
                    % {"limit": limit},
                    code="keep_item",
                ),
            )
        self._offer_methods(fitting)

    def clean_submission_key(self) -> str:
        key = self.cleaned_data["submission_key"]
        if not _SUBMISSION_KEY.match(key):
            raise forms.ValidationError(_("Please reload the page and try again."), code="key")
        return key

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for entry in self.lines:
            name = f"photo_{entry.line.pk}"
            upload = cleaned.get(name)
            if not upload:
                cleaned[name] = None
                continue
            try:
                cleaned[name] = photo_clean(upload)
            except PhotoRejected:
                self.add_error(name, forms.ValidationError(PHOTO_ERROR, code="photo"))
        self._check_method_fits(cleaned)
        return cleaned

    def line_groups(self) -> list[dict]:
        """Each returnable line with its bound fields, for the template."""
        return [
            {
                "entry": entry,
                "quantity": self[f"quantity_{entry.line.pk}"],
                "reason": self[f"reason_{entry.line.pk}"],
                "comment": self[f"comment_{entry.line.pk}"],
                "photo": self[f"photo_{entry.line.pk}"],
                "resolution": self[f"resolution_{entry.line.pk}"],
                "variant": self[f"variant_{entry.line.pk}"],
                "offers_exchange": any(
                    value == Resolution.EXCHANGE
                    for value, _label in resolutions_offered(self.policy, entry)
                ),
            }
            for entry in self.lines
        ]

    def item_choices(self, photos: dict[int, Photo] | None = None) -> list[ItemChoice]:
        """The lines the customer chose (quantity above 0) as the service takes them; a photo
        uploaded now wins over one kept from the review step (`photos`)."""
        photos = photos or {}
        choices = []
        for entry in self.lines:
            pk = entry.line.pk
            quantity = self.cleaned_data.get(f"quantity_{pk}") or 0
            if quantity <= 0:
                continue
            resolution = self.cleaned_data.get(f"resolution_{pk}") or ""
            photo = self.cleaned_data.get(f"photo_{pk}") or photos.get(pk)
            choices.append(
                ItemChoice(
                    line_item_id=pk,
                    quantity=quantity,
                    reason_code=self.cleaned_data.get(f"reason_{pk}") or "",
                    resolution=resolution,
                    comment=(self.cleaned_data.get(f"comment_{pk}") or "").strip(),
                    exchange_variant_id=self.cleaned_data.get(f"variant_{pk}")
                    if resolution == Resolution.EXCHANGE
                    else None,
                    photo=photo.data if photo else None,
                    photo_content_type=photo.content_type if photo else "",
                )
            )
        return choices

    def new_photos(self) -> dict[int, Photo]:
        """line id → the photo uploaded with this submission."""
        return {
            entry.line.pk: self.cleaned_data[f"photo_{entry.line.pk}"]
            for entry in self.lines
            if self.cleaned_data.get(f"photo_{entry.line.pk}")
        }
