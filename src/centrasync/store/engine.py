"""Build the async SQLAlchemy engine for a store URL, tuned per backend.

The engine migrates the database; on SQLite the store's own calls go through a
:mod:`sqlite3` connection of their own (``backends.py``), set up the same way.

SQLite is the embedded default, so it gets the settings a durable single-file store
needs: write-ahead logging (readers never block the writer), a busy timeout instead of
instant "database is locked" errors, enforced foreign keys, and transactions that take
the write lock up front (``BEGIN IMMEDIATE``). Without the last one, Python's sqlite3
driver starts transactions only at the first write, so a read-then-write (acquire a
lease, claim the inbox) would not be atomic.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Connection, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from centrasync.errors import ConfigError, redact

__all__ = [
    "SQLITE_BUSY_TIMEOUT_MS",
    "SqliteFile",
    "StoreLocation",
    "create_store_engine",
    "is_sqlite_memory",
    "locate",
    "sqlite_file",
]

SQLITE_BUSY_TIMEOUT_MS = 10_000


def is_sqlite_memory(url: URL) -> bool:
    """Whether ``url`` names an in-memory SQLite database (one per connection)."""
    database = url.database or ""
    return database in ("", ":memory:") or url.query.get("mode") == "memory"


@dataclass(frozen=True, slots=True)
class SqliteFile:
    """A SQLite database as :func:`sqlite3.connect` opens it, with the engine on the same.

    An in-memory URL becomes a private database of SQLite's ``memdb`` VFS: unlike
    ``:memory:`` it can be opened by several connections (the store's own and the
    engine's, which migrates it), and unlike a shared cache they lock it as they would a
    file.
    """

    target: str
    uri: bool
    memory: bool
    engine: AsyncEngine


def sqlite_file(url: str) -> SqliteFile | None:
    """The SQLite database ``url`` names, or ``None`` when it names another backend."""
    parsed = _parse(url)
    if (parsed.get_backend_name(), parsed.get_driver_name()) != ("sqlite", "aiosqlite"):
        return None
    if is_sqlite_memory(parsed):
        name = f"/centrasync-{uuid.uuid4().hex}"
        engine = create_async_engine(
            f"sqlite+aiosqlite:///file:{name}?vfs=memdb&uri=true", poolclass=StaticPool
        )
        _configure_sqlite(engine, wal=False)
        return SqliteFile(f"file:{name}?vfs=memdb", True, True, engine)
    engine = create_store_engine(url)
    database = parsed.database or ""
    if parsed.query.get("uri") in ("true", "1"):
        options = {k: v for k, v in parsed.query.items() if k != "uri"}
        return SqliteFile(f"{database}?{urlencode(options, doseq=True)}", True, False, engine)
    return SqliteFile(database, False, False, engine)


@dataclass(frozen=True, slots=True)
class StoreLocation:
    """Where a database URL points, worked out without connecting.

    ``missing_file``: the SQLite file the URL names when there is none, which opening the
    store would create; an operator's read-only command reports it instead.
    """

    shown: str
    """The URL with its password masked."""
    password: str | None
    missing_file: Path | None


DEFAULT_POOL = 20
"""PostgreSQL connections a process keeps open by default (``[engine] database_pool``)."""
DEFAULT_STALL_TIMEOUT = 15.0
"""Seconds a PostgreSQL transaction may sit idle by default: the default lease time."""


def locate(url: str) -> StoreLocation:
    """Read ``url``; a :class:`ConfigError` naming it when it is no database URL."""
    parsed = _parse(url)
    missing: Path | None = None
    if parsed.get_backend_name() == "sqlite" and not is_sqlite_memory(parsed):
        path = Path(parsed.database or "")
        missing = None if path.exists() else path
    return StoreLocation(parsed.render_as_string(hide_password=True), parsed.password, missing)


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"database_url: not a database URL: {redact(url)!r}") from exc


def create_store_engine(
    url: str, *, pool_size: int = DEFAULT_POOL, stall_timeout: float = DEFAULT_STALL_TIMEOUT
) -> AsyncEngine:
    """An engine for ``sqlite+aiosqlite://…`` or ``postgresql+psycopg://…``.

    Anything else is a configuration error naming the (password-masked) URL. ``pool_size``:
    PostgreSQL connections kept open; as many again are opened at a peak and closed after.
    ``stall_timeout``: seconds a PostgreSQL transaction may sit idle before the server ends
    it (see :func:`_configure_postgres`).
    """
    parsed = _parse(url)
    shown = parsed.render_as_string(hide_password=True)
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "sqlite" and driver == "aiosqlite":
        memory = is_sqlite_memory(parsed)
        # An in-memory database lives and dies with its connection: share exactly one.
        engine = (
            create_async_engine(parsed, poolclass=StaticPool)
            if memory
            else create_async_engine(parsed)
        )
        _configure_sqlite(engine, wal=not memory)
        return engine
    if backend == "postgresql" and driver == "psycopg":
        # A store's passes make up to ``[engine] concurrency`` store calls at once, more
        # stores and the webhook app more: behind SQLAlchemy's default pool of five, every
        # call beyond it opened and closed a connection of its own. No ping on checkout:
        # see backends.py for how a dropped connection is handled.
        engine = create_async_engine(parsed, pool_size=pool_size, max_overflow=pool_size)
        _configure_postgres(engine, stall_timeout=stall_timeout)
        return engine
    raise ConfigError(
        f"database_url: unsupported database {shown!r}; use sqlite+aiosqlite:///path.sqlite "
        "or postgresql+psycopg://host:5432/db"
    )


def _configure_postgres(engine: AsyncEngine, *, stall_timeout: float) -> None:
    """End a transaction left idle by a process that stalled inside it.

    The store's transactions hold no remote call and last milliseconds. A process stopped
    in the middle of one (paused, frozen) would keep its row locks for as long as it stays
    stopped, the share lock on its lease row among them, so nobody could take its work
    over. The server ends such a transaction after ``stall_timeout``; the stalled process
    finds its connection gone when it resumes, and its lease taken.
    """
    timeout_ms = max(1, round(stall_timeout * 1000))

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET idle_in_transaction_session_timeout = {timeout_ms}")
        dbapi_connection.commit()


def _configure_sqlite(engine: AsyncEngine, *, wal: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver; ``_on_begin`` issues BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
                # In WAL mode NORMAL still survives a killed process (the engine's failure
                # model: every commit is in the WAL file); only an OS crash or power loss
                # can drop the last commits. FULL would fsync on every effect record.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
