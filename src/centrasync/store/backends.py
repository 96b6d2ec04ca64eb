"""Where the store's statements run: SQLite in a thread of its own, PostgreSQL via psycopg.

A statement function (``ledger.py``, ``coordination.py``) is plain synchronous code over a
:class:`~centrasync.store.sqlcore.Tx`. A backend runs it inside a transaction: either one of
its own (``run``), or the open one of :meth:`SqlStateStore.transaction` (``session``).

**SQLite** keeps one :mod:`sqlite3` connection and runs each whole store call on the
event loop's own thread, with a busy timeout of zero. A store call is a few statements on
a local file (WAL, no fsync per commit); handing it to a worker thread cost more than the
call, and far more under load: the thread waits for the GIL while the loop runs Python, up
to the switch interval per call (docs/performance.md). (Through aiosqlite it was worse
still: a hop per cursor, execute, fetch and commit.)

The loop must not wait for another writer, though: a second process on the same file makes
``BEGIN IMMEDIATE`` wait up to the busy timeout, and its lock holder may need this loop. So
a call that finds the database locked is run again, whole, in the backend's worker thread
with the full busy timeout. Only ``BEGIN IMMEDIATE`` can meet the lock (reads in WAL mode
never wait, and a transaction that began holds the write lock), so nothing ran before the
retry.

**PostgreSQL** runs the same functions in a greenlet (SQLAlchemy's bridge) on connections
of psycopg's own pool: every statement is a network round trip anyway. Pooled connections
are not pinged on checkout: the ping is a round trip of its own on every store call. A
connection the server dropped (a restart, a failover) is found by the call's first
statement instead; nothing of that transaction can have committed, so the call is run
again, once, on a fresh connection, after the pool has checked and discarded its other
idle connections.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any, Protocol, TypeVar

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from centrasync.store.engine import DEFAULT_POOL, DEFAULT_STALL_TIMEOUT, SQLITE_BUSY_TIMEOUT_MS
from centrasync.store.sqlcore import PostgresTx, SqliteTx, Tx, translating

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
    """One SQLite connection, used by one call at a time (the store's lock sees to that).

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
                timeout=0,
                # Inline calls run on the loop's thread, a locked retry on the worker's;
                # never both at once.
                check_same_thread=False,
            )
            if self._wal:
                # In WAL mode NORMAL still survives a killed process (every commit is in
                # the WAL file); only an OS crash or power loss can drop the last commits.
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=0")
            conn.execute("PRAGMA foreign_keys=ON")
            self._conn = conn
        return self._conn

    async def _hop(self, task: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``task`` here and now; if the file is locked, in the thread, waiting."""
        with translating():
            try:
                return task(self._connection())
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc):
                    raise

        def waiting() -> T:
            conn = self._connection()
            conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            try:
                with translating():
                    return task(conn)
            finally:
                conn.execute("PRAGMA busy_timeout=0")

        return await asyncio.get_running_loop().run_in_executor(self._thread, waiting)

    async def open(self) -> None:
        """Connect now, so an in-memory database exists before anything else opens it."""
        await self._hop(lambda conn: None)

    async def run(self, work: Work[T], now: datetime, *, write: bool) -> T:
        def own(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                result = work(SqliteTx(conn, now))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
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


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED, extended codes included."""
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF in (
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    )


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
    """psycopg's own connection pool; each store call runs its statements in a greenlet.

    SQLAlchemy's engine (its URL, and the migrations it runs) stays the store's, but the
    calls bypass its pool and its ``Connection``: their checkout, reset and result
    handling cost the loop about as much CPU as psycopg's own work per transaction
    (docs/performance.md). ``pool_size``: half the most connections the pool opens, as
    calls need them (psycopg closes those beyond one after ten idle minutes);
    ``stall_timeout``: see :func:`~centrasync.store.engine.create_store_engine`.
    ``database_clock``: leases are judged by the server's clock (see
    :meth:`~centrasync.store.sqlcore.Tx.lease_now`); off when a test moves time itself.

    A call that only reads runs in autocommit: under READ COMMITTED each statement sees a
    snapshot of its own anyway, so ``BEGIN`` and ``COMMIT`` would add two round trips
    and no guarantee. A writing call's ``BEGIN`` goes with its first statement.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        database_clock: bool = True,
        pool_size: int = DEFAULT_POOL,
        stall_timeout: float = DEFAULT_STALL_TIMEOUT,
    ) -> None:
        _, connect = engine.dialect.create_connect_args(engine.url)
        # SQLAlchemy's adapters map registers nothing the store's statements use.
        connect.pop("context", None)
        timeout_ms = max(1, round(stall_timeout * 1000))

        async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
            # See engine._configure_postgres: a stalled process must not keep its locks.
            await conn.execute(f"SET idle_in_transaction_session_timeout = {timeout_ms}")
            await conn.commit()

        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
            kwargs=dict(connect),
            # Opened as calls need them, as SQLAlchemy's pool did: every store a test or a
            # process opens would otherwise hold ``pool_size`` connections from the start.
            min_size=1,
            max_size=2 * pool_size,
            open=False,
            configure=configure,
        )
        self._opened = False
        self._database_clock = database_clock

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if not self._opened:
            self._opened = True
            # The pool opens its connections in the background; the first call waits for one.
            await self._pool.open(wait=False)
        return await self._pool.getconn()

    def _tx(
        self, conn: psycopg.AsyncConnection[Any], now: datetime, *, begin: bool = False
    ) -> PostgresTx:
        return PostgresTx(conn, now, database_clock=self._database_clock, begin=begin)

    async def run(self, work: Work[T], now: datetime, *, write: bool) -> T:
        with translating():
            try:
                return await self._run(work, now, write=write, last_try=False)
            except _DroppedConnection:
                # The others of its age went with it (a restart, a failover): drop them too.
                await self._pool.check()
                return await self._run(work, now, write=write, last_try=True)

    async def _run(self, work: Work[T], now: datetime, *, write: bool, last_try: bool) -> T:
        conn = await self._connection()
        try:
            # In autocommit either way: a writing call says BEGIN itself, with its first
            # statement (see PostgresTx).
            if not conn.autocommit:
                await conn.set_autocommit(True)
            tx = self._tx(conn, now, begin=write)
            try:
                result = await greenlet_spawn(work, tx)
            except psycopg.Error as exc:
                # Raised before COMMIT was sent: the transaction certainly did not commit.
                if (conn.broken or _fatal(exc)) and not last_try:
                    raise _DroppedConnection from exc
                raise
            if write and not tx.begin_pending:
                await conn.commit()
            return result
        finally:
            await self._release(conn)

    async def _release(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Hand ``conn`` back to the pool, rolled back if a call left it in a transaction."""
        try:
            if not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
                await conn.rollback()
        finally:
            await self._pool.putconn(conn)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Session]:
        with translating():
            conn = await self._connection()
            try:
                if conn.autocommit:
                    await conn.set_autocommit(False)
                yield _PostgresSession(conn, self)
                await conn.commit()
            finally:
                await self._release(conn)

    async def close(self) -> None:
        """Close the pool; the engine is disposed by its owner."""
        if self._opened:
            await self._pool.close()


def _fatal(exc: psycopg.Error) -> bool:
    """Whether the server ended the session with ``exc`` (the connection is gone with it)."""
    return exc.diag.severity_nonlocalized in ("FATAL", "PANIC")


class _DroppedConnection(Exception):
    """Internal: the server had dropped the pooled connection a call was given."""


class _PostgresSession:
    def __init__(self, conn: psycopg.AsyncConnection[Any], backend: PostgresBackend) -> None:
        self._conn = conn
        self._backend = backend

    async def run(self, work: Work[T], now: datetime) -> T:
        with translating():
            return await greenlet_spawn(work, self._backend._tx(self._conn, now))
