"""What every SQL statement module of the store shares: the open transaction and hygiene.

Statements are plain SQL text run on the driver's own connection. SQLAlchemy Core built,
compiled and processed every statement again on each call, which cost many times what
SQLite itself needs (docs/performance.md). :class:`Tx` keeps the few backend differences
(parameter style, how timestamps and JSON travel, row locks) in one place, so statement
code reads the same for SQLite and PostgreSQL. :class:`Columns` takes column names and
lengths from the tables of ``schema.py``, which the migrations are tested against, once at
import: the statement text cannot drift from the schema, and no statement is compiled per
call. The helpers below keep secrets and third-party exceptions out of what the store hands
back.
"""

from __future__ import annotations

import json
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

import psycopg
from sqlalchemy import String, Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.util import await_only

from centrasync.errors import CentrasyncError, RecordValidationError, RetryLaterError, redact
from centrasync.store import schema
from centrasync.store.base import Json, RecordKind, RecordRef

__all__ = [
    "Columns",
    "PostgresTx",
    "SqliteTx",
    "Tx",
    "check_ref",
    "check_text",
    "clean",
    "dumped",
    "in_chunks",
    "scrub",
    "translated",
    "translating",
]

Params = Mapping[str, Any]
V = TypeVar("V")

_SECRET_KEY = re.compile(r"(?i)password|secret|token|authorization|api[-_]?key")
_TRANSIENT = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    # The store's own PostgreSQL calls run on psycopg directly (backends.py); its pool's
    # timeout is an OperationalError too.
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
# Placeholders are written ``:name``; a ``::`` cast would not be one, so none is used.
_PLACEHOLDER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
# SQLite's default limit on bound variables is 32,766; staying far below leaves room.
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Columns:
    """One table of ``schema.py`` as statement text, read off the table once at import."""

    table: str
    names: tuple[str, ...]
    listed: str
    """Every column, in the order :meth:`row` reads them: for ``SELECT`` and ``RETURNING``."""
    select: str
    """``SELECT`` :attr:`listed` ``FROM`` the table."""
    lengths: Mapping[str, int]

    @classmethod
    def of(cls, table: Table) -> Columns:
        names = tuple(column.name for column in table.columns)
        lengths = {
            column.name: column.type.length
            for column in table.columns
            if isinstance(column.type, String) and column.type.length is not None
        }
        listed = ", ".join(names)
        return cls(table.name, names, listed, f"SELECT {listed} FROM {table.name}", lengths)

    def row(self, values: Sequence[Any]) -> dict[str, Any]:
        """A row selected or returned as :attr:`listed`, by column name."""
        return dict(zip(self.names, values, strict=True))

    def insert(self, *names: str) -> str:
        """``INSERT INTO <table> (<names>) VALUES (:<names>)``: parameters named as columns."""
        self._known(names)
        return (
            f"INSERT INTO {self.table} ({', '.join(names)}) "
            f"VALUES ({', '.join(f':{name}' for name in names)})"
        )

    def length(self, name: str) -> int:
        """The most characters column ``name`` holds."""
        self._known((name,))
        if name not in self.lengths:
            raise ValueError(f"column {self.table}.{name} has no length")
        return self.lengths[name]

    def _known(self, names: Sequence[str]) -> None:
        unknown = [name for name in names if name not in self.names]
        if unknown:
            raise ValueError(f"table {self.table} has no column {', '.join(unknown)}")


LEDGER_RECORDS = Columns.of(schema.ledger_records)


class Tx(ABC):
    """One open transaction, the time it acts at, and the backend's dialect differences.

    ``now`` is the single "now" of one store call, so every row it writes agrees.
    """

    postgres: bool = False

    def __init__(self, now: datetime) -> None:
        self.now = now

    def lease_now(self) -> datetime:
        """The time leases are judged by: the database's own clock where it has one.

        Several hosts share a PostgreSQL store, and their clocks differ; the server's is
        the one all of them see. SQLite lives on one host, whose clock is ``now``.
        """
        return self.now

    @abstractmethod
    def rows(self, sql: str, params: Params) -> list[Sequence[Any]]:
        """Run ``sql`` (``:name`` placeholders) and return every row as a tuple."""

    @abstractmethod
    def run(self, sql: str, params: Params) -> int:
        """Run a statement that returns no rows; the number of rows it changed."""

    @abstractmethod
    def time(self, value: Any) -> datetime:
        """A timestamp column's value as an aware UTC datetime."""

    @abstractmethod
    def loaded(self, value: Any) -> Json:
        """A JSON column's value as Python data."""

    def one_or_none(self, sql: str, params: Params) -> Sequence[Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def maybe_time(self, value: Any) -> datetime | None:
        return None if value is None else self.time(value)

    @property
    def for_update(self) -> str:
        """Lock the selected rows until commit.

        SQLite has no row locks and needs none: ``BEGIN IMMEDIATE`` already made this
        transaction the only writer.
        """
        return " FOR UPDATE" if self.postgres else ""

    @property
    def for_update_skip_locked(self) -> str:
        return " FOR UPDATE SKIP LOCKED" if self.postgres else ""

    def unindexed(self, column: str) -> str:
        """``column`` in a form SQLite will neither search nor order through an index on it.

        SQLite plans without knowing how rows spread over states: asked for a few states in
        key order, it walks the (store, kind, key) index through the whole ledger to save a
        sort, however few rows are in those states. A unary plus keeps it on the (store,
        kind, state, key) index. PostgreSQL weighs both by its statistics and needs no hint.
        """
        return column if self.postgres else f"+{column}"

    @property
    def for_share(self) -> str:
        """Keep others from changing the selected rows until commit (SQLite: see above)."""
        return " FOR SHARE" if self.postgres else ""


def dumped(value: Json) -> str:
    """A JSON column's value as stored: ``None`` becomes JSON ``null``, as SQLAlchemy did."""
    return json.dumps(value)


class SqliteTx(Tx):
    """A transaction on a :mod:`sqlite3` connection, run in the store's own thread.

    Timestamps are kept as naive UTC text in SQLAlchemy's format
    (``2026-03-29 01:30:15.123456``), which sorts and compares correctly because every
    row uses the same zone and layout, and which databases written before still hold.
    """

    def __init__(self, conn: sqlite3.Connection, now: datetime) -> None:
        super().__init__(now)
        self._conn = conn

    def rows(self, sql: str, params: Params) -> list[Sequence[Any]]:
        return self._conn.execute(sql, _sqlite_params(params)).fetchall()

    def run(self, sql: str, params: Params) -> int:
        return self._conn.execute(sql, _sqlite_params(params)).rowcount

    def time(self, value: Any) -> datetime:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    def loaded(self, value: Any) -> Json:
        return None if value is None else json.loads(value)


class PostgresTx(Tx):
    """A transaction on a psycopg connection to PostgreSQL, run inside a greenlet.

    The statement functions are synchronous; the backend runs them in a greenlet
    (SQLAlchemy's bridge), where each statement awaits the asynchronous connection. The
    statement text goes to the driver as it is, on one cursor for the whole call; psycopg
    turns aware datetimes into ``timestamptz``, parses ``json`` columns itself and prepares
    a statement on the server once a connection has run it a few times.
    """

    postgres = True

    def __init__(
        self,
        conn: psycopg.AsyncConnection[Any],
        now: datetime,
        *,
        database_clock: bool = True,
        begin: bool = False,
    ) -> None:
        super().__init__(now)
        self._conn = conn
        self._cursor = conn.cursor()
        self._database_clock = database_clock
        self.begin_pending = begin
        """``BEGIN`` is still to be said: it travels with the first statement."""

    def lease_now(self) -> datetime:
        if not self._database_clock:
            return self.now
        return self.time(self.rows("SELECT now()", {})[0][0])

    def rows(self, sql: str, params: Params) -> list[Sequence[Any]]:
        cursor = self._execute(sql, params)
        rows: list[Sequence[Any]] = await_only(cursor.fetchall())
        return rows

    def run(self, sql: str, params: Params) -> int:
        return self._execute(sql, params).rowcount

    def _execute(self, sql: str, params: Params) -> psycopg.AsyncCursor[Any]:
        """Run one statement; the first of a writing call opens its transaction with it.

        ``BEGIN`` on its own is a round trip that answers nothing. Sent with the first
        statement as one simple query (psycopg binds that statement's values on the client,
        as the simple protocol needs), it costs none, and nothing is left waiting between
        the two: a process stopped after it holds no transaction the server thinks is still
        being sent, so ``idle_in_transaction_session_timeout`` ends it as before.
        """
        if not self.begin_pending:
            await_only(self._cursor.execute(_pyformat(sql), params))
            return self._cursor
        self.begin_pending = False
        first = psycopg.AsyncClientCursor(self._conn)
        await_only(first.execute("BEGIN; " + _pyformat(sql), params))
        first.nextset()
        return first

    def time(self, value: Any) -> datetime:
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        return value.astimezone(UTC)

    def loaded(self, value: Any) -> Json:
        loaded: Json = value
        return loaded


def _sqlite_params(params: Params) -> dict[str, Any]:
    return {
        name: _sqlite_time(value) if isinstance(value, datetime) else value
        for name, value in params.items()
    }


def _sqlite_time(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} cannot be stored")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


@lru_cache(maxsize=512)
def _pyformat(sql: str) -> str:
    return _PLACEHOLDER.sub(r"%(\1)s", sql)


def in_chunks(values: Sequence[V], prefix: str) -> Iterator[tuple[str, dict[str, V]]]:
    """``(placeholders, params)`` for ``IN (…)`` lists of at most 500 values each."""
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        names = [f"{prefix}{index}" for index in range(len(chunk))]
        yield ", ".join(f":{name}" for name in names), dict(zip(names, chunk, strict=True))


@asynccontextmanager
async def translated() -> AsyncIterator[None]:
    """Turn SQLAlchemy and driver errors into the project's error tree."""
    with translating():
        yield


@contextmanager
def translating() -> Iterator[None]:
    """:func:`translated` for synchronous code."""
    try:
        yield
    except (*_TRANSIENT, sqlite3.OperationalError) as exc:
        raise RetryLaterError(
            f"state store unavailable: {_describe(exc)}", system="state store"
        ) from exc
    except sa_exc.DBAPIError as exc:
        # The server ended the connection (a transaction left idle past the stall timeout,
        # an administrator): nothing of the transaction committed; the next call reconnects.
        if exc.connection_invalidated:
            raise RetryLaterError(
                f"state store connection lost: {_describe(exc)}", system="state store"
            ) from exc
        raise CentrasyncError(
            f"state store failed: {_describe(exc)}", system="state store"
        ) from exc
    except psycopg.Error as exc:
        # As above, for the store's own calls on psycopg (backends.py): a FATAL error is
        # the server ending the session.
        if exc.diag.severity_nonlocalized in ("FATAL", "PANIC"):
            raise RetryLaterError(
                f"state store connection lost: {_describe(exc)}", system="state store"
            ) from exc
        raise CentrasyncError(
            f"state store failed: {_describe(exc)}", system="state store"
        ) from exc
    except (sa_exc.SQLAlchemyError, sqlite3.Error) as exc:
        raise CentrasyncError(
            f"state store failed: {_describe(exc)}", system="state store"
        ) from exc


def _describe(exc: Exception) -> str:
    # The driver's own message without SQLAlchemy's rendering of statement parameters,
    # which would copy payloads into logs.
    origin = getattr(exc, "orig", None) or exc
    first_line = (str(origin).strip().splitlines() or [""])[0]
    return f"{type(origin).__name__}: {first_line}"


def scrub(payload: Json) -> Json:
    """Mask credentials a payload might carry, so the store never holds a secret."""
    if isinstance(payload, dict):
        return {
            k: "***" if _secret_key(k) and v is not None else scrub(v) for k, v in payload.items()
        }
    if isinstance(payload, list):
        return [scrub(v) for v in payload]
    if isinstance(payload, str):
        return redact(payload)
    return payload


@lru_cache(maxsize=1024)
def _secret_key(key: str) -> bool:
    """Whether a payload key names a credential; the same few keys recur in every payload."""
    return _SECRET_KEY.search(key) is not None


def clean(text: str | None) -> str | None:
    """Free text (errors, notes, reasons) with credentials masked."""
    return None if text is None else redact(text)


def check_text(value: str, *, limit: int, record: str, field: str) -> str:
    """Refuse empty or over-long identifiers before the database truncates or rejects them."""
    if not value or len(value) > limit:
        raise RecordValidationError(
            f"must be 1 to {limit} characters, got {len(value)}", record=record, field=field
        )
    return value


def check_ref(ref: RecordRef) -> RecordRef:
    if not isinstance(ref.kind, RecordKind):
        raise RecordValidationError(f"unknown kind {ref.kind!r}", record=str(ref), field="kind")
    check_text(ref.store, limit=LEDGER_RECORDS.length("store"), record=str(ref), field="store")
    check_text(ref.key, limit=LEDGER_RECORDS.length("key"), record=str(ref), field="key")
    return ref
