"""Sortable index tables: which column a list is sorted by, read from the request's `?sort=`.

A list view declares its columns once and gets, in one call, the ordering for its queryset and
the header descriptors `templates/components/table_head.html` renders (links that toggle the
direction, `aria-sort` on the sorted column):

    sort = table_sort(request, columns=ORDER_COLUMNS, default="-placed")
    orders = orders.order_by(*sort.ordering)
    ...render(..., {"sort": sort})

Only the columns given a `key` can be sorted (the whitelist): any other `?sort=` value falls back
to the default, so a hand-edited URL never reaches `order_by`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.http import HttpRequest, QueryDict

SORT_PARAM = "sort"


@dataclass(frozen=True)
class Column:
    """One column of an index table. `key` is its name in the URL (`?sort=placed`, `-placed`)
    and `order_by` the fields it sorts on; a column without a key is not sortable."""

    label: str
    key: str = ""
    order_by: tuple[str, ...] = ()
    numeric: bool = False
    # Dates and amounts read best newest or largest first on the first click.
    descending_first: bool = False
    # A column whose header is for screen readers only (a row's checkbox).
    label_hidden: bool = False


@dataclass(frozen=True)
class SortHeader:
    label: str
    key: str
    numeric: bool
    label_hidden: bool
    # The `?sort=` value the header's link asks for ("" when the column is not sortable).
    next_sort: str
    # "ascending" / "descending" on the sorted column, "" on the others.
    aria_sort: str

    @property
    def is_sortable(self) -> bool:
        return bool(self.key)


@dataclass(frozen=True)
class TableSort:
    current: str  # "-placed": the key, with a leading "-" when descending
    ordering: tuple[str, ...]  # for QuerySet.order_by(*ordering)
    headers: tuple[SortHeader, ...]


def _parse(value: str) -> tuple[str, bool]:
    return value.removeprefix("-"), value.startswith("-")


def _ordering(column: Column, *, descending: bool) -> tuple[str, ...]:
    fields = column.order_by or (column.key,)
    if not descending:
        return fields
    return tuple(
        field.removeprefix("-") if field.startswith("-") else f"-{field}" for field in fields
    )


def table_sort(
    request: HttpRequest | QueryDict | Mapping[str, str],
    *,
    columns: Sequence[Column],
    default: str,
    tiebreaker: str = "pk",
) -> TableSort:
    """The table's sort from `?sort=` (whitelisted by the columns' keys), else `default`.

    The ordering ends with `tiebreaker` so that pages never share or skip a row."""
    params = request.GET if isinstance(request, HttpRequest) else request
    sortable = {column.key: column for column in columns if column.key}
    default_key, _ = _parse(default)
    if default_key not in sortable:
        raise ValueError(f"the default sort {default!r} names no sortable column")
    requested = str(params.get(SORT_PARAM) or "")
    key, descending = _parse(requested)
    if key not in sortable:
        key, descending = _parse(default)
    ordering = _ordering(sortable[key], descending=descending)
    if tiebreaker and tiebreaker.removeprefix("-") not in {f.removeprefix("-") for f in ordering}:
        ordering = (*ordering, f"-{tiebreaker}" if descending else tiebreaker)
    headers = tuple(_header(column, sorted_key=key, descending=descending) for column in columns)
    return TableSort(current=f"-{key}" if descending else key, ordering=ordering, headers=headers)


def _header(column: Column, *, sorted_key: str, descending: bool) -> SortHeader:
    if not column.key:
        next_sort, aria_sort = "", ""
    elif column.key == sorted_key:
        # A second click on the sorted column turns its direction round.
        next_sort = column.key if descending else f"-{column.key}"
        aria_sort = "descending" if descending else "ascending"
    else:
        next_sort = f"-{column.key}" if column.descending_first else column.key
        aria_sort = ""
    return SortHeader(
        label=column.label,
        key=column.key,
        numeric=column.numeric,
        label_hidden=column.label_hidden,
        next_sort=next_sort,
        aria_sort=aria_sort,
    )
