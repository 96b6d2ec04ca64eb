"""What every SQL statement module of the store shares: the open transaction and hygiene.

:class:`Tx` carries the connection, the one "now" of the operation and the backend's
few dialect differences, so statement code reads the same for SQLite and PostgreSQL.
The helpers below keep secrets and third-party exceptions out of what the store hands
back.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Row, Select, Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from centrasync.errors import CentrasyncError, RecordValidationError, RetryLaterError, redact
from centrasync.store.base import Json, RecordKind, RecordRef

__all__ = ["Tx", "check_ref", "check_text", "clean", "ref_of", "scrub", "translated"]

_SECRET_KEY = re.compile(r"(?i)password|secret|token|authorization|api[-_]?key")
_TRANSIENT = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)


@dataclass(frozen=True, slots=True)
class Tx:
    """One open transaction, the time it acts at, and which backend it talks to."""

    conn: AsyncConnection
    now: datetime
    postgres: bool

    def insert_ignoring(
        self, table: Table, conflict: Sequence[str], values: Mapping[str, Any]
    ) -> Insert:
        """``INSERT … ON CONFLICT DO NOTHING``: a lost race becomes a no-op, not an error."""
        if self.postgres:
            return pg_insert(table).values(values).on_conflict_do_nothing(index_elements=conflict)
        return sqlite_insert(table).values(values).on_conflict_do_nothing(index_elements=conflict)

    def locked(self, query: Select[Any], *, skip_locked: bool = False) -> Select[Any]:
        """Lock the selected rows until commit.

        SQLite has no row locks and needs none: ``BEGIN IMMEDIATE`` already made this
        transaction the only writer.
        """
        return query.with_for_update(skip_locked=skip_locked) if self.postgres else query

    async def one_or_none(self, query: Select[Any]) -> Row[Any] | None:
        row: Row[Any] | None = (await self.conn.execute(query)).one_or_none()
        return row


@asynccontextmanager
async def translated() -> AsyncIterator[None]:
    """Turn SQLAlchemy and driver errors into the project's error tree."""
    try:
        yield
    except _TRANSIENT as exc:
        raise RetryLaterError(
            f"state store unavailable: {_describe(exc)}", system="state store"
        ) from exc
    except sa_exc.SQLAlchemyError as exc:
        raise CentrasyncError(
            f"state store failed: {_describe(exc)}", system="state store"
        ) from exc


def _describe(exc: sa_exc.SQLAlchemyError) -> str:
    # The driver's own message without SQLAlchemy's rendering of statement parameters,
    # which would copy payloads into logs.
    origin = getattr(exc, "orig", None) or exc
    first_line = (str(origin).strip().splitlines() or [""])[0]
    return f"{type(origin).__name__}: {first_line}"


def scrub(payload: Json) -> Json:
    """Mask credentials a payload might carry, so the store never holds a secret."""
    if isinstance(payload, dict):
        return {
            k: "***" if _SECRET_KEY.search(k) and v is not None else scrub(v)
            for k, v in payload.items()
        }
    if isinstance(payload, list):
        return [scrub(v) for v in payload]
    if isinstance(payload, str):
        return redact(payload)
    return payload


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
    check_text(ref.store, limit=64, record=str(ref), field="store")
    check_text(ref.key, limit=255, record=str(ref), field="key")
    return ref


def ref_of(row: Row[Any], key_column: str) -> RecordRef:
    """The record a row refers to, from its ``store``, ``kind`` and key columns."""
    return RecordRef(row.store, RecordKind(row.kind), row._mapping[key_column])
