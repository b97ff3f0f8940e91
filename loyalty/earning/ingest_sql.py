"""The SQL of an order's points on the ingest path (`orders.order_points_earn`), raw on purpose:
every paid order of a flash sale runs it, and building its statements with the ORM
(select_related, prefetches, a model per entry, a compiler per query) cost about 9 ms of
Python per order against a budget of 2 ms. Two statements do what nine did: one reads the
order with everything its points and their message need and locks the customer's member row;
one writes the earning, its lines, the entries and the balance, all or nothing. Both are
prepared once per connection (`PREPARE`): planning the read's nine tables took longer than
running it.

Only the models' own table and column names go into the texts; every value is a parameter.
The rows read become model instances (`Model.from_db`, as a queryset makes them), so the
rules written on the models (a line's total, an order's state) are the ones used."""

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Model

from loyalty.messages import POINTS_EARNED
from loyalty.models import LedgerEntry, LineEarning, Member, OrderEarning, Programme, Tier
from notifications.models import Flow
from orders.models import Consent, Customer, LineItem, Order, Shop


class _Columns:
    """All the concrete columns of one model under an alias of the statement, and the
    instance made back from them (None when the row joined nothing)."""

    def __init__(self, model: type[Model], alias: str) -> None:
        self.model = model
        self.fields = model._meta.concrete_fields
        self.attnames = [field.attname for field in self.fields]
        self.alias = alias
        self.width = len(self.fields)
        self._converters: list[tuple[int, Any, list[Any]]] | None = None

    def sql(self) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{quote(str(field.column))}" for field in self.fields)

    def load(self, row: Sequence[Any], start: int) -> Any:
        values = list(row[start : start + self.width])
        if values[0] is None:  # the primary key: nothing joined
            return None
        if self._converters is None:
            self._converters = [
                (i, field, converters)
                for i, field in enumerate(self.fields)
                if (converters := field.get_db_converters(connection))
            ]
        # What a queryset applies to what the database returns (JSON columns, say).
        for i, field, converters in self._converters:
            for convert in converters:
                values[i] = convert(values[i], field, connection)
        return self.model.from_db(connection.alias, self.attnames, values)


_ORDER = _Columns(Order, "o")
_SHOP = _Columns(Shop, "s")
_CUSTOMER = _Columns(Customer, "c")
_PROGRAMME = _Columns(Programme, "p")
_MEMBER = _Columns(Member, "m")
_TIER = _Columns(Tier, "t")
_FLOW = _Columns(Flow, "f")
_MODELS = (_ORDER, _SHOP, _CUSTOMER, _PROGRAMME, _MEMBER, _TIER, _FLOW)


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


class _Prepared:
    """A statement prepared on each database connection the first time it runs there, then
    executed by name: the server plans it once per connection, not once per order. Its
    parameters are named (`%(name)s`) in the text and typed here, in their order."""

    def __init__(self, name: str, sql: str, types: dict[str, str]) -> None:
        self.names = list(types)
        for number, param in enumerate(self.names, start=1):
            sql = sql.replace(f"%({param})s", f"${number}")
        if "%(" in sql:
            raise ValueError(f"{name}: a parameter without a type")
        self.prepare = f"PREPARE {name} ({', '.join(types.values())}) AS {sql}"
        self.execute = f"EXECUTE {name} ({', '.join(['%s'] * len(self.names))})"
        # The connections (DB-API objects) it is prepared on: a connection Django opens anew
        # is not among them, and one closed leaves (a prepared statement lives and dies with
        # its session; a rollback keeps it).
        self.prepared_on: weakref.WeakSet[Any] = weakref.WeakSet()

    def fetchone(self, params: dict[str, Any]) -> tuple[Any, ...] | None:
        with connection.cursor() as cursor:
            raw = connection.connection
            if raw not in self.prepared_on:
                cursor.execute(self.prepare)
                self.prepared_on.add(raw)
            cursor.execute(self.execute, [params[name] for name in self.names])
            return cursor.fetchone()


# The member row is locked in a CTE, before its tier is joined: a tier change waits for this
# transaction, or this one reads the tier it made (the joined tier row is the one the locked
# member names now, not the one it named when the statement began). The shop's enabled flow of
# "points earned" (one per shop and kind) comes along, for the message. The lines in their own
# order: the entries follow them.
_ORDER_READ_SQL = f"""
    WITH m AS (
        SELECT * FROM {_table(Member)}
        WHERE customer_id = (SELECT customer_id FROM {_table(Order)} WHERE id = %(order_id)s)
        FOR UPDATE
    )
    SELECT {", ".join(columns.sql() for columns in _MODELS)},
           lines.ids, lines.quantities, lines.unit_prices, lines.discounts,
           consents.channels, consents.purposes, consents.statuses
    FROM {_table(Order)} o
    JOIN {_table(Shop)} s ON s.id = o.shop_id
    LEFT JOIN {_table(Customer)} c ON c.id = o.customer_id
    LEFT JOIN {_table(Programme)} p ON p.shop_id = o.shop_id
    LEFT JOIN m ON m.customer_id = o.customer_id
    LEFT JOIN {_table(Tier)} t ON t.id = m.tier_id
    LEFT JOIN {_table(Flow)} f
        ON f.shop_id = o.shop_id AND f.kind = %(kind)s AND f.is_enabled
    CROSS JOIN LATERAL (
        SELECT array_agg(li.id ORDER BY li.id) AS ids,
               array_agg(li.quantity ORDER BY li.id) AS quantities,
               array_agg(li.unit_price ORDER BY li.id) AS unit_prices,
               array_agg(li.discount_total ORDER BY li.id) AS discounts
        FROM {_table(LineItem)} li WHERE li.order_id = o.id
    ) lines
    CROSS JOIN LATERAL (
        SELECT array_agg(cs.channel ORDER BY cs.id) AS channels,
               array_agg(cs.purpose ORDER BY cs.id) AS purposes,
               array_agg(cs.status ORDER BY cs.id) AS statuses
        FROM {_table(Consent)} cs WHERE cs.customer_id = o.customer_id
    ) consents
    WHERE o.id = %(order_id)s
"""  # noqa: S608
_ORDER_READ = _Prepared(
    "loyalty_order_points_read", _ORDER_READ_SQL, {"order_id": "bigint", "kind": "text"}
)

_LINE_FIELDS = ("id", "quantity", "unit_price", "discount_total")
_CONSENT_FIELDS = ("customer_id", "channel", "purpose", "status")


@dataclass(frozen=True)
class OrderRead:
    """The paid order as its points need it: the order with its shop and customer loaded, its
    lines (their totals), the shop's programme, the customer's member row (locked) with its
    tier, and the shop's enabled flow of "points earned"."""

    order: Order
    programme: Programme | None
    member: Member | None
    flow: Flow | None
    lines: list[LineItem]


def _consents_attach(customer: Customer, consents: list[Consent]) -> None:
    # As `prefetch_related_objects` leaves them: `customer.consents.all()` reads no more
    # (the marketing check and the message's channels both ask).
    cached = customer.consents.all()
    cached._result_cache = consents
    cached._prefetch_done = True  # type: ignore[attr-defined]  # Django's own, as it sets it
    customer._prefetched_objects_cache = {"consents": cached}  # type: ignore[attr-defined]


def _partial(model: type[Model], names: tuple[str, ...], values: Sequence[Any]) -> Any:
    # The other fields are left deferred: only these are read on this path.
    by_name = dict(zip(names, values, strict=True))
    ordered = [f.attname for f in model._meta.concrete_fields if f.attname in by_name]
    return model.from_db(connection.alias, ordered, [by_name[name] for name in ordered])


def order_read_locked(order_id: int) -> OrderRead:
    """One statement; in the caller's transaction, which holds the member's lock after it."""
    row = _ORDER_READ.fetchone({"order_id": order_id, "kind": POINTS_EARNED})
    if row is None:
        raise Order.DoesNotExist(f"order {order_id}")
    start = 0
    loaded = []
    for columns in _MODELS:
        loaded.append(columns.load(row, start))
        start += columns.width
    order, shop, customer, programme, member, tier, flow = loaded
    ids, quantities, unit_prices, discounts, channels, purposes, statuses = row[start:]
    order.shop = shop
    order.customer = customer
    if customer is not None:
        customer.shop = shop
        _consents_attach(
            customer,
            [
                _partial(Consent, _CONSENT_FIELDS, (customer.pk, *consent))
                for consent in zip(channels or (), purposes or (), statuses or (), strict=True)
            ],
        )
    if member is not None:
        member.tier = tier
    if flow is not None and not flow.applies_to({}):
        flow = None  # as `flow_enabled_of_kind`: no event payload meets a condition
    lines = [
        _partial(LineItem, _LINE_FIELDS, line)
        for line in zip(
            ids or (), quantities or (), unit_prices or (), discounts or (), strict=True
        )
    ]
    return OrderRead(order=order, programme=programme, member=member, flow=flow, lines=lines)


# The order's earning, its lines, its entries and the member's balance in one statement, all or
# nothing: the earning is made only when the order has none (its order is unique), and the rest
# only with it, so a redelivered event books nothing and learns so from the empty result. The
# entries are pending credits (no lot, no tier to follow: `loyalty.ledger` for the others); the
# ledger's unique (shop, idempotency key) still refuses a key booked before.
_EARNING_BOOK_SQL = f"""
    WITH earning AS (
        INSERT INTO {_table(OrderEarning)}
            (created_at, updated_at, shop_id, member_id, order_id, status, confirm_at)
        VALUES (%(now)s, %(now)s, %(shop_id)s, %(member_id)s, %(order_id)s, 'pending',
                %(confirm_at)s)
        ON CONFLICT (order_id) DO NOTHING
        RETURNING id
    ), lines AS (
        INSERT INTO {_table(LineEarning)}
            (created_at, updated_at, shop_id, earning_id, line_item_id, quantity, points,
             returned_quantity, clawed_back, return_item_ids, written_off)
        SELECT %(now)s, %(now)s, %(shop_id)s, earning.id, line.line_item_id, line.quantity,
               line.points, 0, 0, '{{}}', 0
        FROM earning,
             unnest(%(line_ids)s::bigint[], %(quantities)s::integer[], %(points)s::integer[])
                 AS line (line_item_id, quantity, points)
    ), entries AS (
        INSERT INTO {_table(LedgerEntry)}
            (shop_id, member_id, kind, available_delta, pending_delta, available_after,
             pending_after, subject, subject_id, order_id, reason, written_off, tier_name,
             multiplier, actor_id, api_key_id, idempotency_key, created_at)
        SELECT %(shop_id)s, %(member_id)s, 'earn', 0, entry.pending, %(available)s,
               entry.pending_after, entry.subject, entry.subject_id, %(order_id)s, entry.reason,
               0, %(tier_name)s, %(multiplier)s, NULL, NULL, entry.key, entry.created_at
        FROM earning,
             unnest(%(e_pending)s::integer[], %(e_after)s::integer[], %(e_subject)s::text[],
                    %(e_subject_id)s::bigint[], %(e_reason)s::text[], %(e_key)s::text[],
                    %(e_at)s::timestamptz[])
                 AS entry (pending, pending_after, subject, subject_id, reason, key, created_at)
    ), balance AS (
        UPDATE {_table(Member)} AS member SET pending = %(pending)s, updated_at = %(now)s
        FROM earning
        WHERE member.id = %(member_id)s AND %(moves_points)s
    )
    SELECT id FROM earning
"""  # noqa: S608
_EARNING_BOOK = _Prepared(
    "loyalty_order_points_book",
    _EARNING_BOOK_SQL,
    {
        "now": "timestamptz",
        "shop_id": "bigint",
        "member_id": "bigint",
        "order_id": "bigint",
        "confirm_at": "timestamptz",
        "line_ids": "bigint[]",
        "quantities": "integer[]",
        "points": "integer[]",
        "available": "integer",
        "pending": "integer",
        "moves_points": "boolean",
        "tier_name": "text",
        "multiplier": "numeric",
        "e_pending": "integer[]",
        "e_after": "integer[]",
        "e_subject": "text[]",
        "e_subject_id": "bigint[]",
        "e_reason": "text[]",
        "e_key": "text[]",
        "e_at": "timestamptz[]",
    },
)


@dataclass(frozen=True)
class PendingEntry:
    """One pending credit of the order's earning."""

    key: str
    points: int
    subject: str
    subject_id: int
    reason: str
    at: datetime


@dataclass(frozen=True)
class EarningWrite:
    shop_id: int
    member_id: int
    order_id: int
    now: datetime
    confirm_at: datetime | None
    # Per line: (line item id, quantity, points).
    lines: list[tuple[int, int, int]]
    entries: list[PendingEntry]
    available: int
    pending_before: int
    tier_name: str
    multiplier: Decimal


def earning_book(write: EarningWrite) -> int | None:
    """The new earning's id; None when the order has one already (then nothing is written)."""
    after = write.pending_before
    afters = []
    for entry in write.entries:
        after += entry.points
        afters.append(after)
    params = {
        "now": write.now,
        "shop_id": write.shop_id,
        "member_id": write.member_id,
        "order_id": write.order_id,
        "confirm_at": write.confirm_at,
        "line_ids": [line[0] for line in write.lines],
        "quantities": [line[1] for line in write.lines],
        "points": [line[2] for line in write.lines],
        "available": write.available,
        "pending": after,
        # An earning of no points (a free order) leaves the balance row as it is.
        "moves_points": bool(write.entries),
        "tier_name": write.tier_name,
        "multiplier": write.multiplier,
        "e_pending": [entry.points for entry in write.entries],
        "e_after": afters,
        "e_subject": [entry.subject for entry in write.entries],
        "e_subject_id": [entry.subject_id for entry in write.entries],
        "e_reason": [entry.reason for entry in write.entries],
        "e_key": [entry.key for entry in write.entries],
        "e_at": [entry.at for entry in write.entries],
    }
    row = _EARNING_BOOK.fetchone(params)
    return None if row is None else row[0]
