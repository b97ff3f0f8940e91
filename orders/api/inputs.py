"""What clients may send: request bodies and list filters, validated before any service runs.

Fields a client leaves out are left out of `validated_data` too (no defaults here), so that a
partial update knows what it was asked to change; orders.api.mapping fills in the rest."""

import functools
import re
import zoneinfo
from decimal import Decimal
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.models import Channel, FinancialStatus, LineItem, OrderStatus, TrackingStatus
from orders.services import phone_to_e164

MAX_QUANTITY = 1_000_000


# ASCII digits only: Python's `\d` (and `Decimal()`) also read other scripts' digits.
_MONEY_STRING = re.compile(r"[0-9]{1,10}(\.[0-9]{1,2})?")
MONEY_PATTERN = f"^{_MONEY_STRING.pattern}$"
MONEY_MAX = Decimal("9999999999.99")


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "pattern": MONEY_PATTERN, "example": "19.99"},
            {"type": "number", "minimum": 0, "maximum": float(MONEY_MAX), "multipleOf": 0.01},
        ]
    }
)
class MoneyField(serializers.DecimalField):
    """A non-negative amount with at most 2 decimal places, as a string ("19.99") or number.

    A string must be written plainly (digits, an optional point and one or two decimals): what
    the schema says, rather than whatever `Decimal()` would read (" 1e2 ", "+5")."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(max_digits=12, decimal_places=2, **kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, str) and not _MONEY_STRING.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class UpperCaseCodeField(serializers.CharField):
    """A code of `length` letters (currency, country), accepted in any case, stored upper."""

    def __init__(self, *, length: int, what: str, **kwargs: Any) -> None:
        message = f"Use a {length}-letter {what} code."
        kwargs["validators"] = [RegexValidator(rf"^[A-Z]{{{length}}}$", message)]
        super().__init__(min_length=length, max_length=length, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        return super().to_internal_value(data).upper()


@functools.cache
def _timezone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone_name(value: str) -> None:
    if value and value not in _timezone_names():
        raise serializers.ValidationError(f"'{value}' is not an IANA time zone name.")


class TextOnlyField(serializers.CharField):
    """A string, and only a string: a number is not read as its digits."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class PhoneField(serializers.CharField):
    """A phone number in any common notation. OrderInput normalises it to E.164, as it knows
    the shipping country to read a national number in."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=40, required=False, allow_blank=True, **kwargs)


def normalise_phone(raw: str, *, region: str) -> str:
    phone = phone_to_e164(raw, default_region=region or None)
    if raw and not phone:
        raise serializers.ValidationError(
            "Enter a valid phone number, in international form (+14155550123) or in the "
            "shipping country's national form."
        )
    return phone


def _json_type_error(field: serializers.Field, value: Any) -> str:
    """What is wrong with the JSON type of `value` for `field`, or "" when it is right."""
    if value is None:
        return ""  # the field's own allow_null decides
    if isinstance(field, serializers.BooleanField):
        return "" if isinstance(value, bool) else "Expected true or false."
    if isinstance(field, serializers.IntegerField):
        is_integer = isinstance(value, int) and not isinstance(value, bool)
        return "" if is_integer else "Expected an integer."
    if isinstance(field, serializers.DecimalField):
        is_number = isinstance(value, int | float | str) and not isinstance(value, bool)
        return "" if is_number else "Expected a number or a decimal string."
    if isinstance(
        field,
        serializers.CharField
        | serializers.ChoiceField
        | serializers.DateTimeField
        | serializers.DateField,
    ):
        return "" if isinstance(value, str) else "Expected a string."
    return ""  # nested objects and lists check their own shape


class JsonInput(serializers.Serializer):
    """A request body read with the JSON types the schema states. DRF alone reads form-style:
    12 for a string, "12" or 12.0 for an integer, "yes" or 0 for a boolean; here those are
    errors, so that a client's bug is caught where it is made, and the schema is the contract."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            errors = {
                name: [message]
                for name, field in self.fields.items()
                if name in data and not field.read_only
                for message in [_json_type_error(field, data[name])]
                if message
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def _text(max_length: int, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, required=False, allow_blank=True, **kwargs)


class ConsentInput(JsonInput):
    channel = serializers.ChoiceField(choices=Channel.choices)
    is_granted = serializers.BooleanField()
    changed_at = serializers.DateTimeField(required=False)


class CustomerInput(JsonInput):
    external_id = _text(64)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = PhoneField()
    first_name = _text(100)
    last_name = _text(100)
    birthday = serializers.DateField(required=False, allow_null=True)
    timezone = _text(64, validators=[validate_timezone_name])
    locale = _text(16)
    consents = ConsentInput(many=True, required=False)


class AddressInput(JsonInput):
    name = _text(200)
    address1 = _text(255)
    address2 = _text(255)
    city = _text(120)
    province = _text(120)
    postcode = _text(32)
    country = UpperCaseCodeField(length=2, what="ISO 3166 country", required=False)


class LineItemInput(JsonInput):
    external_id = serializers.CharField(max_length=64)
    title = serializers.CharField(max_length=255)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_price = MoneyField()
    discount_total = MoneyField(required=False)
    sku = _text(100)
    variant_title = _text(255)
    product_external_id = _text(64)
    variant_external_id = _text(64)
    requires_shipping = serializers.BooleanField(required=False)


class OrderInput(JsonInput):
    """An order as the shop knows it. `external_id` is the shop's own id: sending the same one
    again updates that order instead of creating another."""

    external_id = serializers.CharField(max_length=64)
    number = serializers.CharField(max_length=64, help_text="What the customer sees, e.g. #1001.")
    placed_at = serializers.DateTimeField()
    currency = UpperCaseCodeField(length=3, what="ISO 4217 currency")
    subtotal = MoneyField(required=False)
    discount_total = MoneyField(required=False)
    shipping_total = MoneyField(required=False)
    tax_total = MoneyField(required=False)
    total = MoneyField()
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = PhoneField()
    customer = CustomerInput(required=False, allow_null=True)
    shipping_address = AddressInput(required=False)
    line_items = LineItemInput(many=True, allow_empty=False)
    is_paid = serializers.BooleanField(required=False)
    paid_at = serializers.DateTimeField(required=False, allow_null=True)
    financial_status = serializers.ChoiceField(
        choices=FinancialStatus.choices,
        required=False,
        help_text="The payment state as your platform has it; kept as given, each change on "
        "the order's timeline. `paid`, `partially_refunded` and `refunded` also mark the order "
        "paid. Voided and refunded orders get no review requests or other marketing.",
    )
    source_updated_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When the shop last changed the order; an older update than one already "
        "applied is ignored.",
    )
    discount_codes = serializers.ListField(
        child=TextOnlyField(max_length=100),
        required=False,
        max_length=50,
        help_text="The discount codes entered at checkout; a loyalty reward's code among them "
        "marks the reward used.",
    )

    def validate_line_items(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: set[str | None] = set()
        errors: dict[int, dict[str, list[str]]] = {}
        for index, item in enumerate(items):
            external_id = item.get("external_id")
            if external_id in seen:
                errors[index] = {"external_id": ["Appears twice in this order."]}
            seen.add(external_id)
        if errors:
            # Errors by index: DRF's own form for a list's; its stubs know only str keys.
            raise serializers.ValidationError(errors)  # type: ignore[arg-type]
        return items

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # National numbers are read in the shipping country (the stored one, for an update).
        region = attrs.get("shipping_address", {}).get("country") or self.context.get(
            "default_region", ""
        )
        errors: dict[str, Any] = {}
        if attrs.get("phone"):
            try:
                attrs["phone"] = normalise_phone(attrs["phone"], region=region)
            except serializers.ValidationError as exc:
                errors["phone"] = exc.detail
        customer = attrs.get("customer") or {}
        if customer.get("phone"):
            try:
                customer["phone"] = normalise_phone(customer["phone"], region=region)
            except serializers.ValidationError as exc:
                errors["customer"] = {"phone": exc.detail}
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class CancelInput(JsonInput):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True)


class ShipmentItemInput(JsonInput):
    line_item_id = serializers.IntegerField(min_value=1, help_text="Our id of the line item.")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class ShipmentInput(JsonInput):
    """A parcel on its way. Items say which line items it carries (all of them when left out);
    sending the same `external_id` or tracking number again updates that shipment."""

    external_id = _text(64)
    carrier = _text(64)
    tracking_number = _text(64)
    tracking_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    estimated_delivery_date = serializers.DateField(required=False, allow_null=True)
    shipped_at = serializers.DateTimeField(required=False, allow_null=True)
    items = ShipmentItemInput(many=True, required=False)

    def validate_items(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Resolve each item to a line item of this order (`context["order"]`)."""
        lines = {line.pk: line for line in self.context["order"].line_items.all()}
        errors: dict[int, dict[str, list[str]]] = {}
        resolved: list[dict[str, Any]] = []
        seen: set[int] = set()
        for index, item in enumerate(items):
            line: LineItem | None = lines.get(item["line_item_id"])
            if line is None:
                errors[index] = {"line_item_id": ["No such line item on this order."]}
            elif line.pk in seen:
                errors[index] = {"line_item_id": ["Appears twice in this shipment."]}
            elif item["quantity"] > line.quantity:
                errors[index] = {"quantity": [f"The order has only {line.quantity} of these."]}
            else:
                resolved.append({"line_item": line, "quantity": item["quantity"]})
            if line is not None:
                seen.add(line.pk)
        if errors:
            # Errors by index: DRF's own form for a list's; its stubs know only str keys.
            raise serializers.ValidationError(errors)  # type: ignore[arg-type]
        return resolved


class TrackingEventInput(JsonInput):
    status = serializers.ChoiceField(choices=TrackingStatus.choices)
    occurred_at = serializers.DateTimeField()
    description = _text(500)
    location = _text(255)
    external_id = _text(
        64, help_text="The carrier's id for the scan; a scan sent twice is recorded once."
    )


@extend_schema_field(
    {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "string", "maxLength": 0}]}
)
class SinceFilter(serializers.DateTimeField):
    """A time to list changes from; left empty (`?updated_since=`) it filters nothing."""

    def __init__(self) -> None:
        super().__init__(required=False, help_text="Only what changed at or after this time.")


# An empty filter (`?status=`) filters nothing, as a form left blank would.
class OrderFilter(serializers.Serializer):
    external_id = serializers.CharField(required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False, allow_blank=True)
    updated_since = SinceFilter()


class CustomerFilter(serializers.Serializer):
    external_id = serializers.CharField(required=False, allow_blank=True)
    email = serializers.CharField(required=False, allow_blank=True, help_text="Any case.")
    updated_since = SinceFilter()
