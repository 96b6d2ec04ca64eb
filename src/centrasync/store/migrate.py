"""Bring a database to the schema this code expects, with Alembic driven from code.

No ``alembic.ini`` is needed at runtime: the configuration is built here and the
migration scripts ship inside the package, so ``open_store`` works from a wheel.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from centrasync.store.engine import create_store_engine
from centrasync.store.sqlcore import translated

__all__ = [
    "MIGRATIONS_DIR",
    "SchemaRevision",
    "alembic_config",
    "current_revision",
    "head_revision",
    "schema_revision",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Any constant works; it only has to be the same in every process migrating one database.
_PG_MIGRATION_LOCK = 0x63656E7472  # "centr"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for our scripts, bound to ``connection`` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration shipped with this code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, ``None`` for an empty one."""
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


@dataclass(frozen=True, slots=True)
class SchemaRevision:
    """Where a database's schema stands against the migrations this code ships.

    ``known``: ``current`` is one of them (an empty database's ``None`` counts); a
    database migrated by a newer version is not.
    """

    current: str | None
    head: str
    known: bool


async def schema_revision(url: str) -> SchemaRevision:
    """Read the schema revision of the database at ``url``, changing nothing."""
    engine = create_store_engine(url)
    try:
        async with translated():
            current = await current_revision(engine)
    finally:
        await engine.dispose()
    scripts = ScriptDirectory.from_config(alembic_config())
    known = current is None or any(s.revision == current for s in scripts.walk_revisions())
    return SchemaRevision(current, head_revision(), known)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply pending migrations in one transaction.

    Two processes starting together must not both create the tables: SQLite's
    ``BEGIN IMMEDIATE`` (see ``sql.py``) already serialises them; PostgreSQL gets an
    advisory lock held until the transaction ends.
    """
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), revision))
