from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog
from hypothesis import HealthCheck, settings

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
