"""Migrations equal schema: ``upgrade head`` on an empty database builds ``schema.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from centrasync.store import migrate
from centrasync.store.engine import create_store_engine
from centrasync.store.schema import metadata
from centrasync.store.sql import open_store


def _snapshot(conn: Connection) -> dict[str, Any]:
    """Everything inspection reports about our tables, in comparable form."""
    inspector = inspect(conn)
    tables: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version":
            continue
        tables[table] = {
            "columns": [
                (c["name"], c["type"].compile(dialect=conn.dialect), c["nullable"])
                for c in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    fk["options"].get("ondelete"),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (i["name"], tuple(c or "" for c in i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            "unique": sorted(
                (u["name"], tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
        }
    return tables


def _autogenerate_diff(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(
        conn, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


async def test_upgrade_head_has_no_autogenerate_diff(fresh_url: Callable[[], str]) -> None:
    engine = create_store_engine(fresh_url())
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            assert await conn.run_sync(_autogenerate_diff) == []
    finally:
        await engine.dispose()


async def test_upgrade_head_builds_what_create_all_builds(fresh_url: Callable[[], str]) -> None:
    migrated, created = create_store_engine(fresh_url()), create_store_engine(fresh_url())
    try:
        await migrate.upgrade(migrated)
        async with created.begin() as conn:
            await conn.run_sync(metadata.create_all)
        async with migrated.connect() as conn:
            from_migrations = await conn.run_sync(_snapshot)
        async with created.connect() as conn:
            from_schema = await conn.run_sync(_snapshot)
    finally:
        await migrated.dispose()
        await created.dispose()

    assert set(from_schema) == {t.name for t in metadata.sorted_tables}
    assert from_migrations == from_schema


async def test_reopening_a_migrated_database_keeps_it_at_head(durable_url: str) -> None:
    for _ in range(2):
        opened = await open_store(durable_url)
        await opened.close()
    engine = create_store_engine(durable_url)
    try:
        assert await migrate.current_revision(engine) == migrate.head_revision()
    finally:
        await engine.dispose()


async def test_downgrade_to_base_removes_every_table(fresh_url: Callable[[], str]) -> None:
    engine = create_store_engine(fresh_url())
    try:
        await migrate.upgrade(engine)
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(migrate.alembic_config(c), "base"))
        async with engine.connect() as conn:
            remaining = await conn.run_sync(lambda c: inspect(c).get_table_names())
        assert remaining == ["alembic_version"]
        assert await migrate.current_revision(engine) is None
    finally:
        await engine.dispose()
