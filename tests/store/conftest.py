"""Store fixtures: every contract test runs on SQLite and on the local PostgreSQL.

PostgreSQL tests each get a fresh schema (selected through libpq's ``options`` in the
URL), dropped afterwards, so tests neither see nor disturb each other. An unreachable
server fails the test with the command that starts it; it is never skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from centrasync.store import StateStore
from centrasync.store.sql import open_store
from fake_clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fresh_url(backend: str, request: pytest.FixtureRequest) -> Callable[[], str]:
    """Make URLs of new, empty databases: in-memory SQLite, or fresh PostgreSQL schemas."""
    if backend == "sqlite":
        return lambda: "sqlite+aiosqlite:///:memory:"
    make: Callable[[], str] = request.getfixturevalue("pg_schema_url")
    return make


@pytest.fixture
def store_url(fresh_url: Callable[[], str]) -> str:
    return fresh_url()


@pytest.fixture
def durable_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL whose data outlives the engine: a SQLite file, or a PostgreSQL schema."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite'}"
    make: Callable[[], str] = request.getfixturevalue("pg_schema_url")
    return make()


@pytest.fixture
async def store(store_url: str, clock: FakeClock) -> AsyncIterator[StateStore]:
    opened = await open_store(store_url, clock=clock)
    try:
        yield opened
    finally:
        await opened.close()
