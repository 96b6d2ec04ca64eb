"""Alembic environment: run the scripts on the connection ``migrate.upgrade`` hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from centrasync.errors import ConfigError
from centrasync.store.schema import metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise ConfigError(
            "centrasync migrations run through centrasync.store.migrate.upgrade, "
            "which passes an open connection; offline SQL generation is not supported"
        )
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables for later revisions.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
