"""Forms of the returns dashboard: the queue's filters, bulk and single actions, inspection,
the policy editor (window, policy, reasons) and the report's period."""

from typing import Any, cast

from django import forms
from django.db.models import Max
from django.utils.text import slugify

from orders.models import Product, Shop, Variant
from returns.dashboard.reports import DEFAULT_PERIOD, PERIODS
from returns.models import (
    ItemCondition,
    Resolution,
    ReturnItem,
    ReturnMethod,
    ReturnPolicy,
    ReturnReason,
    ReturnStatus,
)

_SEARCH = {"type": "search"}
_DATE = forms.DateInput(attrs={"type": "date"})
BULK_LIMIT = 100
MAX_REASON_POSITION = 999


class ReturnFilterForm(forms.Form):
    """The queue's filters, read from the query string: a bad field is ignored, the others
    still apply."""

    q = forms.CharField(
        label="RMA or order",
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={**_SEARCH, "placeholder": "R1001-AB12 or #1001"}),
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *ReturnStatus.choices]
    )
    reason = forms.ModelChoiceField(
        label="Reason", required=False, queryset=ReturnReason.objects.none(), empty_label="Any"
    )
    product = forms.ModelChoiceField(
        label="Product", required=False, queryset=Product.objects.none(), empty_label="Any"
    )
    resolution = forms.ChoiceField(
        label="Resolution", required=False, choices=[("", "Any"), *Resolution.choices]
    )
    created_from = forms.DateField(label="Filed from", required=False, widget=_DATE)
    created_to = forms.DateField(label="Filed to", required=False, widget=_DATE)

    def __init__(self, *args: Any, reasons, products, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["reason"]).queryset = reasons
        cast(forms.ModelChoiceField, self.fields["product"]).queryset = products

    @property
    def narrowing_fields(self) -> list[forms.BoundField]:
        names = ("reason", "product", "resolution", "created_from", "created_to")
        return [self[name] for name in names]

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.fields)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> dict[str, Any]:
        self.is_valid()
        data = self.cleaned_data
        reason, product = data.get("reason"), data.get("product")
        return {
            "query": data.get("q") or "",
            "reason_id": reason.pk if reason else None,
            "product_id": product.pk if product else None,
            "resolution": data.get("resolution") or "",
            "created_from": data.get("created_from"),
            "created_to": data.get("created_to"),
        }


class BulkActionForm(forms.Form):
    action = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=True)
    reason = forms.CharField(required=False, max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any ids are accepted here; the view only ever loads the shop's own.
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        cast(forms.ChoiceField, self.fields["ids"]).choices = [
            (v, v) for v in raw[:BULK_LIMIT] if str(v).isdigit()
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("action") == "reject" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "Say why these returns are rejected: customers read it.")
        return cleaned


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the customer", max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class InspectForm(forms.Form):
    """One condition, restock flag and note per item of the return."""

    def __init__(self, *args: Any, items: list[ReturnItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"condition-{item.pk}"] = forms.ChoiceField(
                label="Condition", choices=[("", "Choose…"), *ItemCondition.choices]
            )
            self.fields[f"restock-{item.pk}"] = forms.BooleanField(
                label="Restock", required=False, initial=True
            )
            self.fields[f"note-{item.pk}"] = forms.CharField(
                label="Note", required=False, max_length=500
            )

    def rows(self) -> list[tuple[ReturnItem, forms.BoundField, forms.BoundField, Any]]:
        return [
            (
                item,
                self[f"condition-{item.pk}"],
                self[f"restock-{item.pk}"],
                self[f"note-{item.pk}"],
            )
            for item in self.items
        ]

    def inspections(self) -> dict[int, tuple[str, bool, str]]:
        data = self.cleaned_data
        return {
            item.pk: (
                data[f"condition-{item.pk}"],
                data[f"restock-{item.pk}"],
                data[f"note-{item.pk}"],
            )
            for item in self.items
        }


class ReturnWindowForm(forms.ModelForm):
    class Meta:
        model = Shop
        fields = ["return_window_days"]
        labels = {"return_window_days": "Return window (days after delivery)"}

    def clean_return_window_days(self) -> int:
        days = self.cleaned_data["return_window_days"]
        if not 1 <= days <= 365:
            raise forms.ValidationError("Choose between 1 and 365 days.")
        return days


class _VariantChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Variant) -> str:
        return f"{obj.product.title} — {obj.title or obj.sku or obj.pk}"


class ReturnPolicyForm(forms.ModelForm):
    methods = forms.MultipleChoiceField(
        label="Return methods offered",
        choices=ReturnMethod.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    auto_approve_reasons = forms.MultipleChoiceField(
        label="Approve at once only for these reasons (none ticked: any reason)",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ReturnPolicy
        fields = [
            "non_returnable_products",
            "non_returnable_variants",
            "offers_exchange",
            "offers_store_credit",
            "store_credit_bonus_percent",
            "offers_refund",
            "methods",
            "keep_item_max_value",
            "auto_approve",
            "auto_approve_max_total",
            "auto_approve_reasons",
            "return_address",
            "instructions",
        ]
        field_classes = {"non_returnable_variants": _VariantChoice}
        labels = {
            "non_returnable_products": "Products that cannot be returned (final sale, hygiene)",
            "non_returnable_variants": "Variants that cannot be returned",
            "offers_exchange": "Offer an exchange for another variant",
            "offers_store_credit": "Offer store credit",
            "store_credit_bonus_percent": "Store credit bonus (%)",
            "offers_refund": "Offer a refund to the original payment",
            "keep_item_max_value": "Customers may keep items worth at most (0: never)",
            "auto_approve": "Approve returns at once when the rules below allow",
            "auto_approve_max_total": "…and the return is worth at most (empty: any value)",
        }
        widgets = {
            "non_returnable_products": forms.SelectMultiple(attrs={"size": 8}),
            "non_returnable_variants": forms.SelectMultiple(attrs={"size": 8}),
            "return_address": forms.Textarea(attrs={"rows": 4}),
            "instructions": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, shop: Shop, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["non_returnable_products"]
        ).queryset = Product.objects.filter(shop=shop).order_by("title", "pk")
        cast(forms.ModelChoiceField, self.fields["non_returnable_variants"]).queryset = (
            Variant.objects.filter(shop=shop)
            .select_related("product")
            .order_by("product__title", "title", "pk")
        )
        cast(forms.ChoiceField, self.fields["auto_approve_reasons"]).choices = list(
            ReturnReason.objects.filter(shop=shop)
            .order_by("position", "pk")
            .values_list("code", "label")
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        offers = ("offers_exchange", "offers_store_credit", "offers_refund")
        if not any(cleaned.get(name) for name in offers):
            raise forms.ValidationError("Offer at least one resolution.")
        return cleaned


class ReturnReasonForm(forms.ModelForm):
    class Meta:
        model = ReturnReason
        fields = ["label", "is_shop_fault", "requires_photo", "fee", "is_active", "position"]
        labels = {
            "is_shop_fault": "Shop's fault",
            "requires_photo": "Photo required",
            "fee": "Return fee",
            "is_active": "Offered",
            "position": "Order",
        }
        widgets = {"position": forms.NumberInput(attrs={"min": 0, "max": MAX_REASON_POSITION})}

    def has_changed(self) -> bool:
        # The blank row for a new reason counts only once it has a label, so ticking or
        # unticking its boxes alone does not make the whole editor refuse to save.
        if self.instance.pk is None:
            return bool((self.data.get(self.add_prefix("label")) or "").strip())
        return super().has_changed()


class _ReasonFormSet(forms.BaseModelFormSet):
    def __init__(self, *args: Any, shop: Shop, **kwargs: Any) -> None:
        self.shop = shop
        reasons = ReturnReason.objects.filter(shop=shop)
        kwargs.setdefault("queryset", reasons)
        # The blank row proposes the place after every existing reason: a reason added without
        # touching its "Order" belongs at the end of the drop-down, not among the first.
        last = reasons.aggregate(last=Max("position"))["last"]
        next_position = 0 if last is None else min(last + 1, MAX_REASON_POSITION)
        kwargs.setdefault("initial", [{"position": next_position}])
        super().__init__(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        labels = [
            form.cleaned_data["label"].strip().lower()
            for form in self.forms
            if getattr(form, "cleaned_data", {}).get("label")
        ]
        if len(labels) != len(set(labels)):
            raise forms.ValidationError("Two reasons have the same label.")

    def save_new(self, form: forms.ModelForm, commit: bool = True) -> ReturnReason:
        # A new reason gets the shop and a code that is unique within it (the portal and the
        # auto-approval rules refer to reasons by code).
        reason = form.save(commit=False)
        reason.shop = self.shop
        base = slugify(reason.label)[:32] or "reason"
        taken = set(ReturnReason.objects.filter(shop=self.shop).values_list("code", flat=True))
        code, n = base, 2
        while code in taken:
            code, n = f"{base}-{n}", n + 1
        reason.code = code
        if commit:
            reason.save()
        return reason


ReturnReasonFormSet = forms.modelformset_factory(
    ReturnReason,
    form=ReturnReasonForm,
    formset=_ReasonFormSet,
    extra=1,
    can_delete=False,
    max_num=50,
    validate_max=True,
)


class ReportPeriodForm(forms.Form):
    days = forms.TypedChoiceField(
        label="Period",
        coerce=int,
        choices=[(d, f"Last {d} days") for d in PERIODS],
        initial=DEFAULT_PERIOD,
        required=False,
    )

    def period(self) -> int:
        if self.is_valid() and self.cleaned_data.get("days"):
            return self.cleaned_data["days"]
        return DEFAULT_PERIOD
