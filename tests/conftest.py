from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any, cast

import psycopg
import pytest
import structlog
from hypothesis import HealthCheck, settings

from centrasync.store.base import Json, RecordRef, StateStore

# pytester runs a test session inside a test: how the suite's own harness fails a test.
pytest_plugins = ["pytester"]

# These machines are shared and noisy: a slow draw says nothing about our code, so the
# timing health check and per-example deadlines are off for every property test.
settings.register_profile("centrasync", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("centrasync")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's proxies or centrasync settings."""
    import os

    for name in list(os.environ):
        if name.startswith(("CENTRASYNC_", "CENTRA_", "ONGOING_")) or name.lower().endswith(
            "_proxy"
        ):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def default_logging() -> Iterator[None]:
    """A command that configured logging (the CLI tests) must not leak it into later tests."""
    yield
    structlog.reset_defaults()


PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def _admin_connection() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            "PostgreSQL is not reachable at 127.0.0.1:5432 (database 'test', user 'postgres', "
            f"trust auth): {exc}\nStart it with:  {PG_START}",
            pytrace=False,
        )


@pytest.fixture
def pg_admin() -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """An autocommit connection to the local server, as its superuser."""
    admin = _admin_connection()
    try:
        yield admin
    finally:
        admin.close()


@pytest.fixture
def pg_schema_url() -> Iterator[Callable[[], str]]:
    """Make fresh PostgreSQL schemas on demand; all are dropped after the test.

    Every test that needs the local server uses this: an unreachable server fails the test
    with the command that starts it; it is never skipped.
    """
    admin = _admin_connection()
    made: list[str] = []

    def make() -> str:
        schema = f"t_{uuid.uuid4().hex[:16]}"
        admin.execute(f'CREATE SCHEMA "{schema}"')
        made.append(schema)
        return f"{PG_URL}?options=-csearch_path%3D{schema}"

    try:
        yield make
    finally:
        for schema in made:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


class KillAtFirstPark:
    """A state store that "kills the process" (raises ``killed``) at the first parking.

    A parked state is never retried by the engine, so a flow must write it in the same
    transaction as the dead letter that tells a person: a flow that moves the record first
    and parks it in a second call leaves, killed in between, a record nobody hears of.
    """

    def __init__(self, inner: StateStore, killed: type[BaseException]) -> None:
        self._inner = inner
        self._killed = killed
        self.armed = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[StateStore]:
        async with self._inner.transaction() as tx:
            inner = KillAtFirstPark(tx, self._killed)
            inner.armed = self.armed
            try:
                yield cast(StateStore, inner)
            finally:
                self.armed = inner.armed

    async def park(self, record: RecordRef, reason: str, payload: Json = None, **kw: Any) -> Any:
        if self.armed:
            self.armed = False
            raise self._killed(f"killed while parking {record}")
        return await self._inner.park(record, reason, payload, **kw)


@pytest.fixture
def kill_at_first_park() -> Callable[[StateStore, type[BaseException]], StateStore]:
    """Wrap a store in :class:`KillAtFirstPark`."""

    def wrap(inner: StateStore, killed: type[BaseException]) -> StateStore:
        return cast(StateStore, KillAtFirstPark(inner, killed))

    return wrap
