"""Backend set-up: SQLite pragmas, URL handling, errors translated at the boundary."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from centrasync.errors import CentrasyncError, ConfigError, RetryLaterError
from centrasync.store import RecordKind, RecordRef
from centrasync.store.backends import PostgresBackend
from centrasync.store.engine import SQLITE_BUSY_TIMEOUT_MS, create_store_engine
from centrasync.store.sql import SqlStateStore, open_store
from centrasync.store.sqlcore import Tx


async def test_sqlite_file_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite'}")
    assert isinstance(store, SqlStateStore)
    try:
        async with store.engine.connect() as conn:
            journal = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
            foreign_keys = (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one()
            busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one()
        assert (journal, foreign_keys, busy) == ("wal", 1, SQLITE_BUSY_TIMEOUT_MS)
        assert (tmp_path / "state.sqlite-wal").exists()
    finally:
        await store.close()


async def test_sqlite_enforces_the_history_foreign_key(tmp_path: Path) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite'}")
    assert isinstance(store, SqlStateStore)
    try:
        await store.upsert_record(RecordRef("se", RecordKind.ORDER, "1042"))
        async with store.engine.begin() as conn:
            await conn.execute(text("DELETE FROM ledger_records"))
            orphans = (await conn.execute(text("SELECT count(*) FROM ledger_transitions"))).scalar()
        assert orphans == 0, "history goes with its record (ON DELETE CASCADE needs FKs on)"
    finally:
        await store.close()


async def test_in_memory_sqlite_keeps_its_data_across_calls() -> None:
    store = await open_store("sqlite+aiosqlite:///:memory:")
    try:
        await store.upsert_record(RecordRef("se", RecordKind.ARTICLE, "SKU-1"))
        assert await store.get_record(RecordRef("se", RecordKind.ARTICLE, "SKU-1")) is not None
    finally:
        await store.close()


async def test_in_memory_store_and_its_engine_share_one_database() -> None:
    """Diagnostics read through the engine; they must see what the store wrote."""
    store = await open_store("sqlite+aiosqlite:///:memory:")
    other = await open_store("sqlite+aiosqlite:///:memory:")
    assert isinstance(store, SqlStateStore)
    try:
        await store.upsert_record(RecordRef("se", RecordKind.ARTICLE, "SKU-1"))
        async with store.engine.connect() as conn:
            keys = (await conn.execute(text("SELECT key FROM ledger_records"))).scalars().all()
        assert keys == ["SKU-1"]
        assert await other.get_record(RecordRef("se", RecordKind.ARTICLE, "SKU-1")) is None
    finally:
        await store.close()
        await other.close()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///state.sqlite",
        "mysql+aiomysql://u@h/db",
        "postgresql+asyncpg://u@h/db",
        "not a url",
    ],
)
def test_unsupported_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError, match="database_url"):
        create_store_engine(url)


def test_passwords_stay_out_of_errors_and_repr() -> None:
    with pytest.raises(ConfigError) as caught:
        create_store_engine("mysql+aiomysql://user:hunter2@db/x")
    assert "hunter2" not in str(caught.value)

    store = SqlStateStore(create_store_engine("postgresql+psycopg://user:hunter2@db:5432/x"))
    assert "hunter2" not in repr(store)


async def test_unreachable_database_is_a_retry_later_error() -> None:
    with pytest.raises(RetryLaterError) as caught:
        await open_store("postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2")
    assert caught.value.system == "state store"


async def test_a_second_writer_waits_off_the_loop_and_then_writes(tmp_path: Path) -> None:
    """Calls run on the loop's thread; one that finds the file locked waits in the thread.

    The first store holds the write lock in an open transaction; the second store's write
    must neither fail nor stop the event loop, and lands once the first commits.
    """
    url = f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite'}"
    first, second = await open_store(url), await open_store(url)
    held = RecordRef("se", RecordKind.SHIPMENT, "1001-1")
    waiting = RecordRef("se", RecordKind.SHIPMENT, "1002-1")
    try:
        async with first.transaction() as tx:
            await tx.upsert_record(held)
            write = asyncio.create_task(second.upsert_record(waiting))
            ticks = 0
            for _ in range(20):
                await asyncio.sleep(0.01)
                ticks += 1
            assert not write.done(), "the second writer must wait for the lock"
        assert ticks == 20, "the loop kept running while the second writer waited"
        await asyncio.wait_for(write, 5)
        found = await second.get_records([held, waiting])
        assert set(found) == {held, waiting}
    finally:
        await first.close()
        await second.close()


async def test_postgres_calls_carry_on_after_the_server_dropped_every_connection(
    pg_schema_url: Callable[[], str], pg_admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    """A restart or failover closes the pool's connections under it: no call may fail.

    Connections are not pinged before use, so the dropped ones are found by a call's first
    statement, and that call is run again, once, on a fresh connection: it writes once.
    """
    name = f"centrasync-{uuid.uuid4().hex[:8]}"
    store = await open_store(f"{pg_schema_url()}&application_name={name}")
    ref = RecordRef("se", RecordKind.SHIPMENT, "1042-1")
    try:
        await store.upsert_record(ref)
        # Several connections in the pool, all idle, then all dropped by the server.
        await asyncio.gather(*(store.get_record(ref) for _ in range(6)))
        dropped = pg_admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s",
            (name,),
        ).fetchone()
        assert dropped is not None and dropped[0] >= 1

        await store.transition(ref, "sent", note="after the drop")
        records = await asyncio.gather(*(store.get_record(ref) for _ in range(6)))
        assert {r.state for r in records if r is not None} == {"sent"}
        assert [t.to_state for t in await store.history(ref)] == ["new", "sent"]
    finally:
        await store.close()


async def test_postgres_runs_a_call_on_a_dropped_connection_again_once_only(
    pg_schema_url: Callable[[], str],
) -> None:
    """Once is enough for a restart; a connection dropped again is a retry-later error."""
    engine = create_store_engine(pg_schema_url())
    backend = PostgresBackend(engine)
    tries: list[int] = []

    def drop_own_connection(tx: Tx, *, times: int) -> str:
        tries.append(1)
        if len(tries) <= times:
            tx.rows("SELECT pg_terminate_backend(pg_backend_pid())", {})
        return "done"

    try:
        now = datetime.now(UTC)
        assert await backend.run(partial(drop_own_connection, times=1), now, write=True) == "done"
        assert len(tries) == 2

        tries.clear()
        with pytest.raises(RetryLaterError, match="state store unavailable"):
            await backend.run(partial(drop_own_connection, times=2), now, write=True)
        assert len(tries) == 2
    finally:
        await backend.close()
        await engine.dispose()


async def test_postgres_runs_a_writing_call_in_one_transaction(
    pg_schema_url: Callable[[], str],
) -> None:
    """``BEGIN`` travels with a writing call's first statement: the statements after it
    are in the same transaction, and a failure rolls the first one back too."""
    engine = create_store_engine(pg_schema_url())
    backend = PostgresBackend(engine)
    now = datetime.now(UTC)

    def later_than_its_transaction(tx: Tx) -> bool:
        tx.rows("SELECT pg_sleep(0.01)", {})
        [(later,)] = tx.rows("SELECT statement_timestamp() > now()", {})
        return bool(later)

    def half_then_fail(tx: Tx) -> None:
        tx.run("CREATE TABLE halfway (n int)", {})
        tx.run("SELECT 1/0", {})

    try:
        assert await backend.run(later_than_its_transaction, now, write=True)
        assert not await backend.run(later_than_its_transaction, now, write=False)
        with pytest.raises(CentrasyncError, match="division by zero"):
            await backend.run(half_then_fail, now, write=True)
        [(exists,)] = await backend.run(
            lambda tx: tx.rows("SELECT to_regclass('halfway') IS NOT NULL", {}), now, write=False
        )
        assert not exists, "the failed call's first statement was rolled back with it"
    finally:
        await backend.close()
        await engine.dispose()


async def test_postgres_ends_a_writing_call_its_process_left_idle(
    pg_schema_url: Callable[[], str],
) -> None:
    """A process stopped between a writing call's statements holds a transaction the server
    sees as idle, which the stall timeout ends. (In psycopg's pipeline mode it saw one still
    being sent, and a stopped worker kept its lease row locked: issue #23.)"""
    engine = create_store_engine(pg_schema_url())
    backend = PostgresBackend(engine, stall_timeout=0.3)

    def stalls(tx: Tx) -> None:
        tx.run("CREATE TABLE IF NOT EXISTS stalled (n int)", {})
        time.sleep(0.8)  # the whole process stops here, its event loop too
        tx.run("INSERT INTO stalled VALUES (1)", {})

    try:
        with pytest.raises(RetryLaterError, match="idle-in-transaction timeout"):
            await backend.run(stalls, datetime.now(UTC), write=True)
    finally:
        await backend.close()
        await engine.dispose()
