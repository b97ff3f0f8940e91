"""The loyalty pages' forms: the numbers' period, the members' filters, the programme's rules,
its tiers (an editable list without JavaScript: a blank row adds, a box removes), a reward,
the earning preview and a staff adjustment."""

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from loyalty.dashboard.selectors import Period
from loyalty.models import Programme, Reward, RewardKind, Tier
from loyalty.programme.services import PROGRAMME_FIELDS, REWARD_FIELDS, RowEdit
from orders.models import Product, Shop

PRESETS = (30, 90, 365)
DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366
_SEARCH = {"type": "search", "autocomplete": "off"}


class PeriodForm(forms.Form):
    """The range of days shown: a preset ending today, or from/to in the shop's zone (both
    given wins over the preset)."""

    days = forms.TypedChoiceField(
        label=_("Period"),
        coerce=int,
        choices=[(d, _("Last %(days)s days") % {"days": d}) for d in PRESETS],
        initial=DEFAULT_DAYS,
        required=False,
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until:
            if since > until:
                self.add_error("until", _("Pick a day on or after the first one."))
            elif (until - since).days + 1 > MAX_DAYS:
                self.add_error("since", _("Pick a range of at most %(n)s days.") % {"n": MAX_DAYS})
        return data

    def period(self, today: date) -> Period:
        days = DEFAULT_DAYS
        if self.is_valid():
            since, until = self.cleaned_data.get("since"), self.cleaned_data.get("until")
            if since and until:
                return Period(since, until)
            days = self.cleaned_data.get("days") or DEFAULT_DAYS
        return Period(today - timedelta(days=days - 1), today)


class MemberFilterForm(forms.Form):
    """Read from the query string: a bad value is ignored, the other filters still apply."""

    q = forms.CharField(
        label=_("Email, name or referral code"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={**_SEARCH, "placeholder": "ada@example.org"}),
    )
    tier = forms.ChoiceField(label=_("Tier"), required=False)
    balance_min = forms.IntegerField(label=_("Points from"), required=False)
    balance_max = forms.IntegerField(label=_("Points up to"), required=False)
    expiring = forms.ChoiceField(
        label=_("Expiring"),
        required=False,
        choices=[("", _("Any")), ("soon", _("Points expiring within 30 days"))],
    )

    def __init__(self, *args: Any, tiers: list[Tier], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["tier"]).choices = [
            ("", _("Any tier")),
            *[(str(tier.pk), tier.name) for tier in tiers],
            ("none", _("No tier yet")),
        ]

    @property
    def narrowing_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("tier", "balance_min", "balance_max", "expiring")]

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.fields)

    def filters(self) -> dict[str, Any]:
        self.is_valid()
        data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if k not in self.errors}
        tier = data.get("tier") or ""
        return {
            "q": data.get("q") or "",
            "tier": 0 if tier == "none" else int(tier) if tier.isdigit() else None,
            "balance_min": data.get("balance_min"),
            "balance_max": data.get("balance_max"),
            "expiring": data.get("expiring") == "soon",
        }


class ProgrammeForm(forms.ModelForm):
    class Meta:
        model = Programme
        fields = list(PROGRAMME_FIELDS)
        labels = {
            "is_active": _("The programme is running (members earn points)"),
            "name": _("Programme name"),
            "points_per_unit": _("Points per unit of currency spent"),
            "earn_on_shipping": _("Shipping earns points"),
            "earn_on_tax": _("Tax earns points"),
            "debt_policy": _("Points taken back after they were spent"),
            "point_value": _("What one point is worth"),
            "expiry_months": _("Points expire after (months)"),
            "expiry_reminder_days": _("Remind members this many days before"),
            "review_points": _("Points for a published review"),
            "photo_review_points": _("Extra points for a photo"),
            "birthday_points": _("Birthday points"),
            "anniversary_points": _("First-order anniversary points"),
            "referral_points": _("Points for a referral"),
            "referral_friend_reward": _("The referred friend's reward"),
            "referral_monthly_cap": _("Rewarded referrals per member per month"),
            "tier_basis": _("Tiers are reached by"),
        }
        help_texts = {
            "points_per_unit": _("On each line's price after its discounts."),
            "point_value": _(
                "In the shop's currency. The points not yet spent times this is the "
                "programme's liability."
            ),
            "expiry_months": _("Counted from when the points were confirmed. Empty: never."),
            "review_points": _("Any rating earns them: a reward may never depend on praise."),
            "referral_points": _("Paid when the friend's first order is past its return window."),
        }
        widgets = {
            "points_per_unit": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            "point_value": forms.NumberInput(attrs={"step": "0.0001", "min": "0"}),
        }

    def __init__(self, *args: Any, shop: Shop, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        friend = cast(forms.ModelChoiceField, self.fields["referral_friend_reward"])
        friend.queryset = Reward.objects.filter(shop=shop)
        friend.empty_label = _("None")


class TierForm(forms.ModelForm):
    class Meta:
        model = Tier
        fields = [
            "name",
            "threshold",
            "earn_multiplier",
            "free_shipping_quarterly",
            "early_access_tag",
            "birthday_reward",
        ]
        labels = {
            "name": _("Name"),
            "threshold": _("From"),
            "earn_multiplier": _("Points multiplier"),
            "free_shipping_quarterly": _("Free shipping each quarter"),
            "early_access_tag": _("Early-access tag"),
            "birthday_reward": _("Birthday reward"),
        }

    def __init__(self, *args: Any, shop: Shop, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reward = cast(forms.ModelChoiceField, self.fields["birthday_reward"])
        reward.queryset = Reward.objects.filter(shop=shop)
        reward.empty_label = _("None")
        self.fields["threshold"].widget.attrs.update({"min": "0", "step": "0.01"})
        self.fields["earn_multiplier"].widget.attrs.update({"step": "0.05"})

    def has_changed(self) -> bool:
        # The blank row adds a tier only once it has a name.
        if self.instance.pk is None:
            return bool((self.data.get(self.add_prefix("name")) or "").strip())
        return super().has_changed()


class _ShopFormSet(forms.BaseModelFormSet):
    model_fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, shop: Shop, **kwargs: Any) -> None:
        self.shop = shop
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "shop": self.shop}

    @property
    def empty_form(self) -> forms.ModelForm:
        form_class: Any = self.form
        return form_class(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            shop=self.shop,
        )

    def edits(self) -> list[RowEdit]:
        """The rows as the service takes them (the blank row left out until filled in)."""
        rows = []
        for form in self.forms:
            if form.instance.pk is None and not form.has_changed():
                continue
            data = form.cleaned_data
            rows.append(
                RowEdit(
                    id=form.instance.pk,
                    values={name: data.get(name) for name in self.model_fields},
                    remove=bool(data.get("DELETE")),
                )
            )
        return rows


class _TierFormSet(_ShopFormSet):
    model_fields = tuple(TierForm.Meta.fields)

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data.get("name") and not form.cleaned_data.get("DELETE")
        ]
        if not kept:
            raise forms.ValidationError(_("Keep at least one tier."))
        thresholds = [row["threshold"] for row in kept]
        if min(thresholds) != 0:
            raise forms.ValidationError(
                _("The lowest tier starts at 0, so every member has a tier.")
            )
        if len(set(thresholds)) != len(thresholds):
            raise forms.ValidationError(_("Two tiers have the same threshold."))
        names = [row["name"].strip().lower() for row in kept]
        if len(set(names)) != len(names):
            raise forms.ValidationError(_("Two tiers have the same name."))


TierFormSet = forms.modelformset_factory(
    Tier,
    form=TierForm,
    formset=_TierFormSet,
    extra=1,
    can_delete=True,
    max_num=10,
    validate_max=True,
)


class RewardForm(forms.ModelForm):
    """One reward of the catalogue, added or changed; what it gives is checked against its
    kind next to the field that is wrong."""

    class Meta:
        model = Reward
        fields = list(REWARD_FIELDS)
        labels = {
            "name": _("Name"),
            "kind": _("Kind"),
            "value": _("Value"),
            "product": _("Product"),
            "points_price": _("Points price"),
            "valid_days": _("Valid for (days)"),
            "is_active": _("Offered"),
        }
        help_texts = {
            "name": _("What members see on their loyalty page."),
            "value": _(
                "The amount off in the shop's currency, or the percentage; not used for free "
                "shipping or a free product."
            ),
            "points_price": _("0 for a reward that is only given (a birthday gift, a welcome)."),
            "valid_days": _("How long the code works after it is issued."),
            "is_active": _("Members can buy it with points."),
        }

    def __init__(self, *args: Any, shop: Shop, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        product = cast(forms.ModelChoiceField, self.fields["product"])
        product.queryset = Product.objects.filter(shop=shop).order_by("title")
        product.empty_label = _("None")
        self.fields["value"].widget.attrs.update({"min": "0", "step": "0.01"})
        self.fields["points_price"].widget.attrs.update({"min": "0"})
        self.fields["valid_days"].widget.attrs.update({"min": "1"})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, value = data.get("kind"), data.get("value") or Decimal("0")
        if kind == RewardKind.PERCENT_OFF and not 0 < value <= 100:
            self.add_error("value", _("A percentage between 1 and 100."))
        if kind == RewardKind.AMOUNT_OFF and value <= 0:
            self.add_error("value", _("An amount above 0."))
        if kind == RewardKind.FREE_PRODUCT and not data.get("product"):
            self.add_error("product", _("Choose the product it gives."))
        if data.get("is_active") and not data.get("points_price"):
            self.add_error("points_price", _("A reward offered for points needs a price above 0."))
        if data.get("valid_days") is not None and data["valid_days"] < 1:
            self.add_error("valid_days", _("A code is valid for at least one day."))
        return data


class PreviewForm(forms.Form):
    """A sample order for the earning preview; read from the query string."""

    sample_total = forms.DecimalField(
        label=_("Order total"),
        help_text=_("After discounts, without shipping and tax."),
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
        required=False,
        initial=Decimal("100.00"),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )
    sample_tier = forms.ChoiceField(label=_("Member's tier"), required=False)

    def __init__(self, *args: Any, tiers: list[Tier], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["sample_tier"]).choices = [
            (str(tier.pk), tier.name) for tier in tiers
        ] or [("", _("No tiers"))]


class AdjustForm(forms.Form):
    points = forms.IntegerField(
        label=_("Points"),
        help_text=_("Positive adds points, negative takes them (e.g. -50)."),
        min_value=-1_000_000,
        max_value=1_000_000,
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        help_text=_("Kept with the entry; the member's history shows it."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    # One per form shown: a double submit books once.
    key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"key": uuid.uuid4().hex})
        super().__init__(*args, **kwargs)

    def clean_points(self) -> int:
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError(_("Give a number of points other than 0."))
        return points

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why: the reason is kept with the entry."))
        return reason
