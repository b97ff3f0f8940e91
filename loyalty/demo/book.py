"""A year of bookings kept in memory and written in a few INSERTs: booking the demo's history
entry by entry through `loyalty.ledger.entry_book` would take minutes at the default scale.

The arithmetic is the ledger's own (`loyalty.ledger._applied` moves the member's buckets and
builds the entry, `_lot` opens the lot of a credit); what differs is where the lots are debited
(here, in memory, in the order `entry_book` uses: the named lot first, then soonest-expiring).
Each entry carries the moment it happened. Keys naming rows that do not exist yet (a
redemption, a referral, a lot) are filled in once those rows have their ids, before any entry
is written, so what reaches the database is what the services would have written."""

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, models

from loyalty.ledger import Booking, _applied, _lot, add_months
from loyalty.models import LedgerEntry, Member, PointLot


@dataclass
class MemberBook:
    """One member's balance row (unsaved) and the lots their credits opened, in order."""

    member: Member
    lots: list[PointLot] = field(default_factory=list)

    def open_lots(self) -> list[PointLot]:
        """Open lots in the order debits use them: soonest-expiring first, never last."""
        ordered = sorted(
            (lot for lot in self.lots if lot.remaining > 0),
            key=lambda lot: (lot.expires_at is None, lot.expires_at or lot.available_at),
        )
        return ordered


@dataclass
class Ledger:
    """Every demo booking of the shop, in memory until `save`."""

    expiry_months: int | None
    entries: list[LedgerEntry] = field(default_factory=list)
    # Entries whose key (and subject id) name a row saved later: filled in by `save`.
    deferred: list[tuple[LedgerEntry, Callable[[], tuple[str, int]]]] = field(default_factory=list)
    # Entries that name their lot (an expiry): written after the lots.
    after_lots: list[tuple[LedgerEntry, PointLot]] = field(default_factory=list)

    def book(
        self,
        account: MemberBook,
        booking: Booking,
        *,
        key_later: Callable[[], tuple[str, int]] | None = None,
        lot: PointLot | None = None,
    ) -> LedgerEntry:
        """Book as `entry_book` would at `booking.at`. Raises as it does (NotEnoughPoints)."""
        member = account.member
        before = member.available
        entry = _applied(member, booking)
        member.updated_at = entry.created_at
        if booking.available > 0:
            expires_at = (
                add_months(entry.created_at, self.expiry_months) if self.expiry_months else None
            )
            account.lots.append(_lot(member, entry, before, expires_at))
        elif booking.available < 0:
            self._debit(account, min(-booking.available, max(before, 0)), lot)
        if lot is not None:
            self.after_lots.append((entry, lot))
        else:
            self.entries.append(entry)
        if key_later is not None:
            self.deferred.append((entry, key_later))
        return entry

    @staticmethod
    def _debit(account: MemberBook, points: int, first: PointLot | None) -> None:
        ordered = account.open_lots()
        if first is not None and first in ordered:
            ordered.remove(first)
            ordered.insert(0, first)
        for lot in ordered:
            if points <= 0:
                break
            used = min(points, lot.remaining)
            lot.remaining -= used
            points -= used

    def save(self, accounts: list[MemberBook]) -> int:
        """Write the entries, then the lots, then the entries that name a lot. The members
        must be saved already; returns how many entries were written."""
        for entry, key_later in self.deferred:
            entry.idempotency_key, entry.subject_id = key_later()
        rows_insert(self.entries)
        rows_insert([lot for account in accounts for lot in account.lots])
        for entry, lot in self.after_lots:
            entry.idempotency_key, entry.subject_id = f"expire:lot:{lot.pk}", lot.pk
        rows_insert([entry for entry, _ in self.after_lots])
        return len(self.entries) + len(self.after_lots)


def _column_value(obj: models.Model, column: models.Field) -> Any:
    if isinstance(column, models.ForeignKey):
        # A row saved after this object was made: its id is on the cached object only.
        related = column.get_cached_value(obj, None)
        if related is not None:
            return related.pk
    return getattr(obj, column.attname)


def _copy_text(value: Any) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return "{" + ",".join(str(v) for v in value) + "}"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def rows_insert(objects: Sequence[models.Model]) -> None:
    """Write `objects` (all of one model) as `bulk_create` would, ids included, with one COPY:
    at the demo's tens of thousands of rows the ORM's per-value preparation and the INSERT's
    parameters cost several times the writing itself. The ids are drawn from the table's own
    sequence first. For models of numbers, text, times, decimals and arrays of numbers."""
    if not objects:
        return
    model = type(objects[0])
    columns = [f for f in model._meta.concrete_fields if not f.primary_key]
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(objects)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        buffer = io.StringIO()
        for obj, pk in zip(objects, ids, strict=True):
            values = [str(pk), *(_copy_text(_column_value(obj, f)) for f in columns)]
            buffer.write("\t".join(values) + "\n")
        buffer.seek(0)
        names = ", ".join(connection.ops.quote_name(str(f.column)) for f in columns)
        cursor.cursor.copy_expert(
            f"COPY {connection.ops.quote_name(table)} (id, {names}) FROM STDIN", buffer
        )
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
