"""The SQL :class:`~centrasync.store.base.StateStore` for SQLite and PostgreSQL.

One class serves both backends through SQLAlchemy Core. It owns transactions and the
clock; the statements live in ``ledger.py`` and ``coordination.py`` and run inside the
:class:`~centrasync.store.sqlcore.Tx` handed to them, which is what lets
:meth:`SqlStateStore.transaction` commit calls from both together.

Races on the same key are settled by the database, never by a read-then-insert in
Python: the insert that loses does nothing, and the loser re-reads the winner's row.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from centrasync.store import coordination, ledger, migrate
from centrasync.store.base import (
    Cursor,
    DeadLetter,
    Effect,
    EffectBegin,
    InboxItem,
    Json,
    LedgerRecord,
    RecordKind,
    RecordRef,
    StateStore,
    Transition,
    require_utc,
)
from centrasync.store.engine import create_store_engine
from centrasync.store.sqlcore import Tx, clean, translated

__all__ = ["Clock", "SqlStateStore", "open_store", "utc_now"]

Clock = Callable[[], datetime]

# Ids of the stores whose transaction the current task is inside. Using the outer store
# there would wait forever on its own lock (SQLite) or its own row locks (PostgreSQL).
_OPEN_TRANSACTIONS: ContextVar[frozenset[int]] = ContextVar(
    "centrasync_store_transactions", default=frozenset()
)


def utc_now() -> datetime:
    return datetime.now(UTC)


async def open_store(url: str, *, clock: Clock = utc_now) -> StateStore:
    """Open the store at ``url``, migrating the database to the newest schema first.

    ``sqlite+aiosqlite:///state.sqlite`` (the embedded default),
    ``sqlite+aiosqlite:///:memory:`` (tests) or ``postgresql+psycopg://host:5432/db``.
    """
    engine = create_store_engine(url)
    try:
        async with translated():
            await migrate.upgrade(engine)
    except BaseException:
        await engine.dispose()
        raise
    return SqlStateStore(engine, clock=clock)


@dataclass(frozen=True, slots=True)
class _Shared:
    """What every view of one store shares: the engine, the clock and the SQLite lock."""

    engine: AsyncEngine
    clock: Clock
    # SQLite has one writer at a time anyway, and an in-memory database has a single
    # connection; queueing coroutines here beats making them spin on "database is locked".
    lock: asyncio.Lock | None


class SqlStateStore:
    """:class:`StateStore` over an :class:`~sqlalchemy.ext.asyncio.AsyncEngine`.

    ``clock`` supplies "now" for timestamps, claims and lease expiry, so tests move time
    instead of sleeping.
    """

    def __init__(self, engine: AsyncEngine, *, clock: Clock = utc_now) -> None:
        lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self._shared = _Shared(engine, clock, lock)
        self._conn: AsyncConnection | None = None

    @classmethod
    def _bound(cls, shared: _Shared, conn: AsyncConnection) -> SqlStateStore:
        store = cls.__new__(cls)
        store._shared = shared
        store._conn = conn
        return store

    @property
    def engine(self) -> AsyncEngine:
        """The engine underneath, for migrations and read-only diagnostics."""
        return self._shared.engine

    def __repr__(self) -> str:
        url = self._shared.engine.url.render_as_string(hide_password=True)
        scope = " (in transaction)" if self._conn is not None else ""
        return f"<SqlStateStore {url}{scope}>"

    # -- transactions ---------------------------------------------------------------------

    @asynccontextmanager
    async def _begin(self) -> AsyncIterator[AsyncConnection]:
        shared = self._shared
        open_now = _OPEN_TRANSACTIONS.get()
        if id(shared) in open_now:
            raise RuntimeError(
                "state store used directly inside its own transaction(); "
                "call the store yielded by transaction() instead"
            )
        token = _OPEN_TRANSACTIONS.set(open_now | {id(shared)})
        guard: AbstractAsyncContextManager[Any] = shared.lock or nullcontext()
        try:
            async with guard, translated(), shared.engine.begin() as conn:
                yield conn
        finally:
            _OPEN_TRANSACTIONS.reset(token)

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[Tx]:
        """The transaction one call runs in: the enclosing one, or its own."""
        postgres = self._shared.engine.dialect.name == "postgresql"
        if self._conn is not None:
            async with translated():
                yield Tx(self._conn, self._now(), postgres)
            return
        async with self._begin() as conn:
            yield Tx(conn, self._now(), postgres)

    def _now(self) -> datetime:
        return require_utc(self._shared.clock(), record="state store clock", field="now")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[StateStore]:
        """Commit every call made on the yielded store together, or none of them."""
        if self._conn is not None:
            yield self
            return
        async with self._begin() as conn:
            yield SqlStateStore._bound(self._shared, conn)

    async def close(self) -> None:
        await self._shared.engine.dispose()

    # -- ledger ---------------------------------------------------------------------------

    async def upsert_record(
        self,
        ref: RecordRef,
        *,
        centra_id: str | None = None,
        wms_id: str | None = None,
        initial_state: str = "new",
    ) -> LedgerRecord:
        async with self._tx() as tx:
            return await ledger.upsert_record(
                tx, ref, centra_id=centra_id, wms_id=wms_id, initial_state=initial_state
            )

    async def transition(
        self,
        ref: RecordRef,
        to_state: str,
        *,
        note: str | None = None,
        request: Json = None,
        response: Json = None,
        error: str | None = None,
    ) -> LedgerRecord:
        async with self._tx() as tx:
            return await ledger.transition(
                tx, ref, to_state, note=note, request=request, response=response, error=error
            )

    async def get_record(self, ref: RecordRef) -> LedgerRecord | None:
        async with self._tx() as tx:
            return await ledger.get_record(tx, ref)

    async def list_records(
        self,
        store: str,
        *,
        kind: RecordKind | None = None,
        state: str | None = None,
        limit: int = 100,
    ) -> list[LedgerRecord]:
        async with self._tx() as tx:
            return await ledger.list_records(tx, store, kind=kind, state=state, limit=limit)

    async def history(self, ref: RecordRef) -> list[Transition]:
        async with self._tx() as tx:
            return await ledger.history(tx, ref)

    # -- effects --------------------------------------------------------------------------

    async def begin_effect(self, key: str, record: RecordRef, intent: Json) -> EffectBegin:
        async with self._tx() as tx:
            return await ledger.begin_effect(tx, key, record, intent)

    async def complete_effect(self, key: str, outcome: Json) -> Effect:
        async with self._tx() as tx:
            return await ledger.complete_effect(tx, key, outcome)

    async def fail_effect(self, key: str, error: str) -> Effect:
        async with self._tx() as tx:
            return await ledger.fail_effect(tx, key, error)

    async def get_effect(self, key: str) -> Effect | None:
        async with self._tx() as tx:
            return await ledger.get_effect(tx, key)

    # -- cursors --------------------------------------------------------------------------

    async def get_cursor(self, store: str, flow: str) -> Cursor | None:
        async with self._tx() as tx:
            return await coordination.get_cursor(tx, store, flow)

    async def advance_cursor(
        self, store: str, flow: str, value: datetime, boundary_ids: Sequence[str] = ()
    ) -> Cursor:
        async with self._tx() as tx:
            return await coordination.advance_cursor(tx, store, flow, value, boundary_ids)

    # -- webhook inbox --------------------------------------------------------------------

    async def add_to_inbox(
        self, store: str, dedup_key: str, body: bytes, *, received_at: datetime | None = None
    ) -> bool:
        async with self._tx() as tx:
            return await coordination.add_to_inbox(tx, store, dedup_key, body, received_at)

    async def claim_inbox(
        self, store: str, limit: int, *, claim_for: timedelta = timedelta(minutes=5)
    ) -> list[InboxItem]:
        async with self._tx() as tx:
            return await coordination.claim_inbox(tx, store, limit, claim_for)

    async def mark_inbox_processed(self, item_id: int) -> None:
        async with self._tx() as tx:
            values = {"processed_at": tx.now, "claimed_until": None, "error": None}
            await coordination.update_inbox_item(tx, item_id, values)

    async def mark_inbox_failed(self, item_id: int, error: str) -> None:
        async with self._tx() as tx:
            values = {"claimed_until": None, "error": clean(error)}
            await coordination.update_inbox_item(tx, item_id, values)

    async def inbox_backlog(self, store: str) -> int:
        async with self._tx() as tx:
            return await coordination.inbox_backlog(tx, store)

    # -- dead letters ---------------------------------------------------------------------

    async def park(self, record: RecordRef, reason: str, payload: Json = None) -> DeadLetter:
        async with self._tx() as tx:
            return await coordination.park(tx, record, reason, payload)

    async def list_dead(
        self, store: str, *, include_resolved: bool = False, limit: int = 100
    ) -> list[DeadLetter]:
        async with self._tx() as tx:
            return await coordination.list_dead(
                tx, store, include_resolved=include_resolved, limit=limit
            )

    async def resolve_dead(self, dead_letter_id: int) -> bool:
        async with self._tx() as tx:
            return await coordination.resolve_dead(tx, dead_letter_id)

    # -- leases ---------------------------------------------------------------------------

    async def acquire_lease(self, name: str, owner: str, ttl: timedelta) -> bool:
        async with self._tx() as tx:
            return await coordination.acquire_lease(tx, name, owner, ttl)

    async def renew_lease(self, name: str, owner: str, ttl: timedelta) -> bool:
        async with self._tx() as tx:
            return await coordination.renew_lease(tx, name, owner, ttl)

    async def release_lease(self, name: str, owner: str) -> bool:
        async with self._tx() as tx:
            return await coordination.release_lease(tx, name, owner)
