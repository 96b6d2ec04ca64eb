from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
import structlog
from hypothesis import HealthCheck, settings

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
