"""Where the store's statements run: SQLite in a thread of its own, PostgreSQL via psycopg.

A statement function (``ledger.py``, ``coordination.py``) is plain synchronous code over a
:class:`~centrasync.store.sqlcore.Tx`. A backend runs it inside a transaction: either one of
its own (``run``), or the open one of :meth:`SqlStateStore.transaction` (``session``).

**SQLite** keeps one :mod:`sqlite3` connection in one worker thread and hands it whole
store calls, so a call costs one hop between the event loop and that thread. Through
aiosqlite every cursor, execute, fetch, close, BEGIN and COMMIT was a hop of its own (about
ten per statement, ~25 µs each), which made a ledger write cost ~1.8 ms. Blocking the
event loop instead is not an option: a second writer (another process, or a second store
on the same file) makes ``BEGIN IMMEDIATE`` wait up to the busy timeout, and it must wait
without stopping the loop its lock holder may be running on.

**PostgreSQL** runs the same functions through SQLAlchemy's greenlet bridge
(``AsyncConnection.run_sync``): every statement is a network round trip anyway.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from centrasync.store.engine import SQLITE_BUSY_TIMEOUT_MS
from centrasync.store.sqlcore import PostgresTx, SqliteTx, Tx, translated, translating

__all__ = ["Backend", "PostgresBackend", "Session", "SqliteBackend"]

T = TypeVar("T")
Work = Callable[[Tx], T]


class Session(Protocol):
    """An open transaction that store calls join until the session ends."""

    async def run(self, work: Work[T], now: datetime) -> T: ...


class Backend(Protocol):
    def begin(self) -> AbstractAsyncContextManager[Session]:
        """Open a transaction that the session's calls join; commit it at the end."""
        ...

    async def run(self, work: Work[T], now: datetime, *, write: bool) -> T:
        """Run ``work`` in a transaction of its own, committed before this returns."""
        ...

    async def close(self) -> None: ...


class SqliteBackend:
    """One SQLite connection, used only from one worker thread.

    ``target`` is what :func:`sqlite3.connect` takes (a path, or a ``file:`` URI when
    ``uri``). Writing calls take the write lock at once (``BEGIN IMMEDIATE``); without
    it a read-then-write (acquire a lease, claim the inbox) would not be atomic.
    """

    def __init__(self, target: str, *, uri: bool, wal: bool) -> None:
        self._target = target
        self._uri = uri
        self._wal = wal
        self._conn: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="centrasync-sqlite")

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(
                self._target,
                uri=self._uri,
                isolation_level=None,
                timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
            )
            if self._wal:
                # In WAL mode NORMAL still survives a killed process (every commit is in
                # the WAL file); only an OS crash or power loss can drop the last commits.
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys=ON")
            self._conn = conn
        return self._conn

    async def _hop(self, task: Callable[[sqlite3.Connection], T]) -> T:
        def in_thread() -> T:
            with translating():
                return task(self._connection())

        return await asyncio.get_running_loop().run_in_executor(self._thread, in_thread)

    async def open(self) -> None:
        """Connect now, so an in-memory database exists before anything else opens it."""
        await self._hop(lambda conn: None)

    async def run(self, work: Work[T], now: datetime, *, write: bool) -> T:
        def own(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                result = work(SqliteTx(conn, now))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await self._hop(own)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Session]:
        session = _SqliteSession(self)
        try:
            yield session
        except BaseException:
            if session.begun:
                await self._hop(_rollback)
            raise
        if session.begun:
            await self._hop(_commit)

    async def close(self) -> None:
        def disconnect(conn: sqlite3.Connection) -> None:
            conn.close()
            self._conn = None

        if self._conn is not None:
            await self._hop(disconnect)
        self._thread.shutdown(wait=True)


def _commit(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("COMMIT")


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


class _SqliteSession:
    """The open transaction of one ``transaction()`` block.

    ``BEGIN IMMEDIATE`` travels with the first call, so a block costs one hop per call
    plus the commit, and an empty block costs nothing.
    """

    def __init__(self, backend: SqliteBackend) -> None:
        self._backend = backend
        self.begun = False

    async def run(self, work: Work[T], now: datetime) -> T:
        first = not self.begun
        self.begun = True

        def joined(conn: sqlite3.Connection) -> T:
            if first:
                conn.execute("BEGIN IMMEDIATE")
            return work(SqliteTx(conn, now))

        return await self._backend._hop(joined)


class PostgresBackend:
    """The async SQLAlchemy engine on psycopg; statements run through ``run_sync``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def run(self, work: Work[T], now: datetime, *, write: bool) -> T:
        async with translated(), self._engine.begin() as conn:
            return await conn.run_sync(lambda sync: work(PostgresTx(sync, now)))

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Session]:
        async with translated(), self._engine.begin() as conn:
            yield _PostgresSession(conn)

    async def close(self) -> None:
        """The engine is disposed by its owner."""


class _PostgresSession:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def run(self, work: Work[T], now: datetime) -> T:
        async with translated():
            return await self._conn.run_sync(lambda sync: work(PostgresTx(sync, now)))
