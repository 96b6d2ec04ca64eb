"""Fixtures of the engine tests: fresh PostgreSQL schemas on the local server.

The same server the store tests use (127.0.0.1:5432, database ``test``, trust auth). A
test that asks for PostgreSQL and cannot reach it fails with the command that starts the
server; it is never skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


@pytest.fixture
def pg_url() -> Iterator[Callable[[], str]]:
    """Make URLs of fresh, empty PostgreSQL schemas; all are dropped after the test."""
    try:
        admin = psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at 127.0.0.1:5432 (database 'test'): {exc}\n"
            f"Start it with:  {PG_START}",
            pytrace=False,
        )
    made: list[str] = []

    def make() -> str:
        schema = f"e2e_{uuid.uuid4().hex[:16]}"
        admin.execute(f'CREATE SCHEMA "{schema}"')
        made.append(schema)
        return f"{PG_URL}?options=-csearch_path%3D{schema}"

    try:
        yield make
    finally:
        for schema in made:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()
