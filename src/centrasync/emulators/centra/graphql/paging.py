"""Sorting and the two paging forms: ``limit``/``page`` lists and Relay connections.

A connection's cursor is base64 of ``<sort field>:<value>`` (the docs' example decodes to
``number:166``), followed by ``;<id field>:<id>`` when the sort field is not the object's
identity, so it points at a place in the sort order rather than at a row: paging stays
stable while rows come and go, as Centra's docs promise [I: format beyond the example].
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote, unquote

from graphql import GraphQLError

__all__ = [
    "MAX_LIMIT",
    "Connection",
    "Sorter",
    "decode_cursor",
    "descending",
    "encode_cursor",
    "page_of",
]

T = TypeVar("T")
SortKey = int | str

MAX_LIMIT = 200
# [I] A connection asked for neither first nor last returns this many.
DEFAULT_CONNECTION_SIZE = 20


def _limit_error() -> GraphQLError:
    return GraphQLError("Limit must be in range 1 - 200", extensions={"category": "user"})


def descending(sort: Sequence[str] | None) -> bool:
    """Whether a sort argument's first entry is a ``_DESC`` one."""
    return bool(sort) and sort is not None and sort[0].endswith("_DESC")


def page_of(items: Sequence[T], limit: int | None, page: int | None) -> list[T]:
    """One page of a list query: ``limit`` 1-200 rows, ``page`` counted from 1."""
    size = 20 if limit is None else limit
    number = 1 if page is None else page
    if not 1 <= size <= MAX_LIMIT:
        raise _limit_error()
    if number < 1:
        raise GraphQLError("Page must be 1 or more", extensions={"category": "user"})
    start = (number - 1) * size
    return list(items[start : start + size])


@dataclass(frozen=True)
class Sorter(Generic[T]):
    """How one type sorts: a key per sortable field, and the field that identifies a row."""

    keys: dict[str, Callable[[T], SortKey]]
    identity: str
    ordering: dict[str, Callable[[T], Any]] = dataclasses.field(default_factory=dict)
    """Cheaper keys in the same order as ``keys`` (an aware datetime for its UTC text), for
    sorting only: a page of a 100,000-order history sorts all of it."""

    def order(self, items: Sequence[T], sort: Sequence[str] | None) -> tuple[list[T], str, bool]:
        """Rows in the first sort's order (ties by identity); also that field and direction."""
        name, descending = _parse_sort(sort[0] if sort else f"{self.identity}_ASC")
        if name not in self.keys:
            raise GraphQLError(f"Cannot sort by {name}", extensions={"category": "user"})
        first, ident = self.ordering.get(name, self.keys[name]), self.keys[self.identity]
        ordered = sorted(items, key=lambda item: (first(item), ident(item)), reverse=descending)
        return ordered, name, descending

    def key(self, item: T, field: str) -> tuple[SortKey, SortKey]:
        return self.keys[field](item), self.keys[self.identity](item)


def _parse_sort(value: str) -> tuple[str, bool]:
    field, _, direction = value.rpartition("_")
    return field, direction == "DESC"


def encode_cursor(field: str, value: SortKey, identity: str, ident: SortKey) -> str:
    first = f"{field}:{quote(str(value), safe='')}"
    text = first if field == identity else f"{first};{identity}:{quote(str(ident), safe='')}"
    return base64.b64encode(text.encode()).decode()


def decode_cursor(cursor: str) -> list[tuple[str, str]]:
    """The ``(field, value)`` pairs of a cursor; a malformed one is the client's error."""
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        pairs = [tuple(part.split(":", 1)) for part in text.split(";")]
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pairs = []
    if not pairs or any(len(pair) != 2 for pair in pairs):
        raise GraphQLError(f"Invalid cursor {cursor!r}", extensions={"category": "user"})
    return [(pair[0], unquote(pair[1])) for pair in pairs]


@dataclass
class Connection(Generic[T]):
    """A Relay connection over sorted rows: ``edges``, ``page_info`` and ``total_count``."""

    rows: list[tuple[str, T]]
    total_count: int
    has_next: bool
    has_previous: bool

    @property
    def edges(self) -> list[dict[str, Any]]:
        return [{"cursor": cursor, "node": node} for cursor, node in self.rows]

    @property
    def page_info(self) -> dict[str, Any]:
        return {
            "has_next_page": self.has_next,
            "has_previous_page": self.has_previous,
            "start_cursor": self.rows[0][0] if self.rows else None,
            "end_cursor": self.rows[-1][0] if self.rows else None,
        }

    @classmethod
    def build(
        cls,
        sorter: Sorter[T],
        items: Sequence[T],
        sort: Sequence[str] | None,
        first: int | None,
        after: str | None,
        last: int | None,
        before: str | None,
    ) -> Connection[T]:
        for size in (first, last):
            if size is not None and not 0 <= size <= MAX_LIMIT:
                raise _limit_error()
        ordered, field, descending = sorter.order(items, sort)
        keys = [sorter.key(item, field) for item in ordered]
        start, end = 0, len(ordered)
        if after is not None and keys:
            bound = _cursor_key(decode_cursor(after), field, sorter, keys)
            start = next((i for i, k in enumerate(keys) if _beyond(k, bound, descending)), end)
        if before is not None and keys:
            bound = _cursor_key(decode_cursor(before), field, sorter, keys)
            end = next((i for i, k in enumerate(keys) if not _beyond(bound, k, descending)), end)
            end = max(end, start)
        if first is None and last is None:
            first = DEFAULT_CONNECTION_SIZE
        if first is not None:
            end = min(end, start + first)
        if last is not None:
            start = max(start, end - last)
        rows = [
            (
                encode_cursor(field, keys[i][0], sorter.identity, keys[i][1]),
                ordered[i],
            )
            for i in range(start, end)
        ]
        return cls(rows, len(ordered), has_next=end < len(ordered), has_previous=start > 0)


def _beyond(key: tuple[SortKey, SortKey], bound: tuple[SortKey, SortKey], desc: bool) -> bool:
    """Whether ``key`` comes after ``bound`` in the sort order."""
    return key < bound if desc else key > bound


def _cursor_key(
    pairs: list[tuple[str, str]],
    field: str,
    sorter: Sorter[Any],
    keys: list[tuple[SortKey, SortKey]],
) -> tuple[SortKey, SortKey]:
    """The place a cursor names, its values typed like the rows' keys."""
    values = dict(pairs)
    if field not in values or (field != sorter.identity and sorter.identity not in values):
        raise GraphQLError(
            f"The cursor was made for another sort than {field}", extensions={"category": "user"}
        )
    sample = keys[0]
    return (
        _typed(values[field], sample[0]),
        _typed(values[sorter.identity], sample[1]),
    )


def _typed(text: str, like: SortKey) -> SortKey:
    if isinstance(like, int):
        try:
            return int(text)
        except ValueError:
            raise GraphQLError("Invalid cursor", extensions={"category": "user"}) from None
    return text
