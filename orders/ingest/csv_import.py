"""CSV backfill of historical orders (`manage.py import_orders`; columns in docs/csv-import.md).

One row per line item; the rows of an order must be contiguous. The file is streamed: only the
rows of the order being read are held, plus the ids of orders already seen (to report an order
whose rows are split). Each order is imported in its own transaction through the services that
live ingestion uses, with `publish=False`: history must never message a customer. A row that
fails skips its whole order, and every problem is reported with its row number and field.
"""

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from orders.models import (
    PAID_FINANCIAL_STATUSES,
    FinancialStatus,
    Order,
    OrderSource,
    Shop,
    TrackingStatus,
)
from orders.services import order_ingest, phone_to_e164, shipment_ingest
from orders.services.data import (
    AddressData,
    CustomerData,
    LineItemData,
    OrderData,
    ShipmentData,
    ShipmentItemData,
    TrackingEventData,
)
from postpurchase.exceptions import DomainError

T = TypeVar("T")
ZERO = Decimal("0.00")
MONEY_LIMIT = Decimal("1e10")  # what DecimalField(max_digits=12, decimal_places=2) holds

REQUIRED_COLUMNS: tuple[str, ...] = (
    "order_id",
    "order_number",
    "placed_at",
    "currency",
    "quantity",
)
REQUIRED_COLUMNS += ("unit_price", "total")
ONE_OF_COLUMNS = (("email", "phone"), ("sku", "product_title"))
# Values that describe the order, not the line: equal on every row of an order (or blank).
ORDER_COLUMNS = (
    "order_number",
    "placed_at",
    "currency",
    "email",
    "phone",
    "first_name",
    "last_name",
    "subtotal",
    "discount_total",
    "shipping_total",
    "tax_total",
    "total",
    "financial_status",
    "cancelled_at",
    "postcode",
    "country",
)
# Values that describe a parcel: equal on every row with the same tracking number (or blank).
SHIPMENT_COLUMNS = ("carrier", "shipped_at", "delivered_at")
MAX_LENGTHS = {
    "order_id": 64,
    "order_number": 64,
    "line_item_id": 64,
    "sku": 100,
    "product_title": 255,
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "postcode": 32,
    "carrier": 64,
    "tracking_number": 64,
}
CREATED, UPDATED, UNCHANGED, FAILED = "created", "updated", "unchanged", "failed"


class CsvImportError(Exception):
    """The file as a whole cannot be imported (no header, a required column missing)."""


@dataclass(frozen=True)
class RowError:
    row: int
    order_id: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, field {self.field}: {self.reason}"


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass(frozen=True)
class Row:
    number: int  # as a spreadsheet numbers it: the header is row 1
    values: dict[str, str]
    extra_values: int = 0

    def get(self, name: str) -> str:
        return self.values.get(name, "")


# Reading


def _columns(header: list[str]) -> list[str]:
    columns = [name.strip().lower() for name in header]
    duplicates = sorted({name for name in columns if name and columns.count(name) > 1})
    if duplicates:
        raise CsvImportError(f"column(s) named more than once: {', '.join(duplicates)}")
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    missing += [" or ".join(pair) for pair in ONE_OF_COLUMNS if not set(pair) & set(columns)]
    if missing:
        raise CsvImportError(f"missing required column(s): {', '.join(missing)}")
    return columns


def csv_rows(lines: Iterable[str]) -> Iterator[Row]:
    """The data rows of a CSV file, one at a time; blank lines are skipped."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise CsvImportError("the file is empty: a header row is required")
    columns = _columns(header)
    for number, values in enumerate(reader, start=2):
        if not any(value.strip() for value in values):
            continue
        extra = sum(1 for value in values[len(columns) :] if value.strip())
        yield Row(number, {c: v.strip() for c, v in zip(columns, values, strict=False)}, extra)


def order_groups(rows: Iterable[Row]) -> Iterator[list[Row]]:
    """Consecutive rows with the same order_id, one list per run."""
    group: list[Row] = []
    for row in rows:
        if group and row.get("order_id") != group[0].get("order_id"):
            yield group
            group = []
        group.append(row)
    if group:
        yield group


# Parsing values: each parser raises ValueError with a reason fit for the report.


def _bounded(name: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        limit = MAX_LENGTHS[name]
        if len(raw) > limit:
            raise ValueError(f"is {len(raw)} characters long; at most {limit} fit")
        return raw

    return parse


def _money(raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"'{raw}' is not a number (write e.g. 1234.50)") from None
    if not value.is_finite():
        raise ValueError(f"'{raw}' is not a number (write e.g. 1234.50)")
    if value < 0:
        raise ValueError(f"'{raw}' is negative")
    if value >= MONEY_LIMIT:
        raise ValueError(f"'{raw}' is too large")
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _quantity(raw: str) -> int:
    if not raw.isdigit():
        raise ValueError(f"'{raw}' is not a whole number")
    value = int(raw)
    if not 0 < value < 2**31:
        raise ValueError(f"'{raw}' must be at least 1")
    return value


def _currency(raw: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{3}", raw):
        raise ValueError(f"'{raw}' is not a three-letter ISO 4217 currency code")
    return raw.upper()


def _country(raw: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{2}", raw):
        raise ValueError(f"'{raw}' is not a two-letter ISO 3166 country code")
    return raw.upper()


def _email(raw: str) -> str:
    try:
        validate_email(raw)
    except ValidationError:
        raise ValueError(f"'{raw}' is not an email address") from None
    return raw


def _financial_status(raw: str) -> str:
    if raw.lower() not in FinancialStatus.values:
        raise ValueError(f"'{raw}' is not one of {', '.join(FinancialStatus.values)}")
    return raw.lower()


def _moment(zone: ZoneInfo) -> Callable[[str], datetime]:
    """A parser for an ISO 8601 date-time with a UTC offset, or a date (midnight in `zone`)."""

    def parse(raw: str) -> datetime:
        try:
            if "T" not in raw and " " not in raw:
                return datetime.combine(date.fromisoformat(raw), time.min, tzinfo=zone)
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"'{raw}' is not an ISO 8601 date or date-time") from None
        if value.tzinfo is None:
            raise ValueError(f"'{raw}' has no UTC offset (write e.g. {raw}+00:00)")
        return value

    return parse


class _Problems:
    """The problems found in one order's rows; any one of them skips the order."""

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id
        self.errors: list[RowError] = []

    def add(self, row: int, name: str, reason: str) -> None:
        self.errors.append(RowError(row, self.order_id, name, reason))

    def parse(
        self, row: int, name: str, raw: str, parser: Callable[[str], T], *, required: bool = False
    ) -> T | None:
        if not raw:
            if required:
                self.add(row, name, "is required")
            return None
        try:
            return parser(raw)
        except ValueError as exc:
            self.add(row, name, str(exc))
            return None


def _merged(rows: list[Row], names: Iterable[str], problems: _Problems) -> dict[str, Row]:
    """For each name, the first row that gives it a value; a later row that gives another value
    is a problem. A blank on a later row means "as above"."""
    first: dict[str, Row] = {}
    for row in rows:
        for name in names:
            value = row.get(name)
            if not value:
                continue
            if name not in first:
                first[name] = row
            elif value != first[name].get(name):
                problems.add(
                    row.number,
                    name,
                    f"'{value}' differs from '{first[name].get(name)}' at row "
                    f"{first[name].number} of the same order",
                )
    return first


@dataclass(frozen=True)
class ParsedOrder:
    order: OrderData
    shipments: tuple[ShipmentData, ...] = ()


class _OrderReader:
    """Turns one order's rows into OrderData and ShipmentData, collecting every problem."""

    def __init__(self, shop: Shop, rows: list[Row]) -> None:
        self.rows = rows
        self.moment = _moment(ZoneInfo(shop.timezone))
        self.problems = _Problems(rows[0].get("order_id"))
        self.merged = _merged(rows, ORDER_COLUMNS, self.problems)

    def value(self, name: str, parser: Callable[[str], T], *, required: bool = False) -> T | None:
        row = self.merged.get(name, self.rows[0])
        return self.problems.parse(row.number, name, row.get(name), parser, required=required)

    def read(self) -> ParsedOrder | None:
        """The order, or None when any row has a problem (see `problems`)."""
        first = self.rows[0]
        order_id = self.problems.parse(
            first.number, "order_id", first.get("order_id"), _bounded("order_id"), required=True
        )
        for row in self.rows:
            if row.extra_values:
                self.problems.add(row.number, "row", "has more values than the header has columns")
        fields = self._order_fields()
        lines = self._line_items()
        shipments = self._shipments(lines, fields["placed_at"])
        if fields["subtotal"] is None:
            # A missing subtotal is what the lines add up to, as on the storefront.
            fields["subtotal"] = subtotal = _lines_total(lines.values())
            if subtotal >= MONEY_LIMIT:
                self.problems.add(first.number, "subtotal", "the lines add up to too much")
        if self.problems.errors or order_id is None:
            return None
        order = OrderData(external_id=order_id, line_items=tuple(lines.values()), **fields)
        return ParsedOrder(order=order, shipments=shipments)

    def _order_fields(self) -> dict[str, Any]:
        country = self.value("country", _country)
        email, phone = self._contact(country)
        placed_at = self.value("placed_at", self.moment, required=True)
        financial_status = self.value("financial_status", _financial_status) or ""
        is_paid = financial_status in PAID_FINANCIAL_STATUSES
        customer = CustomerData(
            email=email,
            phone=phone,
            first_name=self.value("first_name", _bounded("first_name")) or "",
            last_name=self.value("last_name", _bounded("last_name")) or "",
        )
        postcode = self.value("postcode", _bounded("postcode")) or ""
        return {
            "source": OrderSource.IMPORT,
            "number": self.value("order_number", _bounded("order_number"), required=True),
            "placed_at": placed_at,
            "currency": self.value("currency", _currency, required=True),
            "total": self.value("total", _money, required=True),
            "subtotal": self.value("subtotal", _money),
            "discount_total": self.value("discount_total", _money) or ZERO,
            "shipping_total": self.value("shipping_total", _money) or ZERO,
            "tax_total": self.value("tax_total", _money) or ZERO,
            "email": email,
            "phone": phone,
            "customer": customer,
            "shipping_address": AddressData(postcode=postcode, country=country or ""),
            "is_paid": is_paid,
            "paid_at": placed_at if is_paid else None,
            "financial_status": financial_status,
            "cancelled_at": self.value("cancelled_at", self.moment),
        }

    def _contact(self, country: str | None) -> tuple[str, str]:
        email = self.value("email", _email) or ""
        phone_row = self.merged.get("phone")
        raw_phone = phone_row.get("phone") if phone_row else ""
        phone = phone_to_e164(raw_phone, default_region=country)
        if phone_row and not phone:
            self.problems.add(phone_row.number, "phone", f"'{raw_phone}' is not a phone number")
        if not email and not raw_phone:
            self.problems.add(self.rows[0].number, "email", "email or phone is required")
        return email, phone

    def _line_item(self, row: Row, position: int) -> LineItemData | None:
        def value(name: str, parser: Callable[[str], T], required: bool = False) -> T | None:
            return self.problems.parse(row.number, name, row.get(name), parser, required=required)

        external_id = value("line_item_id", _bounded("line_item_id"))
        sku = value("sku", _bounded("sku")) or ""
        title = value("product_title", _bounded("product_title"))
        if not row.get("sku") and not row.get("product_title"):
            self.problems.add(row.number, "product_title", "sku or product_title is required")
        quantity = value("quantity", _quantity, required=True)
        unit_price = value("unit_price", _money, required=True)
        discount = value("line_discount", _money)
        if quantity is None or unit_price is None:
            return None
        return LineItemData(
            external_id=external_id or str(position),
            title=title or sku,
            sku=sku,
            quantity=quantity,
            unit_price=unit_price,
            discount_total=discount or ZERO,
        )

    def _line_items(self) -> dict[int, LineItemData]:
        """The order's lines by their row's position in the order (1 for its first row)."""
        lines: dict[int, LineItemData] = {}
        used: dict[str, int] = {}
        for position, row in enumerate(self.rows, start=1):
            line = self._line_item(row, position)
            if line is None:
                continue
            if line.external_id in used:
                self.problems.add(
                    row.number,
                    "line_item_id",
                    f"'{line.external_id}' is already used at row {used[line.external_id]}",
                )
            used[line.external_id] = row.number
            lines[position] = line
        return lines

    def _parcels(self) -> dict[str, list[tuple[int, Row]]]:
        """Rows by tracking number, each with its position in the order."""
        parcels: dict[str, list[tuple[int, Row]]] = {}
        for position, row in enumerate(self.rows, start=1):
            raw = row.get("tracking_number")
            number = self.problems.parse(
                row.number, "tracking_number", raw, _bounded("tracking_number")
            )
            if number:
                parcels.setdefault(number, []).append((position, row))
            elif not raw and any(row.get(name) for name in SHIPMENT_COLUMNS):
                self.problems.add(
                    row.number,
                    "tracking_number",
                    "is required when carrier, shipped_at or delivered_at is given",
                )
        return parcels

    def _shipments(
        self, lines: dict[int, LineItemData], placed_at: datetime | None
    ) -> tuple[ShipmentData, ...]:
        parcels = self._parcels()
        if parcels and "cancelled_at" in self.merged:
            row = self.merged["cancelled_at"]
            self.problems.add(row.number, "cancelled_at", "a cancelled order cannot have shipped")
        return tuple(
            self._shipment(number, rows, lines, placed_at) for number, rows in parcels.items()
        )

    def _shipment(
        self,
        tracking_number: str,
        rows: list[tuple[int, Row]],
        lines: dict[int, LineItemData],
        placed_at: datetime | None,
    ) -> ShipmentData:
        merged = _merged([row for _, row in rows], SHIPMENT_COLUMNS, self.problems)

        def value(name: str, parser: Callable[[str], T]) -> T | None:
            row = merged.get(name)
            return self.problems.parse(row.number, name, row.get(name), parser) if row else None

        shipped_at = value("shipped_at", self.moment)
        delivered_at = value("delivered_at", self.moment)
        events = []
        if shipped_at:
            events.append(_imported_scan(TrackingStatus.IN_TRANSIT, shipped_at, "Shipped"))
        if delivered_at:
            events.append(_imported_scan(TrackingStatus.DELIVERED, delivered_at, "Delivered"))
        items = tuple(
            ShipmentItemData(lines[p].external_id, lines[p].quantity) for p, _ in rows if p in lines
        )
        return ShipmentData(
            carrier=value("carrier", _bounded("carrier")) or "",
            tracking_number=tracking_number,
            # With no ship time given, the placing of the order is the closest bound we know.
            shipped_at=shipped_at or placed_at,
            items=items,
            events=tuple(events),
        )


def _imported_scan(status: str, at: datetime, what: str) -> TrackingEventData:
    # One record of each per shipment, however often the file is imported.
    return TrackingEventData(
        status=status,
        occurred_at=at,
        description=f"{what} (imported)",
        source="import",
        external_id=f"import:{status}",
    )


def _lines_total(lines: Iterable[LineItemData]) -> Decimal:
    return sum((line.unit_price * line.quantity - line.discount_total for line in lines), ZERO)


# Saving


def _shipments_in_place(order: Order, shipments: tuple[ShipmentData, ...]) -> bool:
    """Whether every shipment in the file is already recorded on the order as the file says."""
    existing = {
        s.tracking_number: s for s in order.shipments.prefetch_related("events", "items__line_item")
    }
    for data in shipments:
        shipment = existing.get(data.tracking_number)
        if shipment is None or (data.carrier and shipment.carrier != data.carrier):
            return False
        keys = {event.dedupe_key for event in shipment.events.all()}
        if any(event.dedupe_key() not in keys for event in data.events):
            return False
        items = {(item.line_item.external_id, item.quantity) for item in shipment.items.all()}
        if any((i.line_item_external_id, i.quantity) not in items for i in data.items):
            return False
    return True


@transaction.atomic
def order_import(*, shop: Shop, parsed: ParsedOrder) -> str:
    """Import one order whole, without publishing; returns created, updated or unchanged."""
    result = order_ingest(shop=shop, data=parsed.order, publish=False)
    if not result.changed and _shipments_in_place(result.order, parsed.shipments):
        return UNCHANGED
    for shipment in parsed.shipments:
        shipment_ingest(order=result.order, data=shipment, publish=False)
    return CREATED if result.created else UPDATED


def _group_import(shop: Shop, rows: list[Row], seen: dict[str, int]) -> tuple[str, list[RowError]]:
    first = rows[0]
    order_id = first.get("order_id")
    if order_id in seen:
        reason = (
            f"rows of order {order_id} must be contiguous; its rows from row {seen[order_id]} "
            "were read already, so these were skipped"
        )
        return FAILED, [RowError(first.number, order_id, "order_id", reason)]
    if order_id:
        seen[order_id] = first.number
    reader = _OrderReader(shop, rows)
    parsed = reader.read()
    if parsed is None:
        return FAILED, reader.problems.errors
    try:
        return order_import(shop=shop, parsed=parsed), []
    except DomainError as exc:
        return FAILED, [RowError(first.number, order_id, "order_id", str(exc))]


def orders_import(
    *,
    shop: Shop,
    lines: Iterable[str],
    on_error: Callable[[RowError], None] | None = None,
    on_order: Callable[[], None] | None = None,
) -> ImportSummary:
    """Import every order in a CSV file (given as its lines). Problems are handed to
    `on_error` as they are found; `on_order` is called after each order, for progress.

    Raises CsvImportError when the file as a whole is unusable."""
    summary = ImportSummary()
    seen: dict[str, int] = {}
    for rows in order_groups(csv_rows(lines)):
        summary.rows += len(rows)
        outcome, errors = _group_import(shop, rows, seen)
        summary.count(outcome)
        for error in errors:
            if on_error is not None:
                on_error(error)
        if on_order is not None:
            on_order()
    return summary
