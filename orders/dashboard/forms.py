from typing import Any

from django import forms

from orders.models import OrderStatus, ShipmentStatus

DATE_RANGES = (("placed_from", "placed_to"), ("delivered_from", "delivered_to"))


class OrderFilterForm(forms.Form):
    """The order list's search and filters, read from the query string."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Order number, email or name"}
        ),
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *OrderStatus.choices]
    )
    shipment_status = forms.ChoiceField(
        label="Shipment status",
        required=False,
        choices=[("", "Any shipment status"), *ShipmentStatus.choices],
    )
    placed_from = forms.DateField(
        label="Placed from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    placed_to = forms.DateField(
        label="Placed to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    delivered_from = forms.DateField(
        label="Delivered from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    delivered_to = forms.DateField(
        label="Delivered to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for start_name, end_name in DATE_RANGES:
            start, end = cleaned.get(start_name), cleaned.get(end_name)
            if start and end and start > end:
                self.add_error(end_name, "The end date is before the start date.")
        return cleaned

    def filters(self) -> dict:
        """The valid filters only: a bad field is reported and ignored, the rest still apply."""
        self.is_valid()
        return {
            "query": self.cleaned_data.get("q") or "",
            "status": self.cleaned_data.get("status") or "",
            "shipment_status": self.cleaned_data.get("shipment_status") or "",
            "placed_from": self.cleaned_data.get("placed_from"),
            "placed_to": self.cleaned_data.get("placed_to"),
            "delivered_from": self.cleaned_data.get("delivered_from"),
            "delivered_to": self.cleaned_data.get("delivered_to"),
        }

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.fields)


class ShopSelectForm(forms.Form):
    shop = forms.IntegerField(min_value=1)
    next = forms.CharField(required=False, max_length=2000)
